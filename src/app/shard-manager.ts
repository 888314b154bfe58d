/**
 * `npm start` with SHARDS and a token: the shard manager. It answers no question itself; it owns every
 * write, and the shard processes (./shard.ts) answer.
 *
 * 1. GET /gateway/bot, before anything else: a rejected token stops here, and SHARDS=auto takes the
 *    count Discord recommends, at most MAX_SHARDS (with a warning when it recommends more).
 * 2. Builds or updates the index once, then keeps it current: the seeds watcher, the feed polls and
 *    every /add run here, in the one LiveLibrary, so no two processes ever write the index.
 * 3. Starts one process per shard through discord.js' ShardingManager (../discord/shard-fleet.ts): a
 *    shard that dies is restarted with a growing delay; one Discord refuses stops everything, exit 1.
 * 4. SIGINT/SIGTERM: every shard stops taking questions, finishes its answers and exits; then this
 *    process exits 0 (1 if a shard did not exit cleanly).
 *
 * Index updates reach the shards as an IPC broadcast on the ShardingManager's channel, after the
 * manifest has been replaced: the manager is the only one that knows when an update is complete, it
 * costs nothing while nothing changes, and it lets an /add answer wait until its shard has the page.
 * (Each shard watching the manifest would mean a watcher per shard and guessing when a write is done.)
 * A shard that was down when an update was announced loads the current index when it starts again.
 */
import path from 'node:path';
import { fetchGatewayInfo } from '../discord/gateway-info.js';
import { BotLoginError } from '../discord/bot.js';
import { ShardFleet } from '../discord/shard-fleet.js';
import type { ShardMessage } from '../discord/shard-protocol.js';
import { describeError } from './cli.js';
import { MAX_SHARDS, shardCountFor, type Config } from './config.js';
import { describeIndex, onShutdownSignal, startLiveLibrary } from './lifecycle.js';
import type { LiveLibrary } from './live-library.js';
import { createLogger, type Logger } from './logger.js';
import { PROJECT_ROOT } from './paths.js';
import { openRuntime } from './runtime.js';

/** Each shard process runs the shard entry point the way every command runs: bin/run.mjs picks dist/ or the sources. */
const SHARD_SCRIPT = path.join(PROJECT_ROOT, 'bin', 'run.mjs');
const SHARD_COMMAND = 'app/shard';

export async function runShardManager(config: Config, token: string, shards: 'auto' | number): Promise<void> {
  const logger = createLogger(config.logLevel).child({ role: 'manager' });
  // A signal during start-up (the gateway lookup, the index build) ends start-up; nothing runs yet to stop.
  let signalled: (signal: NodeJS.Signals) => void = () => process.exit(0);
  onShutdownSignal((signal) => signalled(signal));

  const gateway = await fetchGatewayInfo(token, { api: config.discord.apiUrl });
  const { count, capped } = shardCountFor(shards, gateway.shards);
  logger.info(
    { event: 'shards', shards: count, recommended: gateway.shards, maxConcurrency: gateway.maxConcurrency },
    `running ${count} shard${count === 1 ? '' : 's'} (Discord recommends ${gateway.shards})`,
  );
  if (capped) {
    logger.warn(
      { event: 'shards', shards: count, recommended: gateway.shards, max: MAX_SHARDS },
      `SHARDS=auto: Discord recommends ${gateway.shards} shards, more than the ${MAX_SHARDS} processes citebot runs on one machine; running ${MAX_SHARDS}. Discord refuses a shard that would hold more than 2,500 servers (close 4011)`,
    );
  } else if (count < gateway.shards) {
    logger.warn(
      { event: 'shards', shards: count, recommended: gateway.shards },
      `Discord recommends ${gateway.shards} shards for this bot and may refuse ${count} (close 4011); SHARDS=auto uses its count`,
    );
  }
  if (gateway.remainingSessions < count) {
    logger.warn(
      { event: 'shards', remainingSessions: gateway.remainingSessions, resetAfterMs: gateway.resetAfterMs },
      `Discord allows ${gateway.remainingSessions} more sessions in the next ${Math.ceil(gateway.resetAfterMs / 60_000)} minutes; some shards will wait`,
    );
  }

  const runtime = await openRuntime(config, { warn: (message) => logger.warn(message) });
  logger.info(
    { event: 'index', articles: runtime.index.summary.articleCount, passages: runtime.index.summary.passageCount, mode: runtime.mode },
    `index ready: ${describeIndex(runtime)}`,
  );

  const fleet = new ShardFleet({
    script: SHARD_SCRIPT,
    args: [SHARD_COMMAND],
    token,
    count,
    maxConcurrency: gateway.maxConcurrency,
    logger,
    onMessage: (shardId, message) => addForShard(live, fleet, logger, shardId, message),
  });
  const live: LiveLibrary = startLiveLibrary(
    config,
    runtime,
    { warn: (message) => logger.warn(message), info: (message, details) => logger.info(details, message) },
    (state) => void fleet.broadcast({ citebot: 'index-updated', version: state.index.summary.version }),
  );
  fleet.start();

  const stopped = new Promise<NodeJS.Signals>((resolve) => (signalled = resolve));
  let outcome: NodeJS.Signals | Error;
  try {
    outcome = await Promise.race([stopped, fleet.fatal]);
  } catch (error) {
    outcome = error as Error;
  }
  if (typeof outcome === 'string') logger.info({ event: 'signal', signal: outcome }, `received ${outcome}; stopping every shard`);
  const clean = await fleet.stop();
  await live.close();
  if (outcome instanceof Error) throw new BotLoginError(outcome.message, { cause: outcome });
  logger.info({ event: 'stopped', clean }, clean ? 'every shard stopped' : 'a shard did not stop cleanly');
  process.exit(clean ? 0 : 1);
}

/** A shard's /add: run here, the one writer, and the outcomes sent back to that shard. */
function addForShard(
  live: LiveLibrary,
  fleet: ShardFleet,
  logger: Logger,
  shardId: number,
  message: Extract<ShardMessage, { citebot: 'add' }>,
): void {
  const { request } = message;
  live
    .addLinks(message.links)
    .then(
      (outcomes) => fleet.send(shardId, { citebot: 'added', request, outcomes }),
      (error: unknown) => fleet.send(shardId, { citebot: 'add-failed', request, reason: describeError(error, { stack: false }) }),
    )
    .catch((error: unknown) =>
      logger.warn(
        { event: 'add-answer-lost', shard: shardId, err: { message: (error as Error).message } },
        'could not send /add outcomes to the shard',
      ),
    );
}
