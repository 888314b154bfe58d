/**
 * Search and answers from the index in Postgres against the same index in memory, on every seeds question
 * with the offline model (PGlite over the wire, see test/support/postgres.ts): the same first result for
 * every question, the same scores where the candidates are the same; a second reader sees a write by the
 * generation.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embedding/embedder.js';
import { readWordVectors } from '../../src/embedding/word-vectors.js';
import { readSeedQuestions, type LabelledQuestion } from '../../src/eval/datasets.js';
import { buildMemoryIndex, type MemoryIndex } from '../../src/index/memory.js';
import { readSeedArticles } from '../../src/ingest/seed-files.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { search } from '../../src/retrieval/search.js';
import { openDatabase, type PgDatabase } from '../../src/storage/postgres/connection.js';
import { openPgSearchIndex, type PgSearchIndex } from '../../src/storage/postgres/pg-candidates.js';
import { pgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { checkSchemaOf } from '../../src/storage/postgres/pg-check.js';
import { tablesIn } from '../../src/storage/postgres/schema.js';
import { makeArticle, MODELS_DIR, openOfflineEmbedder, removeTempDirs, REPO_ROOT, SEEDS_DIR } from '../helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { contentsOf, setupOf } from './postgres-contents.js';

let server: TestPostgres;
let db: PgDatabase;
let embedder: Embedder;
let memory: MemoryIndex;
let stored: PgSearchIndex;
let questions: LabelledQuestion[];

beforeAll(async () => {
  server = await startPostgres();
  embedder = await openOfflineEmbedder();
  memory = await buildMemoryIndex(await readSeedArticles(SEEDS_DIR, () => {}), embedder);
  const { table } = await readWordVectors(MODELS_DIR);
  memory.wordVectors = table;
  db = await openDatabase(server.url, { schema: 'search' });
  await pgIndexStore(db).write(contentsOf(memory, embedder));
  stored = await openPgSearchIndex(db, { wordVectors: table });
  questions = await readSeedQuestions(path.join(REPO_ROOT, 'eval/seeds-questions.jsonl'));
}, 180_000);

afterAll(async () => {
  await db?.close();
  await server?.stop();
  await removeTempDirs();
});

describe('the schema a check writes into', () => {
  it('is beside the configured one and never the same, however long its name', () => {
    expect(checkSchemaOf('public')).toBe('public_check');
    const long = 'aaaaaaaaaaaaaaaaaaaaaaaa_check';
    expect(long).toHaveLength(30);
    expect(checkSchemaOf(long)).not.toBe(long);
    expect(checkSchemaOf(long)).toHaveLength(30);
    expect(checkSchemaOf(`${'b'.repeat(24)}_one`)).not.toBe(checkSchemaOf(`${'b'.repeat(24)}_two`));
    expect(() => tablesIn(checkSchemaOf(long))).not.toThrow();
  });
});

describe('search from the index in Postgres', () => {
  it('puts the same passage first as the index in memory for every seeds question, with the same scores where the candidates agree', async () => {
    let sameRanking = 0;
    for (const { question, follows } of questions) {
      const earlier = follows ? [{ text: follows, weight: 0.5 }] : [];
      const expected = await search(question, { index: memory, embedder, k: 10, earlier });
      const got = await search(question, { index: stored.index, embedder, k: 10, earlier });
      expect(got.mode).toBe('hybrid');
      expect(got.hits[0]?.passage.label, question).toBe(expected.hits[0]?.passage.label);
      expect(got.hits[0]?.score, question).toBeCloseTo(expected.hits[0]!.score, 12);
      expect(got.terms, question).toEqual(expected.terms);
      const labels = (result: typeof got) => result.hits.map((hit) => hit.passage.label);
      if (JSON.stringify(labels(got)) === JSON.stringify(labels(expected))) sameRanking += 1;
    }
    // pgvector's HNSW and hnswlib's may differ past the first places; on 66 passages they should not often.
    expect(sameRanking).toBeGreaterThanOrEqual(questions.length * 0.95);
  });

  it('gives the answers the index in memory gives: quotes, sources and attributions', async () => {
    for (const { question } of questions.slice(0, 30)) {
      const expected = await answerQuestion(question, { index: memory, embedder });
      const got = await answerQuestion(question, { index: stored.index, embedder });
      expect(got, question).toEqual(expected);
    }
  });

  it('answers the same from rows written before passages kept their terms (analysed when read instead)', async () => {
    const older = await openDatabase(server.url, { schema: 'search_older' });
    try {
      await pgIndexStore(older).write(contentsOf(memory, embedder));
      await older.pool.query(`UPDATE ${older.tables.passages} SET sentence_terms = NULL, title_terms = NULL`);
      const reopened = await openPgSearchIndex(older, { wordVectors: memory.wordVectors ?? null });
      for (const { question } of questions.slice(0, 25)) {
        const expected = await search(question, { index: stored.index, embedder, k: 10 });
        const got = await search(question, { index: reopened.index, embedder, k: 10 });
        expect(
          got.hits.map((hit) => [hit.passage.label, hit.score]),
          question,
        ).toEqual(expected.hits.map((hit) => [hit.passage.label, hit.score]));
      }
    } finally {
      await older.close();
    }
  });

  it('without word vectors (check --exact-words) question words match only themselves, as in memory', async () => {
    const exact = { ...stored.index, wordVectors: null };
    const exactMemory = { ...memory, wordVectors: null };
    for (const { question } of questions.slice(0, 40)) {
      const expected = await search(question, { index: exactMemory, embedder, k: 10 });
      const got = await search(question, { index: exact, embedder, k: 10 });
      expect(got.terms, question).toEqual(expected.terms);
      expect(
        got.hits.map((hit) => [hit.passage.label, hit.score]),
        question,
      ).toEqual(expected.hits.map((hit) => [hit.passage.label, hit.score]));
    }
  });

  it('keeps to the articles a filter accepts', async () => {
    const file = [...memory.articles.keys()][2]!;
    const got = await search(questions[5]!.question, { index: stored.index, embedder, k: 10, accept: (article) => article.file === file });
    expect(got.hits.length).toBeGreaterThan(0);
    expect(got.hits.every((hit) => hit.passage.file === file)).toBe(true);
  });

  it('a second reader sees another process’s write after refresh, not before', async () => {
    const reader = await openPgSearchIndex(await openDatabase(server.url, { schema: 'search' }), {
      wordVectors: memory.wordVectors ?? null,
    });
    const question = 'What did the lighthouse keeper of Porthcawl find?';
    const article = makeArticle('porthcawl.txt', ['The lighthouse keeper of Porthcawl found a message in a bottle from 1962.'], {
      title: 'Message in a bottle',
    });
    const grown = await buildMemoryIndex([...(await readSeedArticles(SEEDS_DIR, () => {})), article], embedder);
    const contents = contentsOf(grown, embedder);
    const added = contents.passages.filter((passage) => passage.file === 'porthcawl.txt');
    const firstNew = (await pgIndexStore(db).meta()).nextLabel;
    const relabelled = added.map((passage, i) => ({ ...passage, label: firstNew + i }));
    await pgIndexStore(db).update({
      ...setupOf(contents),
      embedding: embedder.fingerprint,
      articles: contents.articles,
      passages: relabelled,
      vectors: await embedder.embed(
        relabelled.map((passage) => passage.text),
        'passage',
      ),
      nextLabel: firstNew + relabelled.length,
    });
    const before = await search(question, { index: reader.index, embedder, k: 3 });
    expect(before.hits.some((hit) => hit.passage.file === 'porthcawl.txt')).toBe(false);
    expect(await reader.refresh()).toBe(true);
    expect(await reader.refresh()).toBe(false);
    const after = await search(question, { index: reader.index, embedder, k: 3 });
    expect(after.hits[0]?.passage.file).toBe('porthcawl.txt');
  });
});
