/**
 * How much one user and one channel may ask: a sliding-window count per user (a cooldown) and per
 * channel, on an injected clock so it is pure and testable. Only questions count; buttons that show
 * what is already known (Context, paging, feedback) do not.
 */

export interface WindowLimit {
  /** Questions allowed within the window. */
  limit: number;
  windowMs: number;
}

export interface RateLimitSettings {
  user: WindowLimit;
  channel: WindowLimit;
}

/** One question every 5 s per user; 10 questions every 30 s per channel. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  user: { limit: 1, windowMs: 5_000 },
  channel: { limit: 10, windowMs: 30_000 },
};

export type RateDecision =
  | { ok: true }
  | {
      ok: false;
      scope: 'user' | 'channel';
      /** When the next question would be accepted. */
      retryAfterMs: number;
      /**
       * True for the first refusal of this user (or channel) in the current wait. Message replies are
       * only sent then, so that flooding the bot never makes it flood the channel in return.
       */
      firstRefusal: boolean;
    };

interface Bucket {
  /** Times of accepted questions inside the window, oldest first. */
  times: number[];
  /** Refusals before this time have already been told. */
  toldUntil: number;
}

/** Above this many tracked keys, idle ones are swept so memory stays bounded. */
const SWEEP_THRESHOLD = 10_000;

export class RateLimiter {
  readonly #settings: RateLimitSettings;
  readonly #now: () => number;
  readonly #users = new Map<string, Bucket>();
  readonly #channels = new Map<string, Bucket>();

  constructor(settings: RateLimitSettings = DEFAULT_RATE_LIMITS, now: () => number = Date.now) {
    for (const [scope, limit] of Object.entries(settings)) {
      if (!Number.isInteger(limit.limit) || limit.limit < 1 || !(limit.windowMs > 0)) {
        throw new RangeError(`Rate limit for ${scope} needs a whole limit ≥ 1 and a positive window.`);
      }
    }
    this.#settings = settings;
    this.#now = now;
  }

  /** Counts a question from `userId` in `channelId` if both are under their limits. */
  take(userId: string, channelId: string): RateDecision {
    const now = this.#now();
    const user = this.#bucket(this.#users, userId, this.#settings.user, now);
    const channel = this.#bucket(this.#channels, channelId, this.#settings.channel, now);
    const userWait = waitFor(user, this.#settings.user, now);
    const channelWait = waitFor(channel, this.#settings.channel, now);
    if (userWait > 0 || channelWait > 0) {
      const scope = userWait > 0 ? 'user' : 'channel';
      const bucket = scope === 'user' ? user : channel;
      const retryAfterMs = Math.max(userWait, channelWait);
      const firstRefusal = now >= bucket.toldUntil;
      if (firstRefusal) bucket.toldUntil = now + retryAfterMs;
      return { ok: false, scope, retryAfterMs, firstRefusal };
    }
    user.times.push(now);
    channel.times.push(now);
    return { ok: true };
  }

  /** Number of users and channels currently tracked (for tests and metrics). */
  get size(): { users: number; channels: number } {
    return { users: this.#users.size, channels: this.#channels.size };
  }

  #bucket(map: Map<string, Bucket>, key: string, limit: WindowLimit, now: number): Bucket {
    if (map.size > SWEEP_THRESHOLD) sweep(map, limit, now);
    let bucket = map.get(key);
    if (!bucket) {
      bucket = { times: [], toldUntil: 0 };
      map.set(key, bucket);
    }
    prune(bucket, limit, now);
    return bucket;
  }
}

function prune(bucket: Bucket, limit: WindowLimit, now: number): void {
  let expired = 0;
  while (expired < bucket.times.length && bucket.times[expired]! <= now - limit.windowMs) expired += 1;
  if (expired > 0) bucket.times.splice(0, expired);
}

function waitFor(bucket: Bucket, limit: WindowLimit, now: number): number {
  if (bucket.times.length < limit.limit) return 0;
  // The oldest question that still counts must leave the window first.
  const oldest = bucket.times[bucket.times.length - limit.limit]!;
  return Math.max(1, oldest + limit.windowMs - now);
}

function sweep(map: Map<string, Bucket>, limit: WindowLimit, now: number): void {
  for (const [key, bucket] of map) {
    prune(bucket, limit, now);
    if (bucket.times.length === 0 && bucket.toldUntil <= now) map.delete(key);
  }
}

/** The sentence a refused user reads. */
export function describeRefusal(decision: Extract<RateDecision, { ok: false }>): string {
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  const wait = `${seconds} second${seconds === 1 ? '' : 's'}`;
  return decision.scope === 'user'
    ? `You're asking faster than I can keep up with. Please wait ${wait} before your next question.`
    : `This channel is asking a lot of questions right now. Please try again in ${wait}.`;
}
