/**
 * `npm start`: loads .env, validates the configuration once, builds or updates the index when it is
 * missing or stale, and logs in to Discord. Without DISCORD_TOKEN it says how to get one and opens a
 * terminal chat on the same pipeline instead. SIGINT/SIGTERM: no new questions, answers in progress
 * finish, then the client disconnects and the process exits 0. With SHARDS set (and a token), this
 * process is the shard manager instead (./shard-manager.ts), and the bot runs in one process per shard.
 */
import { answerQuestion } from '../retrieval/answer.js';
import { configFromEnvironment, embedProgress, runMain, warn } from './cli.js';
import type { Config } from './config.js';
import { createBot, loginBot, stopBot } from '../discord/bot.js';
import { InFlight } from '../discord/in-flight.js';
import { createLogger } from './logger.js';
import { openRuntime } from './runtime.js';
import { runTerminalChat } from './terminal-chat.js';
import { describeIndex, onShutdownSignal, startLiveLibrary, stopOnce } from './lifecycle.js';

const NO_TOKEN_HELP = [
  'No DISCORD_TOKEN, so citebot opens a terminal chat. For Discord: Discord Developer Portal (https://discord.com/developers/applications) → New Application → Bot → Reset Token, and on the same page enable "Message Content Intent".',
  'Put the token in .env as DISCORD_TOKEN=... (copy .env.example to .env, see "On Discord" in README.md), run `npm run deploy-commands` once, then `npm start` again.',
];

async function chatInTerminal(config: Config): Promise<void> {
  process.stderr.write(`${NO_TOKEN_HELP.join('\n')}\n`);
  const progress = embedProgress('indexing');
  const runtime = await openRuntime(config, { warn, onEmbedProgress: progress.onProgress });
  progress.stop();
  const live = startLiveLibrary(config, runtime, { warn, info: (message) => void process.stderr.write(`(${message})\n`) });
  const stop = new AbortController();
  onShutdownSignal(() => stop.abort());
  await runTerminalChat({
    input: process.stdin,
    output: process.stdout,
    color: Boolean(process.stdout.isTTY),
    greeting: `Ask about the indexed news (${describeIndex(runtime)}). Type exit or press Ctrl-D to quit.`,
    signal: stop.signal,
    answer: (question) => {
      const { index, embedder, notice } = live.current;
      return answerQuestion(question, { index, embedder, k: 3, notice });
    },
  }).finally(() => live.close());
}

async function runBot(config: Config, token: string): Promise<void> {
  const logger = createLogger(config.logLevel);
  const runtime = await openRuntime(config, { warn: (message) => logger.warn(message) });
  logger.info(
    { event: 'index', articles: runtime.index.summary.articleCount, passages: runtime.index.summary.passageCount, mode: runtime.mode },
    `index ready: ${describeIndex(runtime)}`,
  );

  const live = startLiveLibrary(config, runtime, {
    warn: (message) => logger.warn(message),
    info: (message, details) => logger.info(details, message),
  });
  const work = new InFlight();
  const client = createBot({
    library: () => live.current,
    addLinks: (links) => live.addLinks(links),
    config,
    logger,
    work,
    ...(config.discord.apiUrl ? { clientOptions: { rest: { api: config.discord.apiUrl } } } : {}),
  });
  const stopping = stopOnce(logger, () => Promise.all([stopBot(client, work, logger), live.close()]));
  onShutdownSignal((signal) => stopping.stop({ event: 'signal', signal }, `received ${signal}`));
  try {
    await loginBot(client, token);
  } catch (error) {
    await client.destroy();
    throw error;
  }
}

async function main(): Promise<void> {
  const config = configFromEnvironment();
  if (config.discord.token && config.shards !== undefined) {
    // Loaded only when asked for: the single-process path does not pay for it.
    const { runShardManager } = await import('./shard-manager.js');
    await runShardManager(config, config.discord.token, config.shards);
  } else if (config.discord.token) {
    await runBot(config, config.discord.token);
  } else {
    if (config.shards !== undefined)
      process.stderr.write('(SHARDS is ignored without DISCORD_TOKEN: the terminal chat runs in one process.)\n');
    await chatInTerminal(config);
  }
}

runMain(main, { exitOnFailure: true });
