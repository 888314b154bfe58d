/**
 * Writing the index into Postgres and reading it back: the seeds index as the project's build computes
 * it, an update by source hash that touches only what changed, a writer killed mid-transaction, and odd
 * input (an empty corpus, unusual Unicode, huge passages). Against a real Postgres (PGlite over the wire,
 * see test/support/postgres.ts); each test writes into its own schema.
 */
import { spawn } from 'node:child_process';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildIndex } from '../../src/index/build.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, lexicalDocument } from '../../src/index/bm25.js';
import { articleRecord, scanSource } from '../../src/index/changes.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { seedFolder } from '../../src/ingest/seed-files.js';
import type { ArticleRecord, IndexedPassage } from '../../src/model.js';
import { localStore } from '../../src/storage/local-store.js';
import { openDatabase, type PgDatabase } from '../../src/storage/postgres/connection.js';
import { pgIndexStore, type IndexUpdate, type PgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { passageTerms } from '../../src/storage/postgres/passage-terms.js';
import type * as passageTermsModule from '../../src/storage/postgres/passage-terms.js';
import { pgRetrieval } from '../../src/storage/postgres/pg-retrieval.js';
import { BLOCK_LABELS, packBlocksSql } from '../../src/storage/postgres/schema.js';
import { vectorFromBinary } from '../../src/storage/postgres/rows.js';
import type { IndexContents, LoadedIndex } from '../../src/storage/store.js';
import { queryTerms } from '../../src/retrieval/question-terms.js';
import { copySeeds, createFakeEmbedder, makeArticle, makeTempDir, removeTempDirs, REPO_ROOT } from '../helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { capturing, contentsOf, setupOf } from './postgres-contents.js';

// Counted, to check that a write analyses each passage once.
vi.mock('../../src/storage/postgres/passage-terms.js', async (importOriginal) => {
  const actual = await importOriginal<typeof passageTermsModule>();
  return { ...actual, passageTerms: vi.fn(actual.passageTerms) };
});

let server: TestPostgres;
let admin: pg.Pool;
const opened: PgDatabase[] = [];

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 1 });
});

afterAll(async () => {
  await Promise.all(opened.map((db) => db.close()));
  await admin?.end();
  await server?.stop();
  await removeTempDirs();
});

async function open(schema: string): Promise<{ db: PgDatabase; store: PgIndexStore }> {
  const db = await openDatabase(server.url, { schema });
  opened.push(db);
  return { db, store: pgIndexStore(db) };
}

/** The names of the indexes in a schema, in order. */
async function indexNames(schema: string): Promise<string[]> {
  const indexes = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname', [
    schema,
  ]);
  return indexes.rows.map((row) => row.indexname);
}

const embedder = createFakeEmbedder();

/** The seeds built by the project's build path into a local store; what it saved, and the store. */
async function buildSeeds(seedsDir: string) {
  const local = capturing(localStore(await makeTempDir('citebot-pg-index-')));
  const report = await buildIndex({ source: seedFolder(seedsDir), store: local, embedder });
  return { local, contents: local.last(), manifest: report.manifest };
}

function byFile(a: { file: string }, b: { file: string }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}

/** Every stored vector, by label (undefined where the column is NULL). */
async function storedVectors(schema: string): Promise<Map<number, Float32Array | undefined>> {
  const result = await admin.query<{ label: number; vector: Buffer | null }>(
    `SELECT label, vector_send(embedding) AS vector FROM ${schema}.citebot_passages ORDER BY label`,
  );
  return new Map(result.rows.map((row) => [row.label, row.vector ? vectorFromBinary(row.vector) : undefined]));
}

/** Row versions (xmin) by key: a row rewritten in place or replaced gets a new one. */
async function rowVersions(sql: string): Promise<Map<string, string>> {
  const result = await admin.query<{ key: string; xmin: string }>(sql);
  return new Map(result.rows.map((row) => [String(row.key), row.xmin]));
}

/** Top 10 of every seeds question in both stores, as [label, score] pairs. */
/** The packed posting blocks are exactly a fresh packing of the postings (what a full write makes). */
async function blocksArePacked(db: PgDatabase): Promise<void> {
  const columns = 'term_id, field, block, labels, tfs, lengths, highest';
  const stored = await db.pool.query(`SELECT ${columns} FROM ${db.tables.postingBlocks} ORDER BY term_id, field, block`);
  const packing = packBlocksSql(db.tables, '');
  const fresh = await db.pool.query(
    `SELECT ${columns} FROM (${packing.slice(packing.indexOf('SELECT'))}) AS packed(${columns}) ORDER BY term_id, field, block`,
  );
  expect(stored.rows.length).toBeGreaterThan(0);
  expect(stored.rows).toEqual(fresh.rows);
}

async function lexicalTopsAgree(db: PgDatabase, lexical: LexicalIndex): Promise<void> {
  const retrieval = pgRetrieval(db);
  const questions = [
    'How many US troops are in Syria?',
    'What did Lavrov say in Beijing?',
    'museum tourists Damascus',
    'Who wrote about Russia and oil?',
  ];
  for (const question of questions) {
    const { searched } = queryTerms(question, lexical);
    const expected = lexical.search([...searched.keys()], searched).top(10);
    const found = await retrieval.lexicalTop(searched, 10);
    expect(
      found.map((hit) => [hit.label, hit.score]),
      question,
    ).toEqual(expected.map((hit) => [hit.label, hit.score]));
  }
}

describe('the Postgres store', () => {
  it('write the seeds index as the build computes it, and read back the same articles, passages and vectors', async () => {
    const { contents, manifest } = await buildSeeds(path.join(REPO_ROOT, 'seeds'));
    const { db, store } = await open('seeds');
    const report = await store.write(contents);
    expect(report).toMatchObject({ generation: 1, articles: 5, passages: contents.passages.length, textsearch: true });
    expect(contents.passages.length).toBeGreaterThan(60);

    expect(await store.articles()).toEqual([...contents.articles].sort(byFile));
    expect(await store.passages()).toEqual([...contents.passages].sort((a, b) => a.label - b.label));
    const vectors = await storedVectors('seeds');
    for (const passage of contents.passages)
      expect(vectors.get(passage.label), passage.id).toEqual(contents.vectors!.vector(passage.label));

    const meta = await store.meta();
    expect(meta).toMatchObject({
      generation: 1,
      built: true,
      mode: 'hybrid',
      embedding: embedder.fingerprint,
      lexical: { bm25: DEFAULT_LEXICAL_OPTIONS.bm25, titleBoost: DEFAULT_LEXICAL_OPTIONS.titleBoost },
      hnsw: manifest.build.hnsw,
      nextLabel: manifest.build.nextLabel,
      articleCount: 5,
      passageCount: contents.passages.length,
      maxPassageChars: manifest.build.maxPassageChars,
      parserVersion: manifest.build.parserVersion,
      textsearch: true,
    });
    // The lexical statistics are the in-memory index's: every live term with its document frequency.
    const retrieval = pgRetrieval(db);
    const live = contents.lexical.liveTerms();
    expect(new Set(await retrieval.vocabulary())).toEqual(new Set(live));
    const stats = await retrieval.termStats(live);
    for (const term of live) expect(stats.documentFrequency(term), term).toBe(contents.lexical.documentFrequency(term));
    expect(stats.idf('syria')).toBe(contents.lexical.idf('syria'));
    expect(stats.idf('no-such-term')).toBe(contents.lexical.idf('no-such-term'));
    // And the indexes a search uses.
    expect(await indexNames('seeds')).toEqual(
      expect.arrayContaining([
        'citebot_passages_embedding_hnsw',
        'citebot_passages_text_bm25',
        'citebot_postings_key',
        'citebot_postings_label',
      ]),
    );
  });

  it('replace everything on a second full write, lexical-only this time, and bump the generation', async () => {
    const { contents } = await buildSeeds(path.join(REPO_ROOT, 'seeds'));
    const { db, store } = await open('rewrite');
    await store.write(contents);
    const articles = [
      makeArticle('only.txt', ['Helicopters landed near the Euphrates on Tuesday.', 'Nobody was hurt.'], { title: 'Landing' }),
    ];
    const lexicalOnly = contentsOf(await buildMemoryIndex(articles, null), null);
    const report = await store.write(lexicalOnly);
    expect(report).toMatchObject({ generation: 2, articles: 1, passages: 2 });
    expect(await store.articles()).toEqual(lexicalOnly.articles);
    expect(await store.passages()).toEqual(lexicalOnly.passages);
    expect(await store.meta()).toMatchObject({ generation: 2, mode: 'lexical', embedding: null, passageCount: 2, nextLabel: 2 });
    expect([...(await storedVectors('rewrite')).values()]).toEqual([undefined, undefined]);
    const hnsw = await admin.query(`SELECT to_regclass('rewrite.citebot_passages_embedding_hnsw') AS present`);
    expect(hnsw.rows[0].present).toBeNull();
    await lexicalTopsAgree(db, lexicalOnly.lexical);
  });

  it('update by source hash: only the changed, removed and added articles’ rows change, and the generation moves by one', async () => {
    const seedsDir = await copySeeds();
    const { local, contents, manifest } = await buildSeeds(seedsDir);
    const { db, store } = await open('updates');
    await store.write(contents);
    const [changedFile, removedFile, ...untouchedFiles] = [...contents.articles].map((article) => article.file).sort();
    const articleVersions = () => rowVersions(`SELECT file AS key, xmin FROM updates.citebot_articles`);
    const passageVersions = () => rowVersions(`SELECT label AS key, xmin FROM updates.citebot_passages`);
    const postingVersions = () => rowVersions(`SELECT term_id || '/' || field || '/' || label AS key, xmin FROM updates.citebot_postings`);
    const before = { articles: await articleVersions(), passages: await passageVersions(), postings: await postingVersions() };
    const labelsOf = (file: string) => contents.passages.filter((passage) => passage.file === file).map((passage) => passage.label);

    await appendFile(
      path.join(seedsDir, changedFile!),
      '\n\nA late paragraph says the helicopters were grounded by sandstorms over Deir ez-Zor.\n',
    );
    await rm(path.join(seedsDir, removedFile!));
    await writeFile(
      path.join(seedsDir, 'zz-new.txt'),
      'Zeppelin sighted\n\nA zeppelin was sighted over Aleppo on Monday, witnesses said.\n\nIt left by nightfall.\n',
    );

    // What an update by the build's own scan hands the store: every article with its hash, the new passages and vectors.
    const scan = await scanSource(seedFolder(seedsDir), manifest, { chunkSize: 512 });
    const kept = (await store.articles()).filter((article) => scan.keptFiles.has(article.file));
    const articles: ArticleRecord[] = [...kept, ...scan.fresh.map((article) => articleRecord(article, scan.stamps.get(article.file)))];
    vi.mocked(passageTerms).mockClear();
    const report = await store.update({
      embedding: embedder.fingerprint,
      ...setupOf(contents),
      articles,
      passages: scan.freshPassages,
      vectors: await embedder.embed(
        scan.freshPassages.map((passage) => passage.text),
        'passage',
      ),
      nextLabel: scan.nextLabel,
    });
    expect(report).toMatchObject({
      generation: 2,
      upToDate: false,
      added: ['zz-new.txt'],
      changed: [changedFile],
      removed: [removedFile],
      unchanged: untouchedFiles.length,
      passagesAdded: scan.freshPassages.length,
      passagesRemoved: labelsOf(changedFile!).length + labelsOf(removedFile!).length,
    });
    // Each new passage analysed once: for the ids of its terms and for its postings alike.
    expect(scan.freshPassages.length).toBeGreaterThan(1);
    expect(vi.mocked(passageTerms)).toHaveBeenCalledTimes(scan.freshPassages.length);

    const after = { articles: await articleVersions(), passages: await passageVersions(), postings: await postingVersions() };
    for (const file of untouchedFiles) expect(after.articles.get(file), file).toBe(before.articles.get(file));
    expect(after.articles.has(removedFile!)).toBe(false);
    expect(after.articles.get(changedFile!)).not.toBe(before.articles.get(changedFile!));
    const untouchedLabels = untouchedFiles.flatMap(labelsOf).map(String);
    for (const label of untouchedLabels) expect(after.passages.get(label), `passage ${label}`).toBe(before.passages.get(label));
    for (const label of [...labelsOf(changedFile!), ...labelsOf(removedFile!)]) expect(after.passages.has(String(label))).toBe(false);
    expect([...after.passages.keys()].map(Number).sort((a, b) => a - b)).toEqual(
      [...untouchedFiles.flatMap(labelsOf), ...scan.freshPassages.map((passage) => passage.label)].sort((a, b) => a - b),
    );
    const untouchedPostings = [...before.postings].filter(([key]) => untouchedLabels.includes(key.split('/')[2]!));
    expect(untouchedPostings.length).toBeGreaterThan(100);
    for (const [key, version] of untouchedPostings) expect(after.postings.get(key), key).toBe(version);

    // The same as the local store after the build's own update of the same files: records, vectors and BM25.
    const built = await buildIndex({ source: seedFolder(seedsDir), store: local, embedder });
    expect(built.wrote).toBe('delta');
    const reference: LoadedIndex = await local.load();
    expect(await store.articles()).toEqual([...reference.articles.values()].sort(byFile));
    expect(await store.passages()).toEqual([...reference.passages.values()].sort((a, b) => a.label - b.label));
    const vectors = await storedVectors('updates');
    for (const passage of reference.passages.values())
      expect(vectors.get(passage.label), passage.id).toEqual(reference.vectors!.vector(passage.label));
    expect(await store.meta()).toMatchObject({
      generation: 2,
      nextLabel: scan.nextLabel,
      articleCount: reference.articles.size,
      passageCount: reference.passages.size,
    });
    const stats = await pgRetrieval(db).termStats(reference.lexical.liveTerms());
    for (const term of reference.lexical.liveTerms())
      expect(stats.documentFrequency(term), term).toBe(reference.lexical.documentFrequency(term));
    expect(new Set(await pgRetrieval(db).vocabulary())).toEqual(new Set(reference.lexical.liveTerms()));
    await lexicalTopsAgree(db, reference.lexical);
    await blocksArePacked(db);

    // The same articles again: nothing to do, nothing written.
    const again = await store.update({
      embedding: embedder.fingerprint,
      ...setupOf(contents),
      articles: await store.articles(),
      passages: [],
      vectors: [],
      nextLabel: scan.nextLabel,
    });
    expect(again).toMatchObject({ generation: 2, upToDate: true, added: [], changed: [], removed: [] });
    expect(await passageVersions()).toEqual(after.passages);
  });

  it('repack only the posting blocks an update touched, across block boundaries, equal to a fresh packing', async () => {
    const { store, db } = await open('blocks');
    const articles = Array.from({ length: 6 }, (_, i) =>
      makeArticle(`b${i}.txt`, [`Troops and helicopters left base ${i} at dawn.`, `Officials said base ${i} would close.`], {
        title: `Base ${i}`,
      }),
    );
    const index = await buildMemoryIndex(articles, embedder);
    const contents = contentsOf(index, embedder);
    // Labels around a block boundary, as in an index that has grown past it.
    const shift = BLOCK_LABELS - 5;
    const shifted = contents.passages.map((passage) => ({ ...passage, label: passage.label + shift }));
    await store.write({
      ...contents,
      passages: shifted,
      vectors: { dimension: embedder.fingerprint.dimension, vector: (label) => index.vectors!.vector(label - shift) },
      nextLabel: contents.nextLabel + shift,
    });
    await blocksArePacked(db);
    const kept = contents.articles.filter((article) => article.file !== 'b1.txt' && article.file !== 'b4.txt');
    const added = makeArticle('b9.txt', ['Helicopters returned to base 9 at noon.'], { title: 'Base 9' });
    const addedRecord = articleRecord(added);
    const fresh: IndexedPassage = { ...(await buildMemoryIndex([added], embedder)).passages.get(0)!, label: contents.nextLabel + shift };
    await store.update({
      embedding: embedder.fingerprint,
      ...setupOf(contents),
      articles: [...kept, addedRecord],
      passages: [fresh],
      vectors: await embedder.embed([fresh.text], 'passage'),
      nextLabel: fresh.label + 1,
    });
    await blocksArePacked(db);
    const top = await pgRetrieval(db).lexicalTop(new Map([['helicopt', 1]]), 10);
    expect(top.map((hit) => hit.label)).toContain(fresh.label);
    expect((await store.passages()).some((passage) => passage.file === 'b1.txt')).toBe(false);
  });

  it('refuse an update before a full write, or made with another setup than the stored one, saying why and writing nothing', async () => {
    const { store } = await open('refusals');
    await expect(
      store.update({
        embedding: null,
        ...setupOf(contentsOf(await buildMemoryIndex([], null), null)),
        articles: [],
        passages: [],
        vectors: null,
        nextLabel: 0,
      }),
    ).rejects.toThrow(/write it in full first/);
    const written = contentsOf(await buildMemoryIndex([makeArticle('a.txt', ['Troops in Syria.'])], embedder), embedder);
    await store.write(written);
    const before = { meta: await store.meta(), articles: await store.articles(), passages: await store.passages() };

    // An update that would add an article, under the stored setup but for one thing each time.
    const more = await buildMemoryIndex([makeArticle('b.txt', ['Helicopters landed near the Euphrates.'], { title: 'Landing' })], embedder);
    const passage = { ...[...more.passages.values()][0]!, label: 1 };
    const update: IndexUpdate = {
      embedding: embedder.fingerprint,
      ...setupOf(written),
      articles: [...written.articles, ...more.articles.values()],
      passages: [passage],
      vectors: await embedder.embed([passage.text], 'passage'),
      nextLabel: 2,
    };
    const { bm25, titleBoost } = written.lexicalOptions;
    const { m, efConstruction, efSearch } = written.hnsw;
    const refusals: Array<[Partial<IndexUpdate>, RegExp]> = [
      [
        { embedding: createFakeEmbedder({ model: 'test/another-model' }).fingerprint },
        /the embedding setup changed \(model "test\/fake-concepts" → "test\/another-model"\)/,
      ],
      [
        { embedding: { ...embedder.fingerprint, passagePrefix: 'passage: ' } },
        /the embedding setup changed \(passagePrefix "" → "passage: "\)/,
      ],
      [{ embedding: null, vectors: null }, /the index has embeddings \(test\/fake-concepts\) and the update has none/],
      [{ lexicalOptions: { bm25: { ...bm25, k: 1.5 }, titleBoost } }, /the BM25 parameters changed \(k 1\.2 → 1\.5\)/],
      [{ lexicalOptions: { bm25: { ...bm25, d: 0 }, titleBoost } }, /the BM25 parameters changed \(d 0\.5 → 0\)/],
      [{ lexicalOptions: { bm25, titleBoost: 0.5 } }, /the BM25 parameters changed \(titleBoost 0\.3 → 0\.5\)/],
      [{ hnsw: { m: 32, efConstruction, efSearch } }, /the HNSW parameters changed \(m 16 → 32\)/],
      [{ hnsw: { m, efConstruction: 128, efSearch } }, /the HNSW parameters changed \(efConstruction 64 → 128\)/],
      [{ maxPassageChars: 800 }, /the passage size changed \(1200 → 800 characters\)/],
      [{ lexicalOptions: { ...written.lexicalOptions, analyze: (text) => text.split(' ') } }, /citebot’s own analyser/],
    ];
    for (const [change, reason] of refusals) {
      const error = await store.update({ ...update, ...change }).then(
        () => new Error('the update was accepted'),
        (caught: unknown) => caught as Error,
      );
      expect(error.message, String(reason)).toMatch(reason);
      if (!change.lexicalOptions?.analyze)
        expect(error.message).toMatch(
          /^Cannot update the index in postgres:\/\/127\.0\.0\.1:\d+\/postgres: .*; write the index in full instead\.$/,
        );
    }
    // The parser version is this code's: an index written by another parser is refused too.
    await admin.query(`UPDATE refusals.citebot_index SET parser_version = parser_version - 1`);
    await expect(store.update(update)).rejects.toThrow(
      new RegExp(`the article parser changed \\(version ${before.meta.parserVersion! - 1} → ${before.meta.parserVersion}\\)`),
    );
    await admin.query(`UPDATE refusals.citebot_index SET parser_version = parser_version + 1`);
    expect({ meta: await store.meta(), articles: await store.articles(), passages: await store.passages() }).toEqual(before);

    // Under the stored setup (read back from jsonb, whose key order is not the one written) it goes through;
    // efSearch is a search setting here (`openDatabase(…, { efSearch })`), not part of what was written.
    expect(await store.update({ ...update, hnsw: { m, efConstruction, efSearch: efSearch + 100 } })).toMatchObject({
      generation: 2,
      added: ['b.txt'],
      passagesAdded: 1,
    });

    // A lexical-only index takes no embeddings.
    const { store: lexicalStore } = await open('refusals_lexical');
    const lexicalOnly = contentsOf(await buildMemoryIndex([makeArticle('a.txt', ['Troops in Syria.'])], null), null);
    await lexicalStore.write(lexicalOnly);
    await expect(lexicalStore.update(update)).rejects.toThrow(/the index is lexical-only and the update has embeddings/);
    expect(await lexicalStore.update({ ...update, embedding: null, vectors: null })).toMatchObject({ generation: 2, added: ['b.txt'] });
  });

  it('keep the index in a schema named by a reserved word: write, update, search, rewrite', async () => {
    const { db, store } = await open('user');
    const first = await buildMemoryIndex(
      [makeArticle('a.txt', ['Troops stayed in Syria through the winter.'], { title: 'Winter' })],
      embedder,
    );
    const written = contentsOf(first, embedder);
    expect(await store.write(written)).toMatchObject({ generation: 1, passages: 1, textsearch: true });
    const more = await buildMemoryIndex([makeArticle('b.txt', ['Helicopters landed near the Euphrates.'], { title: 'Landing' })], embedder);
    const passage = { ...[...more.passages.values()][0]!, label: 1 };
    expect(
      await store.update({
        embedding: embedder.fingerprint,
        ...setupOf(written),
        articles: [...written.articles, ...more.articles.values()],
        passages: [passage],
        vectors: await embedder.embed([passage.text], 'passage'),
        nextLabel: 2,
      }),
    ).toMatchObject({ generation: 2, added: ['b.txt'] });
    const retrieval = pgRetrieval(db);
    expect((await retrieval.lexicalTop(new Map([['helicopt', 1]]), 5)).map((hit) => hit.label)).toEqual([1]);
    const [question] = await embedder.embed(['troops in syria'], 'query');
    expect((await retrieval.denseTop(question!, 1)).map((hit) => hit.label)).toEqual([0]);
    expect((await retrieval.textsearchTop('helicopters', 5)).map((hit) => hit.label)).toEqual([1]);
    expect((await retrieval.candidateRows([1, 0])).map((row) => row.article.file)).toEqual(['b.txt', 'a.txt']);
    // A full write drops and builds the schema's indexes again.
    expect(await store.write(written)).toMatchObject({ generation: 3, passages: 1 });
    expect(await indexNames('user')).toEqual(
      expect.arrayContaining([
        'citebot_passages_embedding_hnsw',
        'citebot_passages_text_bm25',
        'citebot_postings_key',
        'citebot_postings_label',
      ]),
    );
    expect(await store.passages()).toEqual(written.passages);
  });

  it('keep the previous generation whole when a writer is killed inside its transaction', async () => {
    const { contents } = await buildSeeds(path.join(REPO_ROOT, 'seeds'));
    const { store } = await open('killed');
    await store.write(contents);
    const before = { meta: await store.meta(), articles: await store.articles(), passages: await store.passages() };

    // Node itself with tsx's loader, not the tsx command: that one runs the script in a child of its own, which a kill would miss.
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/storage/postgres-killed-writer.ts'), server.url, 'killed'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('inside')) resolve();
      });
      void exited.then((end) => reject(new Error(`the writer ended (${String(end)}) before it was inside its transaction: ${stderr}`)));
    });
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    expect(await store.meta()).toEqual(before.meta);
    expect(await store.articles()).toEqual(before.articles);
    expect(await store.passages()).toEqual(before.passages);
    const doomed = await admin.query(`SELECT count(*)::integer AS n FROM killed.citebot_terms WHERE term IN ('zeppelin', 'marmalad')`);
    expect(doomed.rows[0]).toEqual({ n: 0 });
    const hnsw = await admin.query(`SELECT to_regclass('killed.citebot_passages_embedding_hnsw') IS NOT NULL AS present`);
    expect(hnsw.rows[0]).toEqual({ present: true });
    // Its lock went with it: the next write goes through.
    expect((await store.write(contents)).generation).toBe(before.meta.generation + 1);
  }, 90_000);

  it('write and search an empty corpus, then update it', async () => {
    const { db, store } = await open('empty');
    const empty = contentsOf(await buildMemoryIndex([], embedder), embedder);
    expect(await store.write(empty)).toMatchObject({ generation: 1, articles: 0, passages: 0, postings: 0 });
    expect(await store.articles()).toEqual([]);
    expect(await store.meta()).toMatchObject({ built: true, passageCount: 0, nextLabel: 0 });
    const retrieval = pgRetrieval(db);
    const { searched } = queryTerms('How many troops are in Syria?', empty.lexical);
    expect(await retrieval.lexicalTop(searched, 10)).toEqual([]);
    expect(await retrieval.denseTop((await embedder.embed(['troops in syria'], 'query'))[0]!, 10)).toEqual([]);
    expect(await retrieval.vocabulary()).toEqual([]);

    const one = await buildMemoryIndex([makeArticle('first.txt', ['The first troops arrived in Syria.'], { title: 'First' })], embedder);
    const passages = [...one.passages.values()];
    const report = await store.update({
      embedding: embedder.fingerprint,
      ...setupOf(empty),
      articles: [...one.articles.values()],
      passages,
      vectors: passages.map((passage) => one.vectors!.vector(passage.label) ?? new Float32Array(embedder.fingerprint.dimension)),
      nextLabel: passages.length,
    });
    expect(report).toMatchObject({ generation: 2, added: ['first.txt'], passagesAdded: 1 });
    await lexicalTopsAgree(db, one.lexical);
  });

  it('store odd Unicode as it is (NUL and unpaired surrogates as U+FFFD) and huge passages, and score them as the in-memory index does', async () => {
    const odd = [
      'Zakharová said 🇷🇺 troops — «около 2 000» — stay; 北京 talks 🤝 went on.',
      'Combining: Zakharo\u0301va; zero-width: tro\u200Bops; RTL: \u202Eaiyrs\u202C; emoji family 👩‍👩‍👧.',
      'A NUL\u0000inside and a lone \uD83D surrogate and another \uDC00 one.',
    ];
    const huge = `${'Sandstorms grounded the helicopters over the desert again and again '.repeat(30_000)}finally.`;
    const passages: IndexedPassage[] = [
      ...odd.map((text, i) => ({
        id: `odd ✓ 文件.txt#${i + 1}`,
        file: 'odd ✓ 文件.txt',
        paragraph: i + 1,
        text,
        start: 0,
        end: text.length,
        sentences: [{ start: 0, end: text.length }],
        label: i,
      })),
      ...[0, 1].map((i) => ({
        id: `huge.txt#${i + 1}`,
        file: 'huge.txt',
        paragraph: i + 1,
        text: huge,
        start: 0,
        end: huge.length,
        sentences: [{ start: 0, end: huge.length }],
        label: 3 + i,
      })),
    ];
    expect(huge.length).toBeGreaterThan(2_000_000);
    const articles: ArticleRecord[] = [
      { file: 'huge.txt', hash: 'h2', title: 'Huge', titleSource: 'page', paragraphCount: 2 },
      {
        file: 'odd ✓ 文件.txt',
        hash: 'h1',
        title: 'Zakharová 🤝 北京 \u0000 title',
        titleSource: 'front-matter',
        outlet: 'Вести',
        byline: 'Мария',
        date: '2019-03-14',
        url: 'https://example.com/ü?q=1',
        lang: 'ru',
        paragraphCount: 3,
        size: 123,
        mtimeMs: 1712345678901.5,
      },
    ];
    const lexical = LexicalIndex.create();
    lexical.add(passages.map((passage) => lexicalDocument(passage, articles.find((article) => article.file === passage.file)!.title)));
    const contents: IndexContents = {
      ...contentsOf({ articles: new Map(), passages: new Map(), lexical, vectors: null }, null),
      articles,
      passages,
      lexical,
      nextLabel: 5,
    };
    const { db, store } = await open('unicode');
    await store.write(contents, { batchPassages: 2 });

    // eslint-disable-next-line no-control-regex -- NUL is what Postgres cannot store
    const fffd = (text: string) => text.replace(/\u0000|\uD83D(?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])\uDC00/g, '\uFFFD');
    const stored = await store.passages();
    expect(stored.map((passage) => passage.text)).toEqual(passages.map((passage) => fffd(passage.text)));
    expect(stored.map((passage) => passage.text.length)).toEqual(passages.map((passage) => passage.text.length));
    expect(stored.slice(0, 2)).toEqual(passages.slice(0, 2));
    expect(stored[2]!.text).toBe('A NUL\uFFFDinside and a lone \uFFFD surrogate and another \uFFFD one.');
    const storedArticles = await store.articles();
    expect(storedArticles[1]).toEqual({ ...articles[1], title: 'Zakharová 🤝 北京 \uFFFD title' });
    expect(storedArticles[0]).toEqual(articles[0]);
    // Stems are those of the text as given (NUL and surrogates are no word characters either way).
    await lexicalTopsAgree(db, lexical);
    for (const question of ['zakharova troops beijing', 'sandstorms helicopters', 'lone surrogate', 'aiyrs family']) {
      const { searched } = queryTerms(question, lexical);
      const expected = lexical.search([...searched.keys()], searched).top(5);
      expect(
        (await pgRetrieval(db).lexicalTop(searched, 5)).map((hit) => [hit.label, hit.score]),
        question,
      ).toEqual(expected.map((hit) => [hit.label, hit.score]));
    }
  });
});
