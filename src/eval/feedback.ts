/**
 * 👍 / 👎 on answers, appended as JSON lines so that the retrieval check can later read them as labelled
 * questions. User ids are stored as a one-way hash: enough to count one vote per person, not to tell who.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.js';

export type Vote = 'up' | 'down';

export interface FeedbackEntry {
  /** ISO time of the vote. */
  time: string;
  question: string;
  vote: Vote;
  /** `hashUser(id)`, never the raw Discord id. */
  user: string;
  mode: 'hybrid' | 'lexical';
  answered: boolean;
  /** The first result the voter saw; null when the answer listed nothing. */
  top: { file: string; paragraph: number; quote: string } | null;
}

/** A short, stable, one-way id for a Discord user. */
export function hashUser(userId: string): string {
  return sha256(`citebot-feedback:${userId}`).slice(0, 16);
}

export class FeedbackLog {
  readonly file: string;
  // Appends are chained so that concurrent votes never interleave within a line.
  #queue: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  append(entry: FeedbackEntry): Promise<void> {
    const line = `${JSON.stringify(entry)}\n`;
    const write = this.#queue.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      await appendFile(this.file, line, 'utf8');
    });
    this.#queue = write.catch(() => undefined);
    return write;
  }
}
