/** The bounded, expiring memory of recent answers that the "More" and vote buttons refer to. */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Vote } from '../eval/feedback.js';
import type { Answer } from '../retrieval/answer.js';
import type { ArticleFilter } from '../retrieval/filters.js';
import type { EarlierQuestion } from '../retrieval/question-terms.js';

export interface AnswerState {
  question: string;
  /** Results asked for per page. */
  pageSize: number;
  /** Passage ids of every result shown so far, across pages. */
  shown: string[];
  mode: Answer['mode'];
  answered: boolean;
  top: { file: string; paragraph: number; quote: string } | null;
  /** Votes already recorded, by hashed user. */
  votes: Map<string, Vote>;
  /** The questions it followed, as asked: a follow-up to this answer carries them on, and More asks alike. */
  earlier?: readonly EarlierQuestion[];
  /** The outlet and date filter it was asked with (/ask), kept for More. */
  filter?: ArticleFilter;
  /** Where it was posted, so that the next question in a thread or DM can follow it. */
  channelId?: string | null;
  /** When it was posted (milliseconds since the epoch, by the memory's clock). */
  answeredAt?: number;
}

export interface MemoryOptions {
  capacity?: number;
  ttlMs?: number;
  clock?: () => number;
}

/**
 * Recent answers keyed by short random ids: least recently used ones go first past `capacity`, and each
 * expires `ttlMs` after it was stored (recalling it refreshes its place, not its age).
 */
export class AnswerMemory {
  readonly #entries: LRUCache<string, AnswerState>;
  /** Per channel, the key of the latest answer posted there. */
  readonly #latest: LRUCache<string, string>;
  readonly #clock: () => number;

  constructor(options: MemoryOptions = {}) {
    const clock = options.clock ?? Date.now;
    this.#clock = clock;
    if (options.ttlMs !== undefined && !(options.ttlMs > 0)) throw new RangeError('ttlMs must be a positive number of milliseconds');
    this.#entries = new LRUCache<string, AnswerState>({
      max: options.capacity ?? 2_000,
      ttl: options.ttlMs ?? 24 * 60 * 60 * 1000,
      // Expiry reads the injected clock, so tests can move time; entries are checked when recalled.
      perf: { now: clock },
      ttlAutopurge: false,
      // Read the clock on every check rather than caching it for a millisecond behind a timer.
      ttlResolution: 0,
    });
    this.#latest = new LRUCache<string, string>({ max: options.capacity ?? 2_000 });
  }

  remember(state: AnswerState): string {
    let key = randomBytes(6).toString('base64url');
    while (this.#entries.has(key)) key = randomBytes(6).toString('base64url');
    const stamped = { ...state, answeredAt: state.answeredAt ?? this.#clock() };
    this.#entries.set(key, stamped);
    if (stamped.channelId) this.#latest.set(stamped.channelId, key);
    return key;
  }

  /** The latest answer posted in a channel, when it is at most `withinMs` old and still remembered. */
  latestIn(channelId: string, withinMs: number): AnswerState | undefined {
    const key = this.#latest.get(channelId);
    const state = key === undefined ? undefined : this.#entries.get(key);
    if (!state || this.#clock() - (state.answeredAt ?? 0) > withinMs) return undefined;
    return state;
  }

  recall(key: string): AnswerState | undefined {
    return this.#entries.get(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
