/**
 * 👍 / 👎 on answers, appended as JSON lines by the bot and read back here by the retrieval check as
 * labelled questions: the one place that knows the format. User ids are stored as a one-way hash: enough to count one vote per person, not to tell who.
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { sha256 } from '../hash.js';
import { readJsonl, type LabelledQuestion } from './datasets.js';

const voteSchema = z.enum(['up', 'down']);
export type Vote = z.infer<typeof voteSchema>;

/** One vote, one JSON line: the format the bot writes and the retrieval check reads. */
const feedbackEntrySchema = z.object({
  /** ISO time of the vote. */
  time: z.string(),
  question: z.string().min(1),
  vote: voteSchema,
  /** `hashUser(id)`, never the raw Discord id. */
  user: z.string(),
  mode: z.enum(['hybrid', 'lexical']),
  answered: z.boolean(),
  /** The first result the voter saw; null when the answer listed nothing. */
  top: z.object({ file: z.string(), paragraph: z.number(), quote: z.string().min(1) }).nullable(),
});

export type FeedbackEntry = z.infer<typeof feedbackEntrySchema>;

/** What the check needs of a line; lines of older bots may lack the rest. */
const feedbackLine = feedbackEntrySchema.pick({ question: true, vote: true, top: true });

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
      // A file cut short (a crash mid-write, an edit) may not end in a newline: the vote starts a line of its own.
      const separator = (await endsMidLine(this.file)) ? '\n' : '';
      await appendFile(this.file, separator + line, 'utf8');
    });
    this.#queue = write.catch(() => undefined);
    return write;
  }
}

/** True when `file` exists, is not empty, and its last byte is not a newline. */
async function endsMidLine(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}

/**
 * Votes from the Discord bot as labelled questions. A 👍 makes its top result gold; a 👎 says its top
 * result is wrong, which tells what should not come first but not what should, so it becomes a question
 * whose gold is unknown and is reported apart (`demoted`). The latest vote on a question wins.
 */
export async function readFeedbackQuestions(
  file: string,
  warn: (message: string) => void,
): Promise<{ questions: LabelledQuestion[]; demoted: Array<{ question: string; file: string; quote: string }> }> {
  const rows = await readJsonl(file, feedbackLine, (message) => warn(`skipped ${message}`));
  const latest = new Map<string, z.infer<typeof feedbackLine>>();
  for (const row of rows) if (row.top) latest.set(row.question.trim().toLowerCase(), row);
  const questions: LabelledQuestion[] = [];
  const demoted: Array<{ question: string; file: string; quote: string }> = [];
  for (const [key, row] of latest) {
    const top = row.top!;
    if (row.vote === 'down') {
      demoted.push({ question: row.question, file: top.file, quote: top.quote });
      continue;
    }
    questions.push({
      id: `feedback:${key.slice(0, 40)}`,
      question: row.question,
      answerable: true,
      isGold: (passageFile, text) => passageFile === top.file && text.includes(top.quote),
      answers: [],
    });
  }
  return { questions, demoted };
}
