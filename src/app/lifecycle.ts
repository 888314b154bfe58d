/**
 * What the long-running entry points share (`npm start` in one process, the shard manager, a shard):
 * stopping on a signal, the live index they keep current, and how they describe the index in the log.
 */
import type { Config } from './config.js';
import { LiveLibrary, type LiveLibraryOptions } from './live-library.js';
import type { Logger } from './logger.js';
import type { Runtime } from './runtime.js';

/** Calls `handler` on the first SIGINT or SIGTERM; a second one of the same kind ends the process as usual. */
export function onShutdownSignal(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, handler);
}

/**
 * A stop that runs once: the first `stop` logs why and runs `work` (no new questions, answers in flight
 * finished, the client gone), then exits 0, or 1 with the error logged; later calls are ignored.
 */
export function stopOnce(
  logger: Logger,
  work: () => Promise<unknown>,
): { stop: (details: Record<string, unknown>, message: string) => void; readonly started: boolean } {
  let started = false;
  return {
    get started() {
      return started;
    },
    stop(details, message) {
      if (started) return;
      started = true;
      logger.info(details, message);
      work().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'could not stop cleanly');
          process.exit(1);
        },
      );
    },
  };
}

/** How often a process answering from Postgres checks whether another one changed the index (one cheap query). */
const FOLLOW_INTERVAL_MS = 5_000;

export function describeIndex(runtime: Pick<Runtime, 'index' | 'mode'>): string {
  const { summary } = runtime.index;
  return `${summary.articleCount} articles, ${summary.passageCount} passages, ${runtime.mode} retrieval`;
}

/** The index kept current while citebot runs: the seeds folder watched (WATCH_SEEDS), the feeds polled (FEEDS). */
export function startLiveLibrary(
  config: Config,
  runtime: Runtime,
  log: { warn: (message: string) => void; info: (message: string, details: Record<string, unknown>) => void },
  onSwap?: LiveLibraryOptions['onSwap'],
): LiveLibrary {
  const live = new LiveLibrary({ config, runtime, warn: log.warn, info: log.info, ...(onSwap ? { onSwap } : {}) });
  if (config.watchSeeds) void live.watchSeeds();
  live.pollFeedsPeriodically();
  // Other processes may write the same database (another bot, `npm run index`): their updates are followed.
  if (config.indexStore.kind === 'postgres') live.followPeriodically(FOLLOW_INTERVAL_MS);
  return live;
}
