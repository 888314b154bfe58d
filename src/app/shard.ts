/**
 * One shard of a sharded bot: started by the shard manager (./shard-manager.ts) through discord.js'
 * ShardingManager, never by hand. It loads the index the manager built, read-only, logs in as its
 * shard and answers the guilds Discord routes to it. It loads the index again when the manager
 * announces an update, and forwards /add to the manager. SIGTERM/SIGINT: no new questions, answers in
 * progress finish, then it disconnects and exits 0, also when that comes during its login; so does it
 * when the manager is gone (one already gone when it starts: it exits 1 at once). A login that
 * Discord refuses (token, intents, shard) is reported to the manager, and the process exits with
 * SHARD_EXIT_FATAL so that it is not restarted.
 */
import { BotLoginError, createBot, loginBot, stopBot } from '../discord/bot.js';
import { InFlight } from '../discord/in-flight.js';
import { connectToManager } from '../discord/manager-link.js';
import { SHARD_EXIT_FATAL } from '../discord/shard-protocol.js';
import { configFromEnvironment, runMain, UsageError } from './cli.js';
import { onShutdownSignal, stopOnce } from './lifecycle.js';
import { createLogger } from './logger.js';
import { ReadOnlyLibrary } from './read-only-library.js';

async function main(): Promise<void> {
  // Until the bot runs there is nothing to finish: stopping is exiting.
  let stop: (reason: string) => void = () => process.exit(0);
  onShutdownSignal((signal) => stop(`received ${signal}`));
  // First, so that an index update announced while this shard loads is not missed. It throws when the
  // manager is already gone (died while this process started): a shard without one must not log in.
  const link = connectToManager();
  link.onDisconnect(() => stop('the shard manager is gone'));

  const config = configFromEnvironment();
  const { shard } = config;
  const token = config.discord.token;
  if (!shard || !token) throw new UsageError('app/shard is one shard of `npm start` with SHARDS set; start citebot with `npm start`.');
  const logger = createLogger(config.logLevel).child({ shard: shard.id });

  const library = await ReadOnlyLibrary.open(config, {
    warn: (message) => logger.warn(message),
    onSwap: ({ index: { summary } }) =>
      logger.info(
        { event: 'index-reloaded', articles: summary.articleCount, passages: summary.passageCount, version: summary.version },
        'loaded the updated index',
      ),
  });
  const { summary } = library.current.index;
  logger.info(
    { event: 'index', articles: summary.articleCount, passages: summary.passageCount, version: library.version },
    `index loaded: ${summary.articleCount} articles, ${summary.passageCount} passages`,
  );
  link.onIndexUpdated(() => void library.reload());

  const work = new InFlight();
  const client = createBot({
    library: () => library.current,
    addLinks: async (links) => {
      const outcomes = await link.addLinks(links);
      // The manager announced the update before it answered; have it loaded before saying "added".
      await library.reload();
      return outcomes;
    },
    config,
    logger,
    work,
    clientOptions: {
      shards: shard.id,
      shardCount: shard.count,
      ...(config.discord.apiUrl ? { rest: { api: config.discord.apiUrl } } : {}),
    },
  });
  const stopping = stopOnce(logger, () => stopBot(client, work, logger));
  stop = (reason) => stopping.stop({ event: 'signal', reason }, `stopping: ${reason}`);

  try {
    await loginBot(client, token);
  } catch (error) {
    // Stopped during login (SIGTERM, or the manager gone): the client destroyed under it is why the login
    // failed, and `stop` exits 0 once it is done; a failure here would race it and exit 1.
    if (stopping.started) return;
    await client.destroy();
    if (error instanceof BotLoginError && !error.retryable) {
      logger.error({ event: 'login-refused', reason: error.message }, error.message);
      await link.reportFatal(error.message);
      process.exit(SHARD_EXIT_FATAL);
    }
    throw error;
  }
}

runMain(main, { exitOnFailure: true });
