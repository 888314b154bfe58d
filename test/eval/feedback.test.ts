/** The feedback log: votes appended as JSON lines, never glued onto a line that was cut short. */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FeedbackLog, readFeedbackQuestions, type FeedbackEntry } from '../../src/eval/feedback.js';
import { makeTempDir, removeTempDirs } from '../helpers.js';

afterEach(removeTempDirs);

const vote = (question: string): FeedbackEntry => ({
  time: '2026-12-03T12:00:00.000Z',
  question,
  vote: 'up',
  user: 'abcdef0123456789',
  mode: 'hybrid',
  answered: true,
  top: { file: 'a.txt', paragraph: 1, quote: 'Washington has deployed around 2,000 troops to Syria.' },
});

describe('FeedbackLog', () => {
  it('starts a new line when the file does not end in one, so no record is lost', async () => {
    const file = path.join(await makeTempDir(), 'feedback', 'votes.jsonl');
    const log = new FeedbackLog(file);
    await log.append(vote('first'));
    // Cut the newline off, as a crash mid-write or a hand edit would.
    await writeFile(file, (await readFile(file, 'utf8')).trimEnd());
    await log.append(vote('second'));
    await log.append(vote('third'));

    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((line) => (JSON.parse(line) as FeedbackEntry).question)).toEqual(['first', 'second', 'third']);
    const warnings: string[] = [];
    const { questions } = await readFeedbackQuestions(file, (message) => warnings.push(message));
    expect(questions).toHaveLength(3);
    expect(warnings).toEqual([]);
  });

  it('keeps concurrent votes on lines of their own', async () => {
    const file = path.join(await makeTempDir(), 'votes.jsonl');
    const log = new FeedbackLog(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(vote(`question ${i}`))));
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines).toHaveLength(20);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
