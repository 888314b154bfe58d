/**
 * The SQL retrieval primitives against the in-memory index they stand in for, on every question of
 * eval/seeds-questions.jsonl, with the offline embedding model: citebot's BM25+ in SQL gives the same
 * top 50 with the same scores (bit for bit), pgvector's HNSW the exact cosine top 10, and the rows of
 * candidates everything the per-candidate signals need (exact cosine, sentence coverage). Against a real
 * Postgres (PGlite over the wire, see test/support/postgres.ts).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embedding/embedder.js';
import { readWordVectors } from '../../src/embedding/word-vectors.js';
import { readSeedQuestions } from '../../src/eval/datasets.js';
import type { CoverageQuery, LexicalIndex } from '../../src/index/bm25.js';
import { buildIndex } from '../../src/index/build.js';
import type { VectorIndex } from '../../src/index/hnsw.js';
import { seedFolder } from '../../src/ingest/seed-files.js';
import { localStore } from '../../src/storage/local-store.js';
import { openDatabase, type PgDatabase } from '../../src/storage/postgres/connection.js';
import { pgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { pgRetrieval, type PgRetrieval } from '../../src/storage/postgres/pg-retrieval.js';
import type { IndexContents } from '../../src/storage/store.js';
import { queryTerms, type QueryTerms } from '../../src/retrieval/question-terms.js';
import { DEFAULT_SEARCH } from '../../src/retrieval/search.js';
import { termNeighboursOf } from '../../src/retrieval/soft-terms.js';
import { makeArticle, makeTempDir, MODELS_DIR, openOfflineEmbedder, removeTempDirs, REPO_ROOT } from '../helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { capturing } from './postgres-contents.js';
import { buildMemoryIndex } from '../../src/index/memory.js';

let server: TestPostgres;
let db: PgDatabase;
let retrieval: PgRetrieval;
let embedder: Embedder;
let contents: IndexContents;
let lexical: LexicalIndex;
let vectors: VectorIndex;
/** Every seeds question with its terms as search forms them (country names and soft matches included) and its vector. */
let questions: Array<{ question: string; terms: QueryTerms; vector: Float32Array }>;

beforeAll(async () => {
  server = await startPostgres();
  embedder = await openOfflineEmbedder();
  const local = capturing(localStore(await makeTempDir('citebot-pg-index-')));
  await buildIndex({ source: seedFolder(path.join(REPO_ROOT, 'seeds')), store: local, embedder });
  contents = local.last();
  lexical = contents.lexical;
  vectors = contents.vectors!;
  db = await openDatabase(server.url, { schema: 'retrieval' });
  await pgIndexStore(db).write(contents);
  retrieval = pgRetrieval(db);
  const { table } = await readWordVectors(MODELS_DIR);
  const neighbours = table ? termNeighboursOf(lexical, table, DEFAULT_SEARCH.softMatching!) : null;
  const asked = (await readSeedQuestions(path.join(REPO_ROOT, 'eval/seeds-questions.jsonl'))).map((entry) => entry.question);
  const questionVectors = await embedder.embed(asked, 'query');
  questions = asked.map((question, i) => ({ question, terms: queryTerms(question, lexical, neighbours), vector: questionVectors[i]! }));
}, 120_000);

afterAll(async () => {
  await db?.close();
  await server?.stop();
  await removeTempDirs();
});

/**
 * `LexicalIndex.coverage` keyed by stem: what a candidate's per-sentence stems and the question's term
 * statistics give without the in-memory index (`known`: the terms the index has, from `termStats`).
 */
function stemCoverage(
  sentenceStems: string[][],
  terms: QueryTerms,
  query: CoverageQuery,
  known: (term: string) => boolean,
): { sentences: number[]; passage: number } {
  const credits = new Map<string, Array<[number, number]>>();
  terms.stems.forEach((stem, word) => {
    for (const [equivalent, credit] of terms.equivalents.get(stem) ?? new Map([[stem, 1]])) {
      if (!known(equivalent)) continue;
      credits.set(equivalent, [...(credits.get(equivalent) ?? []), [word, credit]]);
    }
  });
  if (credits.size === 0) return { sentences: [], passage: 0 };
  const inPassage = new Float64Array(query.shares.length);
  const sentences = sentenceStems.map((stems) => {
    const inSentence = new Float64Array(query.shares.length);
    for (const stem of stems) {
      for (const [word, credit] of credits.get(stem) ?? []) {
        if (credit > inSentence[word]!) inSentence[word] = credit;
        if (credit > inPassage[word]!) inPassage[word] = credit;
      }
    }
    let covered = 0;
    for (let word = 0; word < inSentence.length; word += 1) covered += inSentence[word]! * query.shares[word]!;
    return covered;
  });
  let passage = 0;
  for (let word = 0; word < inPassage.length; word += 1) passage += inPassage[word]! * query.shares[word]!;
  return { sentences, passage };
}

function coverageQueryOf(terms: QueryTerms): CoverageQuery {
  return lexical.coverageQuery(
    terms.stems.map((stem) => ({ weight: terms.weights.get(stem) ?? 0, equivalents: terms.equivalents.get(stem) ?? new Map([[stem, 1]]) })),
  );
}

describe('SQL retrieval over the seeds', () => {
  it('has every seeds question, some with weighted (country or soft) terms', () => {
    expect(questions.length).toBeGreaterThan(100);
    expect(questions.some(({ terms }) => [...terms.searched.values()].some((weight) => weight < 1))).toBe(true);
  });

  it('lexicalTop: the in-memory top 50, same labels in the same order, same scores to the bit, same matched terms', async () => {
    let compared = 0;
    for (const { question, terms } of questions) {
      const scores = lexical.search([...terms.searched.keys()], terms.searched);
      const expected = scores.top(DEFAULT_SEARCH.candidates);
      const found = await retrieval.lexicalTop(terms.searched, DEFAULT_SEARCH.candidates);
      expect(
        found.map((hit) => [hit.label, hit.score]),
        question,
      ).toEqual(expected.map((hit) => [hit.label, hit.score]));
      for (const hit of found) expect(new Set(hit.matched), question).toEqual(new Set(scores.matched(hit.label)));
      compared += found.length;
    }
    expect(compared).toBeGreaterThan(2_000);
  });

  it('lexicalTop with a filter: the in-memory top of the accepted articles’ passages', async () => {
    const files = [...contents.articles].map((article) => article.file).filter((_, i) => i % 2 === 0);
    const accepted = new Set(files);
    for (const { question, terms } of questions.slice(0, 40)) {
      const expected = lexical
        .search([...terms.searched.keys()], terms.searched)
        .top(10, (label) => accepted.has(contents.passages.find((passage) => passage.label === label)!.file));
      const found = await retrieval.lexicalTop(terms.searched, 10, { filter: { files } });
      expect(
        found.map((hit) => [hit.label, hit.score]),
        question,
      ).toEqual(expected.map((hit) => [hit.label, hit.score]));
    }
  });

  it('lexicalScores: the exact BM25 of passages only the dense side found', async () => {
    for (const { question, terms, vector } of questions) {
      const scores = lexical.search([...terms.searched.keys()], terms.searched);
      const denseOnly = vectors.search(vector, DEFAULT_SEARCH.candidates).map((neighbour) => neighbour.label);
      const found = await retrieval.lexicalScores(terms.searched, denseOnly);
      for (const label of denseOnly) {
        expect(found.get(label)?.score ?? 0, `${question} #${label}`).toBe(scores.score(label));
        expect(new Set(found.get(label)?.matched ?? [])).toEqual(new Set(scores.matched(label)));
      }
    }
  });

  it('denseTop: pgvector’s HNSW top 10 is the exact cosine top 10 (overlap at least 0.98), with the same similarities', async () => {
    let overlap = 0;
    for (const { vector } of questions) {
      const exact = vectors.searchExact(vector, 10);
      const found = await retrieval.denseTop(vector, 10);
      const exactLabels = new Set(exact.map((neighbour) => neighbour.label));
      overlap += found.filter((hit) => exactLabels.has(hit.label)).length / exact.length;
      for (const hit of found) expect(hit.similarity).toBeCloseTo(vectors.similarity(hit.label, vector), 5);
    }
    expect(overlap / questions.length).toBeGreaterThanOrEqual(0.98);
  });

  it('denseTop with a filter keeps searching until it has n passages of the accepted articles', async () => {
    const files = [contents.articles[1]!.file];
    const inFile = new Set(contents.passages.filter((passage) => passage.file === files[0]).map((passage) => passage.label));
    for (const { vector } of questions.slice(0, 20)) {
      const found = await retrieval.denseTop(vector, 5, { files });
      expect(found).toHaveLength(Math.min(5, inFile.size));
      for (const hit of found) expect(inFile.has(hit.label)).toBe(true);
    }
  });

  it('candidateRows: passage, article, exact cosine, and sentence stems whose coverage is the in-memory coverage', async () => {
    for (const { question, terms, vector } of questions) {
      const stats = await retrieval.termStats(terms.stems.flatMap((stem) => [stem, ...(terms.equivalents.get(stem)?.keys() ?? [])]));
      const candidates = [
        ...new Set([
          ...lexical
            .search([...terms.searched.keys()], terms.searched)
            .top(10)
            .map((hit) => hit.label),
          ...vectors.search(vector, 10).map((neighbour) => neighbour.label),
        ]),
      ];
      const rows = await retrieval.candidateRows(candidates, vector);
      expect(rows.map((row) => row.passage.label)).toEqual(candidates);
      const query = coverageQueryOf(terms);
      for (const row of rows) {
        const label = row.passage.label;
        expect(row.passage).toEqual(contents.passages.find((passage) => passage.label === label));
        expect(row.article).toEqual(contents.articles.find((article) => article.file === row.passage.file));
        expect(row.similarity, `${question} #${label}`).toBe(vectors.similarity(label, vector));
        const covered = stemCoverage(row.sentenceStems, terms, query, (term) => stats.terms.has(term));
        expect(covered, `${question} #${label}`).toEqual(lexical.coverage(label, query));
      }
    }
  });

  it('termStats and vocabulary: the document frequencies and idf the query weights are made of', async () => {
    const stems = [...new Set(questions.flatMap(({ terms }) => [...terms.searched.keys()]))];
    const stats = await retrieval.termStats(stems);
    for (const stem of stems) {
      expect(stats.documentFrequency(stem), stem).toBe(lexical.documentFrequency(stem));
      expect(stats.idf(stem), stem).toBe(lexical.idf(stem));
    }
    expect(stats.corpus).toMatchObject({ generation: 1, passages: lexical.documentCount });
    expect((await retrieval.vocabulary()).sort()).toEqual(lexical.liveTerms().sort());
  });

  it('textsearchTop: pg_textsearch’s own BM25 over the passage text', async () => {
    const hits = await retrieval.textsearchTop('How many US troops are in Syria?', 5);
    expect(hits.length).toBe(5);
    for (const [i, hit] of hits.entries()) {
      expect(contents.passages.some((passage) => passage.label === hit.label)).toBe(true);
      expect(hit.score).toBeGreaterThan(0);
      if (i > 0) expect(hit.score).toBeLessThanOrEqual(hits[i - 1]!.score);
    }
    expect(contents.passages.find((passage) => passage.label === hits[0]!.label)!.text).toMatch(/troops/i);
  });

  it('snapshot: the same answers from one consistent read', async () => {
    const { terms, vector } = questions[0]!;
    const inSnapshot = await retrieval.snapshot(async (snapshot) => ({
      generation: await snapshot.generation(),
      lexical: await snapshot.lexicalTop(terms.searched, 10, { stats: await snapshot.termStats(terms.searched.keys()) }),
      dense: await snapshot.denseTop(vector, 10),
    }));
    expect(inSnapshot).toEqual({
      generation: 1,
      lexical: await retrieval.lexicalTop(terms.searched, 10),
      dense: await retrieval.denseTop(vector, 10),
    });
  });

  it('snapshot: one that fails leaves no connection searching at pgvector’s defaults (ef_search 40, no iterative scan)', async () => {
    // One connection, so every call below runs on the one the failed snapshot used.
    const single = await openDatabase(server.url, { schema: 'retrieval', maxConnections: 1 });
    try {
      const settings = async () =>
        (
          await single.pool.query<{ efSearch: string; iterativeScan: string }>(
            `SELECT current_setting('hnsw.ef_search') AS "efSearch", current_setting('hnsw.iterative_scan') AS "iterativeScan"`,
          )
        ).rows[0];
      // A server's new connection starts at the defaults; PGlite's one session keeps what earlier tests set.
      await single.pool.query('RESET hnsw.ef_search');
      await single.pool.query('RESET hnsw.iterative_scan');
      const defaults = { efSearch: '40', iterativeScan: 'off' };
      expect(await settings()).toEqual(defaults);
      const files = [contents.articles[1]!.file];
      const inFile = contents.passages.filter((passage) => passage.file === files[0]).length;
      const filtered = questions.slice(0, 20);
      const onSingle = pgRetrieval(single);

      const failure = new Error('the work failed after its dense search');
      await expect(
        onSingle.snapshot(async (snapshot) => {
          for (const { vector } of filtered) expect(await snapshot.denseTop(vector, 5, { files })).toHaveLength(Math.min(5, inFile));
          throw failure;
        }),
      ).rejects.toBe(failure);
      // The rollback took the snapshot's settings with it (SET LOCAL), and the connection was not marked as set.
      expect(await settings()).toEqual(defaults);
      for (const { vector } of filtered) expect(await onSingle.denseTop(vector, 5, { files })).toHaveLength(Math.min(5, inFile));
      const searching = { efSearch: String(single.efSearch), iterativeScan: 'strict_order' };
      expect(await settings()).toEqual(searching);

      // A snapshot that succeeds leaves the session's settings as they were, and searches with them.
      const { vector } = questions[0]!;
      expect(await onSingle.snapshot((snapshot) => snapshot.denseTop(vector, 10))).toEqual(await retrieval.denseTop(vector, 10));
      expect(await settings()).toEqual(searching);
    } finally {
      await single.close();
    }
  });
});

describe('several processes on one database', () => {
  it('see another process’s update by polling the generation, without reopening', async () => {
    const writerDb = await openDatabase(server.url, { schema: 'shared' });
    const readerDb = await openDatabase(server.url, { schema: 'shared' });
    try {
      const writer = pgIndexStore(writerDb);
      const reader = pgRetrieval(readerDb);
      const first = await buildMemoryIndex(
        [makeArticle('a.txt', ['Troops stayed in Syria through the winter.'], { title: 'Winter' })],
        embedder,
      );
      await writer.write({
        mode: 'hybrid',
        embedding: embedder.fingerprint,
        articles: [...first.articles.values()],
        passages: [...first.passages.values()],
        vectors: first.vectors,
        hnsw: contents.hnsw,
        lexicalOptions: contents.lexicalOptions,
        maxPassageChars: contents.maxPassageChars,
        nextLabel: 1,
      });
      expect(await reader.generation()).toBe(1);
      const question = new Map([['helicopt', 1]]);
      expect(await reader.lexicalTop(question, 5)).toEqual([]);

      const added = makeArticle('b.txt', ['Helicopters landed near the Euphrates.'], { title: 'Landing' });
      const more = await buildMemoryIndex([added], embedder);
      const passage = { ...[...more.passages.values()][0]!, label: 1 };
      await writer.update({
        embedding: embedder.fingerprint,
        lexicalOptions: contents.lexicalOptions,
        hnsw: contents.hnsw,
        maxPassageChars: contents.maxPassageChars,
        articles: [...first.articles.values(), ...more.articles.values()],
        passages: [passage],
        vectors: await embedder.embed([passage.text], 'passage'),
        nextLabel: 2,
      });
      expect(await reader.generation()).toBe(2);
      expect((await reader.lexicalTop(question, 5)).map((hit) => hit.label)).toEqual([1]);
    } finally {
      await writerDb.close();
      await readerDb.close();
    }
  });
});
