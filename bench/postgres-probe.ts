/**
 * `npx tsx bench/postgres-probe.ts`: the Postgres store's foundations measured against the in-memory
 * index, on the seeds, squad11-dev and synthetic corpora (offline model). For each corpus: the full
 * write in passages/s; lexicalTop (citebot's BM25+ in SQL) and denseTop (pgvector HNSW) p50/p95 ms and
 * how they agree with the in-memory index (top 50 labels and scores; dense top 10 against exact cosine
 * and top 50 against hnswlib's, what search takes); the per-question database work a candidate source
 * would do; and on squad11-dev, R@1 of pg_textsearch's BM25 alone against citebot's postings BM25 alone.
 *
 * The database is PGlite (Postgres 18 in WebAssembly, in this process, behind its wire-protocol server),
 * or a real server with `--url postgres://…` (needs pgvector; pg_textsearch optional). Everything is
 * written into a schema of its own per corpus and dropped at the end.
 *
 * Options: --sizes 10000[,100000] (synthetic corpora; 0 for none), --questions N (timed questions per
 * corpus, default 1000), --url URL, --json FILE.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { Embedder } from '../src/embedding/embedder.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { readDataset, readSeedQuestions } from '../src/eval/datasets.js';
import { percentile } from '../src/eval/metrics.js';
import { buildIndex } from '../src/index/build.js';
import { buildMemoryIndex } from '../src/index/memory.js';
import { seedFolder } from '../src/ingest/seed-files.js';
import { queryTerms } from '../src/retrieval/question-terms.js';
import { localStore } from '../src/storage/local-store.js';
import { openDatabase } from '../src/storage/postgres/connection.js';
import { pgRetrieval } from '../src/storage/postgres/pg-retrieval.js';
import { pgIndexStore } from '../src/storage/postgres/pg-store.js';
import type { IndexContents } from '../src/storage/store.js';
import { capturing, contentsOf } from '../test/storage/postgres-contents.js';
import { startPostgres } from '../test/support/postgres.js';
import { sourceSentences, syntheticCorpus } from './corpora.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SQUAD = path.resolve(ROOT, '../shared/eval/squad11-dev');
const CANDIDATES = 50;

interface Corpus {
  name: string;
  contents: IndexContents;
  /** Questions, with gold passage files where the set has them. */
  questions: Array<{ question: string; gold?: (file: string) => boolean }>;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const latency = (samples: number[]) => ({ p50: round(percentile(samples, 50)), p95: round(percentile(samples, 95)) });

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000' },
      questions: { type: 'string', default: '1000' },
      url: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const sizes = values.sizes
    .split(',')
    .map(Number)
    .filter((size) => size > 0);
  const timedQuestions = Number(values.questions);
  const embedder: Embedder = await createTransformersEmbedder({
    model: 'local/glove-6b-100d-sif',
    modelsDir: path.join(ROOT, 'models'),
    cacheDir: path.join(ROOT, '.cache/models'),
    allowRemote: false,
  });
  const server = values.url ? undefined : await startPostgres();
  const url = values.url ?? server!.url;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'citebot-pg-probe-'));
  const results: unknown[] = [];
  try {
    const corpora: Array<() => Promise<Corpus>> = [
      async () => {
        const local = capturing(localStore(path.join(scratch, 'seeds-index')));
        await buildIndex({ source: seedFolder(path.join(ROOT, 'seeds')), store: local, embedder });
        const questions = await readSeedQuestions(path.join(ROOT, 'eval/seeds-questions.jsonl'));
        return { name: 'seeds', contents: local.last(), questions: questions.map((entry) => ({ question: entry.question })) };
      },
      async () => {
        const { articles, questions } = await readDataset(SQUAD);
        const index = await buildMemoryIndex(articles, embedder);
        return {
          name: 'squad11-dev',
          contents: contentsOf(index, embedder),
          questions: questions.map((entry) => ({ question: entry.question, gold: entry.isGold })),
        };
      },
      ...sizes.map((size) => async () => {
        const dir = path.join(scratch, `synthetic-${size}`);
        const spec = await syntheticCorpus(await sourceSentences(SQUAD), size, dir);
        const local = capturing(localStore(path.join(scratch, `synthetic-${size}-index`)));
        await buildIndex({ source: seedFolder(spec.seedsDir), store: local, embedder });
        const { questions } = await readDataset(SQUAD);
        return { name: spec.name, contents: local.last(), questions: questions.map((entry) => ({ question: entry.question })) };
      }),
    ];
    for (const make of corpora) {
      const corpus = await make();
      const result = await probe(corpus, url, embedder, timedQuestions);
      results.push(result);
      console.log(JSON.stringify(result));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    await server?.stop();
  }
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
}

async function probe(corpus: Corpus, url: string, embedder: Embedder, timedQuestions: number): Promise<unknown> {
  const { contents } = corpus;
  const schema = `probe_${corpus.name.replace(/\W/g, '_')}`;
  const db = await openDatabase(url, { schema });
  try {
    const store = pgIndexStore(db);
    const writeStarted = performance.now();
    const written = await store.write(contents);
    // The whole write as a caller waits for it: the transaction, then VACUUM (ANALYZE).
    const writeMs = performance.now() - writeStarted;
    const retrieval = pgRetrieval(db);
    const size = await db.pool.query<{ bytes: string }>(
      `SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );

    const questions = corpus.questions.slice(0, Math.max(timedQuestions, corpus.name === 'squad11-dev' ? corpus.questions.length : 0));
    const vectors = await embedder.embed(
      questions.map((entry) => entry.question),
      'query',
    );
    const lexical = contents.lexical;
    const dense = contents.vectors!;
    const lexicalMs: number[] = [];
    const denseMs: number[] = [];
    const candidateSourceMs: number[] = [];
    const textsearchMs: number[] = [];
    let lexicalSame = 0;
    let denseExact10 = 0;
    let denseHnswlib50 = 0;
    const recall = { citebotPostings: 0, citebotInMemory: 0, textsearch: 0, judged: 0 };
    const fileOf = new Map(contents.passages.map((passage) => [passage.label, passage.file]));
    // Warm the connection and the caches once.
    await retrieval.lexicalTop(queryTerms(questions[0]!.question, lexical).searched, CANDIDATES);
    await retrieval.denseTop(vectors[0]!, CANDIDATES);
    for (const [i, entry] of questions.entries()) {
      const { searched } = queryTerms(entry.question, lexical);
      const vector = vectors[i]!;
      let started = performance.now();
      const lexicalHits = await retrieval.lexicalTop(searched, CANDIDATES);
      lexicalMs.push(performance.now() - started);
      started = performance.now();
      const denseHits = await retrieval.denseTop(vector, CANDIDATES);
      denseMs.push(performance.now() - started);

      const expected = lexical.search([...searched.keys()], searched).top(CANDIDATES);
      if (
        expected.length === lexicalHits.length &&
        expected.every((hit, j) => hit.label === lexicalHits[j]!.label && hit.score === lexicalHits[j]!.score)
      )
        lexicalSame += 1;
      const exact = new Set(dense.searchExact(vector, 10).map((hit) => hit.label));
      denseExact10 += exact.size === 0 ? 1 : denseHits.slice(0, 10).filter((hit) => exact.has(hit.label)).length / exact.size;
      const hnswlib = new Set(dense.search(vector, CANDIDATES).map((hit) => hit.label));
      denseHnswlib50 += hnswlib.size === 0 ? 1 : denseHits.filter((hit) => hnswlib.has(hit.label)).length / hnswlib.size;

      // What a candidate source would ask the database for one question, in one snapshot.
      started = performance.now();
      await retrieval.snapshot(async (snapshot) => {
        const stats = await snapshot.termStats(searched.keys());
        const [top, near] = [await snapshot.lexicalTop(searched, CANDIDATES, { stats }), await snapshot.denseTop(vector, CANDIDATES)];
        const lexicalLabels = new Set(top.map((hit) => hit.label));
        const denseOnly = near.map((hit) => hit.label).filter((label) => !lexicalLabels.has(label));
        await snapshot.lexicalScores(searched, denseOnly, { stats });
        await snapshot.candidateRows([...lexicalLabels, ...denseOnly], vector);
      });
      candidateSourceMs.push(performance.now() - started);

      if (entry.gold) {
        recall.judged += 1;
        if (lexicalHits[0] && entry.gold(fileOf.get(lexicalHits[0].label)!)) recall.citebotPostings += 1;
        if (expected[0] && entry.gold(fileOf.get(expected[0].label)!)) recall.citebotInMemory += 1;
      }
      if (written.textsearch) {
        started = performance.now();
        const [best] = await retrieval.textsearchTop(entry.question, CANDIDATES);
        textsearchMs.push(performance.now() - started);
        if (entry.gold && best && entry.gold(fileOf.get(best.label)!)) recall.textsearch += 1;
      }
    }
    const n = questions.length;
    return {
      corpus: corpus.name,
      passages: written.passages,
      postings: written.postings,
      write: {
        seconds: round(writeMs / 1000),
        passagesPerSecond: Math.round(written.passages / (writeMs / 1000)),
        stagesMs: {
          ...Object.fromEntries(Object.entries(written.timingsMs).map(([stage, ms]) => [stage, Math.round(ms)])),
          vacuum: Math.round(writeMs - written.timingsMs.total),
        },
        tableMb: round(Number(size.rows[0]?.bytes ?? 0) / 1e6, 1),
      },
      questions: n,
      lexicalTopMs: latency(lexicalMs),
      denseTopMs: latency(denseMs),
      candidateSourceMs: latency(candidateSourceMs),
      ...(textsearchMs.length > 0 ? { textsearchTopMs: latency(textsearchMs) } : {}),
      lexicalTop50Identical: round(lexicalSame / n, 4),
      denseTop10OverlapWithExact: round(denseExact10 / n, 4),
      denseTop50OverlapWithHnswlib: round(denseHnswlib50 / n, 4),
      textsearch: written.textsearch,
      ...(recall.judged > 0
        ? {
            recallAt1: {
              questions: recall.judged,
              citebotBm25Postgres: round(recall.citebotPostings / recall.judged, 3),
              citebotBm25InMemory: round(recall.citebotInMemory / recall.judged, 3),
              ...(written.textsearch ? { pgTextsearch: round(recall.textsearch / recall.judged, 3) } : {}),
            },
          }
        : {}),
    };
  } finally {
    await db.pool.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => {});
    await db.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
