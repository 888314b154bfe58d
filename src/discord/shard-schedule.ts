/**
 * When shard processes may start. Discord lets a bot identify `max_concurrency` shards per 5 seconds,
 * shard `id` in bucket `id % max_concurrency`; a shard that crashes over and over must not be restarted
 * in a tight loop. Both rules are plain arithmetic on times, kept apart from the processes they pace.
 */

/** Between two starts in one bucket: Discord's 5 s, with discord.js' own margin (its spawn delay is 5.5 s). */
export const IDENTIFY_INTERVAL_MS = 5_500;

export interface BackoffSettings {
  /** Wait before the first restart after a crash. */
  minMs: number;
  /** The longest wait, however often it crashed. */
  maxMs: number;
  /** A shard that ran this long before it died counts as healthy again: its next restart waits `minMs`. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffSettings = { minMs: 1_000, maxMs: 60_000, stableMs: 60_000 };

/** How long to wait before restarting one shard: doubling with each crash in a row, from `minMs` to `maxMs`. */
export class RespawnBackoff {
  readonly #settings: BackoffSettings;
  #startedAt = 0;
  #crashes = 0;

  constructor(settings: BackoffSettings = DEFAULT_BACKOFF) {
    this.#settings = settings;
  }

  /** The shard's process started at `now`. */
  started(now: number): void {
    this.#startedAt = now;
  }

  /** The shard's process died at `now`: milliseconds to wait before starting it again. */
  died(now: number): number {
    if (now - this.#startedAt >= this.#settings.stableMs) this.#crashes = 0;
    this.#crashes += 1;
    return Math.min(this.#settings.maxMs, this.#settings.minMs * 2 ** (this.#crashes - 1));
  }
}

/**
 * Starts shards one bucket at a time: a start waits until the previous start in its bucket has finished
 * (its shard identified, or gave up) and `intervalMs` has passed since that start began, as discord.js'
 * ShardingManager.spawn does for all shards. Buckets run side by side.
 */
export class IdentifyQueue {
  readonly #tails = new Map<number, Promise<void>>();

  constructor(
    readonly maxConcurrency: number,
    readonly intervalMs: number = IDENTIFY_INTERVAL_MS,
    readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
  ) {}

  bucketOf(shardId: number): number {
    return shardId % Math.max(1, this.maxConcurrency);
  }

  /** Runs `start` in its turn; resolves once it has finished and the bucket's interval has passed. `start`'s failure is its own. */
  run(shardId: number, start: () => Promise<unknown>): Promise<void> {
    const bucket = this.bucketOf(shardId);
    const previous = this.#tails.get(bucket) ?? Promise.resolve();
    const mine = previous.then(async () => {
      await Promise.all([start().catch(() => undefined), this.sleep(this.intervalMs)]);
    });
    this.#tails.set(bucket, mine);
    return mine;
  }
}
