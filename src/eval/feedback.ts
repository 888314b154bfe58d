/**
 * 👍 / 👎 on answers, appended as JSON lines by the bot and read back here by the retrieval check as
 * labelled questions: the one place that knows the format. User ids are stored as a one-way hash: enough to count one vote per person, not to tell who.
 */
import { z } from 'zod';
import { sha256 } from '../hash.js';
import { AppendLog } from '../storage/append-log.js';
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
  readonly #log: AppendLog;

  constructor(file: string) {
    this.#log = new AppendLog(file);
  }

  get file(): string {
    return this.#log.file;
  }

  append(entry: FeedbackEntry): Promise<void> {
    return this.#log.append(entry);
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
