/** The bounded, expiring memory of recent answers that the "More" and vote buttons refer to. */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Vote } from '../eval/feedback.js';
import type { Answer } from '../retrieval/answer.js';

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

  constructor(options: MemoryOptions = {}) {
    const clock = options.clock ?? Date.now;
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
  }

  remember(state: AnswerState): string {
    let key = randomBytes(6).toString('base64url');
    while (this.#entries.has(key)) key = randomBytes(6).toString('base64url');
    this.#entries.set(key, state);
    return key;
  }

  recall(key: string): AnswerState | undefined {
    return this.#entries.get(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
