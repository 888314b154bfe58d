import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluate, formatReport } from '../../src/eval/check.js';
import { readSeedQuestions } from '../../src/eval/datasets.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { createFakeEmbedder, makeArticle, makeTempDir, removeTempDirs } from '../helpers.js';

afterAll(removeTempDirs);

const ARTICLES = [
  makeArticle(
    'oil.txt',
    [
      'Oil fields in eastern Syria are held by Kurdish-led militias backed by Washington.',
      'The militias sell crude to traders, residents said.',
    ],
    { title: 'Who holds the oil fields', outlet: 'The Daily Example', byline: 'Jane Doe', date: '2019-03-02' },
  ),
  makeArticle('troops.txt', ['The Pentagon says about 2,000 US troops remain in Syria for now.'], {
    title: 'Troops stay',
    outlet: 'Other Outlet',
  }),
];

async function questions(lines: object[]) {
  const file = path.join(await makeTempDir(), 'questions.jsonl');
  await writeFile(file, lines.map((line) => JSON.stringify(line)).join('\n'));
  return readSeedQuestions(file);
}

describe('evaluate', () => {
  it('judges a metadata question by its fact, and runs BM25 and the peer libraries over the same passages', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(ARTICLES, embedder);
    const labelled = await questions([
      {
        id: 'q1',
        question: 'how many us troops remain in syria',
        gold: [{ file: 'troops.txt', contains: '2,000 US troops' }],
        answers: ['2,000'],
      },
      {
        id: 'q2',
        question: 'who wrote the article about the oil fields held by militias?',
        fact: { file: 'oil.txt', field: 'byline' },
        answers: ['Jane Doe'],
        kind: 'metadata',
      },
      {
        id: 'q3',
        question: 'which outlet ran the piece about the oil fields?',
        fact: { file: 'troops.txt', field: 'outlet' },
        kind: 'metadata',
      },
      { id: 'u1', question: 'what is the weather on mars', answerable: false },
    ]);
    expect(labelled[1]?.goldFact).toEqual({ file: 'oil.txt', field: 'byline' });

    const report = await evaluate('tiny', index, embedder, labelled, { withBaseline: true, warn: () => {} });
    // q1 found, q2's fact is right, q3's fact names the oil article, not the gold one: two of three at rank 1.
    expect(report.metrics.success_at_1).toBeCloseTo(2 / 3, 5);
    expect(report.by_kind?.metadata?.questions).toBe(2);
    expect(report.by_kind?.metadata?.citebot.success_at_1).toBeCloseTo(0.5, 5);
    // Jane Doe is in q2's fact, 2,000 in q1's quote.
    expect(report.metrics.answer_in_quote).toBeCloseTo(2 / 3, 5);
    // Passage rankers cannot answer from an article's fields.
    expect(report.baseline?.success_at_1).toBeCloseTo(1 / 3, 5);
    expect(report.peers?.map((peer) => peer.name)).toEqual(['MiniSearch (BM25)', 'Orama (hybrid)']);
    for (const peer of report.peers ?? []) {
      expect(peer.metrics.success_at_1).toBeCloseTo(1 / 3, 5);
      expect(report.by_kind?.metadata?.peers?.[peer.name]?.success_at_10).toBe(0);
    }
    const text = formatReport({ ...report, model: null, thresholds: {}, failures: [] });
    expect(text).toMatch(/MiniSearch \(BM25\)\s+0\.333/);
    expect(text).toMatch(/Orama \(hybrid\)\s+built in \d+ ms/);
  });

  it('counts abstentions on each side: the unanswerable declined, and the answerable declined wrongly', async () => {
    const index = await buildMemoryIndex(ARTICLES, null);
    const labelled = await questions([
      { id: 'q1', question: 'how many us troops remain in syria', gold: [{ file: 'troops.txt', contains: '2,000 US troops' }] },
      // Nothing in the articles shares a word with this one: it is declined although the set calls it answerable.
      { id: 'q2', question: 'what colour was the ambassador’s umbrella', gold: [{ file: 'oil.txt', contains: 'crude' }] },
      { id: 'u1', question: 'what is the weather on mars', answerable: false },
      { id: 'u2', question: 'who won the football cup', answerable: false },
    ]);
    const report = await evaluate('tiny', index, null, labelled, { withBaseline: false, warn: () => {} });
    expect(report.metrics.unanswerable_abstained).toBe(1);
    expect(report.metrics.false_abstentions).toBe(0.5);
    expect(report.metrics.abstention_accuracy).toBe(0.75);
    const text = formatReport({ ...report, model: null, thresholds: {}, failures: [] });
    expect(text).toMatch(/unanswerable\s+1\.000 abstained \(of 2\)/);
    expect(text).toMatch(/answerable\s+0\.500 abstained wrongly \(of 2\)/);
  });
});
