/**
 * Search narrowed to a question's candidates (how an index kept in a database is searched) against search
 * of the whole index in memory, on the seeds with the offline model: the same hits, in the same order,
 * with the same scores and signals, and the same answers.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embedding/embedder.js';
import { readWordVectors } from '../../src/embedding/word-vectors.js';
import { readSeedQuestions, type LabelledQuestion } from '../../src/eval/datasets.js';
import { DEFAULT_LEXICAL_OPTIONS } from '../../src/index/bm25.js';
import { buildMemoryIndex, type MemoryIndex } from '../../src/index/memory.js';
import { readSeedArticles } from '../../src/ingest/seed-files.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { memoryCandidateSource, storeSearchIndex } from '../../src/retrieval/candidate-view.js';
import { search, type SearchIndex, type SearchResult } from '../../src/retrieval/search.js';
import { termNeighboursOf } from '../../src/retrieval/soft-terms.js';
import { MODELS_DIR, openOfflineEmbedder, removeTempDirs, SEEDS_DIR } from '../helpers.js';

let embedder: Embedder;
let whole: MemoryIndex;
let narrowed: SearchIndex;
let questions: LabelledQuestion[];

beforeAll(async () => {
  embedder = await openOfflineEmbedder();
  whole = await buildMemoryIndex(await readSeedArticles(SEEDS_DIR, () => {}), embedder);
  const { table } = await readWordVectors(MODELS_DIR);
  whole.wordVectors = table;
  narrowed = storeSearchIndex(
    {
      articles: whole.articles,
      lexicalOptions: DEFAULT_LEXICAL_OPTIONS,
      wordVectors: table,
      termNeighbours: (settings) => (table ? termNeighboursOf(whole.lexical, table, settings) : null),
    },
    memoryCandidateSource(whole),
    { hasVectors: true },
  );
  questions = await readSeedQuestions(path.join(SEEDS_DIR, '..', 'eval', 'seeds-questions.jsonl'));
}, 120_000);

afterAll(removeTempDirs);

function summary(result: SearchResult) {
  return result.hits.map((hit) => ({ label: hit.passage.label, score: hit.score, signals: hit.signals, matched: hit.matched }));
}

describe('search narrowed to the candidates', () => {
  it('ranks every seeds question as search of the whole index does, scores and signals bit for bit', async () => {
    expect(questions.length).toBeGreaterThan(100);
    for (const { question, follows } of questions) {
      const earlier = follows ? [{ text: follows, weight: 0.5 }] : [];
      const expected = await search(question, { index: whole, embedder, k: 10, earlier });
      const got = await search(question, { index: narrowed, embedder, k: 10, earlier });
      expect(expected.hits.length, question).toBeGreaterThan(0);
      expect(summary(got), question).toEqual(summary(expected));
      expect(got.terms, question).toEqual(expected.terms);
    }
  });

  it('keeps to the accepted articles when a filter is set', async () => {
    const file = [...whole.articles.keys()][1]!;
    const accept = (article: { file: string }) => article.file === file;
    const question = questions[0]!.question;
    const expected = await search(question, { index: whole, embedder, k: 10, accept });
    const got = await search(question, { index: narrowed, embedder, k: 10, accept });
    expect(got.hits.every((hit) => hit.passage.file === file)).toBe(true);
    expect(summary(got)).toEqual(summary(expected));
  });

  it('gives the same answers, quotes and attributions included', async () => {
    for (const { question } of questions.slice(0, 40)) {
      const expected = await answerQuestion(question, { index: whole, embedder });
      const got = await answerQuestion(question, { index: narrowed, embedder });
      expect(got, question).toEqual(expected);
    }
  });

  it('reads a question with no word the corpus knows without error, and finds nothing lexical', async () => {
    const got = await search('zzqx vrrrp', { index: narrowed, embedder, k: 5 });
    const expected = await search('zzqx vrrrp', { index: whole, embedder, k: 5 });
    expect(summary(got)).toEqual(summary(expected));
  });
});
