import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataFileError, readDataset, readSeedQuestions } from '../../src/eval/datasets.js';
import { makeTempDir, REPO_ROOT, removeTempDirs } from '../helpers.js';
import { readFeedbackQuestions } from '../../src/eval/feedback.js';

afterAll(removeTempDirs);

const vote = (question: string, v: 'up' | 'down', quote: string) =>
  JSON.stringify({
    time: '2026-01-01T00:00:00Z',
    question,
    vote: v,
    user: 'abc',
    mode: 'hybrid',
    answered: true,
    top: { file: 'a.txt', paragraph: 2, quote },
  });

describe('labelled question files', () => {
  it('reads the seeds question set with answerable and unanswerable questions', async () => {
    const questions = await readSeedQuestions(path.join(REPO_ROOT, 'eval/seeds-questions.jsonl'));
    expect(questions.filter((question) => question.answerable).length).toBeGreaterThanOrEqual(40);
    expect(questions.filter((question) => !question.answerable).length).toBeGreaterThanOrEqual(10);
    expect(questions.every((question) => question.question.trim() !== '')).toBe(true);
  });

  it('refuses a data set line that is not JSON, naming file and line', async () => {
    const dir = await makeTempDir();
    await writeFile(path.join(dir, 'passages.jsonl'), '{"id":"p1","title":"T","text":"Some text."}\nnot json\n');
    await writeFile(path.join(dir, 'questions.jsonl'), '');
    const error = await readDataset(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DataFileError);
    expect((error as Error).message).toMatch(/passages\.jsonl:2: not valid JSON/);
  });

  it('reads a news-web set: pages through the seeds extraction, [file, phrase] gold after collapsing whitespace, kinds, unanswerable questions', async () => {
    const dir = await makeTempDir();
    await mkdir(path.join(dir, 'pages'));
    const story = 'The council voted on Monday to close the old bridge to   cars from next spring, the mayor said after the meeting.';
    await writeFile(
      path.join(dir, 'pages', 'bridge.html'),
      `<html><head><title>Bridge closes</title></head><body><article><p>${story}</p><p>${story.replace('Monday', 'Friday')}</p></article></body></html>`,
    );
    await writeFile(path.join(dir, 'pages', 'menu.html'), '<html><body><nav><a href="/">Home</a></nav></body></html>');
    await writeFile(
      path.join(dir, 'questions.jsonl'),
      `${JSON.stringify({ id: 'w1', question: 'When does the bridge close to cars?', expect: [['bridge.html', 'close the old bridge to cars']], kind: 'lexical' })}\n`,
    );
    await writeFile(path.join(dir, 'unanswerable.jsonl'), `${JSON.stringify({ id: 'u1', question: 'Who built the bridge?' })}\n`);
    const warnings: string[] = [];
    const { articles, questions } = await readDataset(dir, (message) => warnings.push(message));
    expect(articles.map((article) => article.file)).toEqual(['bridge.html']);
    expect(warnings).toEqual([expect.stringMatching(/^menu\.html: .*its questions count as misses/)]);
    const [answerable, unanswerable] = questions;
    expect(answerable).toMatchObject({ id: 'w1', kind: 'lexical', answerable: true, answers: ['close the old bridge to cars'] });
    expect(answerable!.isGold('bridge.html', story)).toBe(true);
    expect(answerable!.isGold('other.html', story)).toBe(false);
    expect(unanswerable).toMatchObject({ id: 'u1', answerable: false });

    // --questions: follow-ups in the set's own form replace its questions, the unanswerable ones too.
    const followUps = path.join(dir, 'follow-ups.jsonl');
    await writeFile(
      followUps,
      `${JSON.stringify({ id: 'f1', question: 'and from when?', follows: 'Is the old bridge closing?', expect: [['bridge.html', 'from next spring']], kind: 'follow-up' })}\n`,
    );
    const replaced = await readDataset(dir, () => {}, followUps);
    expect(replaced.questions).toHaveLength(1);
    expect(replaced.questions[0]).toMatchObject({ id: 'f1', follows: 'Is the old bridge closing?', kind: 'follow-up', answerable: true });
  });

  it('reads the seeds follow-ups with the question each follows', async () => {
    const questions = await readSeedQuestions(path.join(REPO_ROOT, 'eval/seeds-questions.jsonl'));
    const followUps = questions.filter((question) => question.kind === 'follow-up');
    expect(followUps.length).toBeGreaterThanOrEqual(20);
    expect(followUps.every((question) => question.follows && question.follows !== question.question)).toBe(true);
  });

  it('turns 👍 votes into labelled questions and 👎 votes into answers that should not come first', async () => {
    const dir = await makeTempDir();
    const file = path.join(dir, 'feedback.jsonl');
    await writeFile(
      file,
      [
        vote('how many troops?', 'down', 'About 2,000.'),
        vote('How many troops?', 'up', 'About 2,000 troops.'),
        vote('who is the envoy', 'down', 'The envoy spoke.'),
        '{"question": "cut short by a cra', // a crash mid-append leaves half a line
      ].join('\n'),
    );
    const warnings: string[] = [];
    const { questions, demoted } = await readFeedbackQuestions(file, (message) => warnings.push(message));
    expect(questions).toHaveLength(1); // the later 👍 on the same question wins
    expect(questions[0]!.isGold('a.txt', 'Officials said About 2,000 troops. remain')).toBe(true);
    expect(questions[0]!.isGold('b.txt', 'About 2,000 troops.')).toBe(false);
    expect(demoted).toEqual([{ question: 'who is the envoy', file: 'a.txt', quote: 'The envoy spoke.' }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/feedback\.jsonl:4/);
  });
});
