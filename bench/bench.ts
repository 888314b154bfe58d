/**
 * `npm run bench`: speed, memory and scale, side by side with the alternatives. Each corpus is built by
 * the index command in a fresh process, as a user builds it (so peak RSS is that build's own), then
 * loaded and queried warm here; cold starts are `npm run ask` runs. Prints a table and writes
 * bench/results.json and bench/chart.svg. Runs from the TypeScript sources (tsx): it is not part of the
 * build, and it reuses the tests' fake Discord for the bot path.
 */
import { execFile, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answerQuestion } from '../src/retrieval/answer.js';
import { Bm25Baseline } from '../src/eval/baseline.js';
import { readDataset, type LabelledQuestion } from '../src/eval/datasets.js';
import { buildPeers, type PeerRetriever } from '../src/eval/peers.js';
import type { IndexedPassage } from '../src/model.js';
import { lanceDbPeer } from './lancedb-peer.js';
import { recallAt10 } from './hnsw-recall.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { buildIndex, type BuildReport } from '../src/index/build.js';
import { percentile } from '../src/eval/metrics.js';
import { search } from '../src/retrieval/search.js';
import { localStore } from '../src/storage/local-store.js';
import pg from 'pg';
import { openDatabase } from '../src/storage/postgres/connection.js';
import { openPgSearchIndex } from '../src/storage/postgres/pg-candidates.js';
import { openWordVectors } from '../src/app/runtime.js';
import { seedFolder } from '../src/ingest/seed-files.js';
import { seedsCorpus, sourceSentences, squadCorpus, syntheticCorpus, type CorpusSpec } from './corpora.js';
import { configFromEnvironment, parseCommandLine, runMain, UsageError } from '../src/app/cli.js';

const USAGE =
  'usage: npm run bench [-- --sizes 10000,100000] [--questions N] [--bot N] [--peers-max N] [--postgres URL] [--postgres-max N] [--out DIR] [--keep]\n       npm run bench -- --chart [--out DIR]   (draws chart.svg again from the last run in results.json)';

interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

function latency(samples: number[]): Latency {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
}

/** The latency of `run` over every question, one after another, warm. */
async function timeEach(questions: readonly string[], run: (question: string) => unknown | Promise<unknown>): Promise<Latency> {
  const samples: number[] = [];
  for (const question of questions) {
    const started = performance.now();
    await run(question);
    samples.push(performance.now() - started);
  }
  return latency(samples);
}

interface CorpusResult {
  corpus: string;
  articles: number;
  passages: number;
  build: {
    totalMs: number;
    passagesPerSecond: number;
    stagesMs: BuildReport['timingsMs'];
    peakRssMb: number;
    diskBytes: number;
  };
  incremental?: {
    changedArticles: 1;
    corpusArticles: number;
    totalMs: number;
    shareOfFullBuild: number;
    embeddedPassages: number;
    /** What the update wrote: a delta over the generation, or a new generation. */
    wrote: string;
    /** The next change, merged into a new generation instead (what an update does once the delta is full). */
    mergeMs: number;
    /** Loading the index with the delta applied, and after the merge. */
    loadWithDeltaMs: number;
    loadMergedMs: number;
  };
  queries: {
    count: number;
    hybrid: Latency;
    answer: Latency;
    bm25: Latency;
    exactDense: Latency;
  };
  /**
   * recallAt10: share of the exact 10 nearest found, a neighbour as near as the 10th exact one counting as
   * found (synthetic corpora repeat passages: of identical vectors either one is right); labelRecallAt10:
   * share of the exact 10 labels returned.
   */
  hnsw: { m: number; efConstruction: number; efSearch: number; recallAt10: number; labelRecallAt10?: number };
  /** What a user would pick instead, over the same passages and vectors (up to --peers-max passages). */
  peers?: PeerResult[];
  /** On squad11-dev: S@1 (a gold paragraph first) over every question, citebot in the same run as the peers. */
  quality?: { questions: number; citebotSuccessAt1: number };
  /** The same corpus built into Postgres (--postgres) by the index command, and answered from there. */
  postgres?: PostgresResult;
}

interface PostgresResult {
  /** Server version and pgvector's, as the server reports them. */
  server: string;
  build: { totalMs: number; passagesPerSecond: number; stagesMs: BuildReport['timingsMs']; peakRssMb: number };
  queries: { count: number; hybrid: Latency; answer: Latency };
  /** S@1 on squad11-dev answered from Postgres, beside the local store's. */
  successAt1?: number;
}

interface PeerResult {
  name: string;
  buildMs: number;
  /** Warm query latency, with embedding the question included for the peers that take a vector. */
  query: Latency;
  /** S@1 on squad11-dev (only for that corpus). */
  successAt1?: number;
}

/** What `npm run index -- --json` reports, as far as the benchmark reads it. */
interface IndexCommandReport {
  articleCount: number;
  passageCount: number;
  embeddedPassages: number;
  wrote?: string;
  timingsMs: BuildReport['timingsMs'];
  peakRssMb: number;
}

/** Runs `npm run index -- --json ARGS` on a corpus the way a user runs it: a fresh process through bin/run.mjs. */
async function indexCommand(seedsDir: string, indexDir: string, args: string[] = []): Promise<IndexCommandReport> {
  const child = await runCommand(['app/build-index', '--json', ...args], { SEEDS_DIR: seedsDir, INDEX_DIR: indexDir });
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as IndexCommandReport;
}

/**
 * Builds one corpus with the index command, then queries it warm in a fresh bench process of its own, so
 * that no corpus is timed in a heap that the ones before it filled.
 */
async function measureCorpus(
  seedsDir: string,
  indexDir: string,
  questionCount: number,
  options: { peers: boolean; judge?: string },
): Promise<CorpusResult> {
  const report = await indexCommand(seedsDir, indexDir, ['--rebuild']);
  const child = await runBench([
    '--child-query',
    indexDir,
    '--questions',
    String(questionCount),
    ...(options.peers ? ['--peers-max', 'Infinity'] : ['--peers-max', '0']),
    ...(options.judge ? ['--judge', options.judge] : []),
  ]);
  const { diskBytes, ...queried } = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Omit<CorpusResult, 'build'> & {
    diskBytes: number;
  };
  return {
    ...queried,
    build: {
      totalMs: report.timingsMs.total,
      passagesPerSecond: report.passageCount / (report.timingsMs.total / 1000),
      stagesMs: report.timingsMs,
      peakRssMb: report.peakRssMb,
      diskBytes,
    },
  };
}

/** The schema a corpus is benchmarked in: its name in the letters a schema name takes. */
const benchSchema = (corpus: string) => `bench_${corpus.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 30);

/** Builds a corpus into Postgres with the index command (a full write), then queries it warm in a child. */
async function measurePostgres(
  seedsDir: string,
  url: string,
  corpus: string,
  questionCount: number,
  judge: string | undefined,
): Promise<PostgresResult> {
  const settings = { SEEDS_DIR: seedsDir, INDEX_STORE: 'postgres', DATABASE_URL: url, DATABASE_SCHEMA: benchSchema(corpus) };
  const child = await runCommand(['app/build-index', '--json', '--rebuild'], settings);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as IndexCommandReport;
  // A large write leaves the server a checkpoint to flush (the write itself ends by vacuuming); on two
  // cores that flush would fall into the timed queries. It is made first, as it would long be done on a
  // serving database.
  const settle = new pg.Client({ connectionString: url });
  await settle.connect();
  try {
    await settle.query('CHECKPOINT').catch((error: Error) => process.stderr.write(`bench: CHECKPOINT refused (${error.message})\n`));
  } finally {
    await settle.end();
  }
  const queried = await runBench([
    '--child-postgres',
    url,
    '--schema',
    benchSchema(corpus),
    '--questions',
    String(questionCount),
    ...(judge ? ['--judge', judge] : []),
  ]);
  const measured = JSON.parse(queried.stdout.trim().split('\n').at(-1)!) as Omit<PostgresResult, 'build'>;
  return {
    ...measured,
    build: {
      totalMs: report.timingsMs.total,
      passagesPerSecond: report.passageCount / (report.timingsMs.total / 1000),
      stagesMs: report.timingsMs,
      peakRssMb: report.peakRssMb,
    },
  };
}

/** Child: opens a corpus's index in Postgres and queries it warm, as the bot answers from it. */
async function queryPostgres(
  url: string,
  schema: string,
  questions: string[],
  judge: string | undefined,
): Promise<Omit<PostgresResult, 'build'>> {
  const config = configFromEnvironment();
  const embedder = await createTransformersEmbedder(config.embedding);
  const db = await openDatabase(url, { schema });
  try {
    const wordVectors = await openWordVectors(config, (message) => void process.stderr.write(`${message}\n`));
    const { index } = await openPgSearchIndex(db, { wordVectors });
    const versions = await db.pool.query<{ server: string; vector: string | null }>(
      `SELECT current_setting('server_version') AS server, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`,
    );
    const server = `PostgreSQL ${versions.rows[0]?.server ?? '?'}, pgvector ${versions.rows[0]?.vector ?? '?'}`;
    for (const question of questions.slice(0, 50)) await search(question, { index, embedder, k: 10 });
    const timed = (run: (question: string) => Promise<unknown>) => timeEach(questions, run);
    const hybrid = await timed((question) => search(question, { index, embedder, k: 10 }));
    const answer = await timed((question) => answerQuestion(question, { index, embedder, k: 3 }));
    const judged = judge ? await squadJudge(judge, (await index.lookup.all()).values()) : null;
    const successAt1Value = judged
      ? await successAt1(judged, async (question) =>
          (await search(question, { index, embedder, k: 1 })).hits.map((hit) => hit.passage.label),
        )
      : undefined;
    return {
      server,
      queries: { count: questions.length, hybrid, answer },
      ...(successAt1Value === undefined ? {} : { successAt1: successAt1Value }),
    };
  } finally {
    await db.close();
  }
}

/** Child: loads an index and queries it warm; the result, less the build, as one JSON line. */
async function queryCorpus(
  indexDir: string,
  questions: string[],
  options: { peers: boolean; judge?: string },
): Promise<Omit<CorpusResult, 'build'> & { diskBytes: number }> {
  const config = configFromEnvironment();
  const embedder = await createTransformersEmbedder(config.embedding);
  const store = localStore(indexDir);
  const index = await store.load();
  // As the running bot does: soft term matching over the offline model's word table.
  index.wordVectors = await openWordVectors(config, (message) => void process.stderr.write(`${message}\n`));
  const diskBytes = await store.size();
  const vectors = index.vectors!;

  // Warm-up: first calls compile code paths and fill caches.
  for (const question of questions.slice(0, 50)) await search(question, { index, embedder, k: 10 });

  const timed = (run: (question: string) => unknown | Promise<unknown>) => timeEach(questions, run);
  const hybrid = await timed((question) => search(question, { index, embedder, k: 10 }));
  const answer = await timed((question) => answerQuestion(question, { index, embedder, k: 3 }));
  // Built after citebot is timed: at a million passages a second index in the same heap made every
  // garbage collection longer and citebot's search a quarter slower (p50 5.4 against 4.4 ms).
  const baseline = new Bm25Baseline(index.passages.values());
  const bm25 = await timed((question) => baseline.search(question, 10));
  const exactDense = await timed(async (question) => vectors.searchExact((await embedder.embed([question], 'query'))[0]!, 10));

  // HNSW recall@10 against brute force, on the questions' own embeddings.
  const queryVectors = await embedder.embed(questions, 'query');
  let found = 0;
  let foundLabels = 0;
  let possible = 0;
  for (const query of queryVectors) {
    if (query.every((value) => value === 0)) continue;
    const counted = recallAt10(vectors, query, vectors.searchExact(query, 10));
    found += counted.found;
    foundLabels += counted.foundLabels;
    possible += counted.possible;
  }

  const judged = options.judge ? await squadJudge(options.judge, index.passages.values()) : null;
  const quality = judged
    ? {
        questions: judged.questions.length,
        citebotSuccessAt1: await successAt1(judged, async (question) =>
          (await search(question, { index, embedder, k: 1 })).hits.map((hit) => hit.passage.label),
        ),
      }
    : undefined;
  const peers: PeerResult[] = [];
  if (options.peers) {
    const embedQuestion = async (question: string) => (await embedder.embed([question], 'query'))[0] ?? null;
    const built: Array<{ peer: PeerRetriever; buildMs: number; close?: () => Promise<void> }> = await buildPeers(index);
    const started = performance.now();
    const lance = await lanceDbPeer(index.passages.values(), vectors);
    built.push({ peer: lance, buildMs: performance.now() - started, close: () => lance.close() });
    try {
      for (const { peer, buildMs } of built) {
        const ask = async (question: string) => peer.search(question, peer.usesQueryVector ? await embedQuestion(question) : null, 10);
        for (const question of questions.slice(0, 50)) await ask(question);
        const query = await timed(ask);
        const successAt1Value = judged ? await successAt1(judged, ask) : undefined;
        peers.push({ name: peer.name, buildMs, query, ...(successAt1Value === undefined ? {} : { successAt1: successAt1Value }) });
      }
    } finally {
      for (const { close } of built) await close?.();
    }
  }

  return {
    corpus: '',
    ...(peers.length > 0 ? { peers } : {}),
    ...(quality ? { quality } : {}),
    articles: index.articles.size,
    passages: index.passages.size,
    diskBytes,
    queries: { count: questions.length, hybrid, answer, bm25, exactDense },
    hnsw: {
      ...vectors.parameters,
      recallAt10: possible === 0 ? 0 : Math.min(1, found / possible),
      labelRecallAt10: possible === 0 ? 0 : foundLabels / possible,
    },
  };
}

/** bench/chart.svg for a run's results: latency and build time against corpus size, peers and Postgres included. */
async function benchChart(results: CorpusResult[]): Promise<string> {
  const withSize = results.filter((r) => r.passages > 0);
  const inPostgres = withSize.filter((r) => r.postgres);
  const { renderChartsPage } = await import('./chart.js');
  return renderChartsPage([
    {
      title: 'Warm query latency (p50) against corpus size',
      xLabel: 'passages',
      yLabel: 'ms',
      logX: true,
      logY: true,
      series: [
        { name: 'citebot search (hybrid)', points: withSize.map((r) => ({ x: r.passages, y: r.queries.hybrid.p50 })) },
        ...(inPostgres.length > 0
          ? [
              {
                name: 'citebot search from Postgres',
                points: inPostgres.map((r) => ({ x: r.passages, y: r.postgres!.queries.hybrid.p50 })),
              },
            ]
          : []),
        { name: 'BM25 alone', points: withSize.map((r) => ({ x: r.passages, y: r.queries.bm25.p50 })) },
        { name: 'exact dense', points: withSize.map((r) => ({ x: r.passages, y: r.queries.exactDense.p50 })) },
        ...peerNames(withSize).map((name) => ({
          name,
          points: withSize.flatMap(
            (r) => r.peers?.filter((peer) => peer.name === name).map((peer) => ({ x: r.passages, y: peer.query.p50 })) ?? [],
          ),
        })),
      ],
    },
    {
      title: 'Index build time against corpus size',
      xLabel: 'passages',
      yLabel: 'seconds',
      logX: true,
      logY: true,
      series: [
        { name: 'full build, end to end', points: withSize.map((r) => ({ x: r.passages, y: r.build.totalMs / 1000 })) },
        ...(inPostgres.length > 0
          ? [{ name: 'full build into Postgres', points: inPostgres.map((r) => ({ x: r.passages, y: r.postgres!.build.totalMs / 1000 })) }]
          : []),
      ],
    },
  ]);
}

/** bench/results.json: every run, oldest first. A file in the single-run form of earlier versions becomes the first run. */
async function readHistory(file: string): Promise<{ runs: unknown[] }> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (text === null) return { runs: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not JSON; move it aside to start a new history.`);
  }
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { runs?: unknown }).runs)) return parsed as { runs: unknown[] };
  return { runs: [parsed] };
}

/** The commit the benchmark ran at (with "+changes" when the tree differs), or null outside a git checkout. */
async function currentCommit(): Promise<string | null> {
  const git = (args: string[]) =>
    new Promise<string | null>((resolve) => {
      execFile('git', args, (error, stdout) => resolve(error ? null : stdout.trim()));
    });
  const head = await git(['rev-parse', '--short', 'HEAD']);
  if (!head) return null;
  const dirty = await git(['status', '--porcelain', '--untracked-files=no']);
  return dirty ? `${head}+changes` : head;
}

const peerNames = (results: CorpusResult[]) => [...new Set(results.flatMap((r) => r.peers?.map((peer) => peer.name) ?? []))];

interface SquadJudge {
  questions: LabelledQuestion[];
  /** The squad passage id an indexed passage belongs to. */
  idOf: (label: number) => string | undefined;
}

/**
 * Judging an index built from the squad corpus folder by squad's own gold: an indexed passage is the squad
 * paragraph whose text holds it (the index may split a long paragraph into parts).
 */
async function squadJudge(datasetDir: string, passages: Iterable<IndexedPassage>): Promise<SquadJudge> {
  const { articles, questions } = await readDataset(datasetDir);
  const byText = new Map(articles.map((article) => [article.paragraphs[0]!.text, article.file]));
  const ids = new Map<number, string>();
  for (const passage of passages) {
    const id = byText.get(passage.text) ?? articles.find((article) => article.paragraphs[0]!.text.includes(passage.text))?.file;
    if (id !== undefined) ids.set(passage.label, id);
  }
  return { questions, idOf: (label) => ids.get(label) };
}

/** Share of the questions whose first result is a gold paragraph. */
async function successAt1(judge: SquadJudge, rank: (question: string) => Promise<number[]>): Promise<number> {
  let first = 0;
  for (const question of judge.questions) {
    const [top] = await rank(question.question);
    const id = top === undefined ? undefined : judge.idOf(top);
    if (id !== undefined && question.isGold(id, '')) first += 1;
  }
  return judge.questions.length === 0 ? 0 : first / judge.questions.length;
}

/**
 * One article of an indexed corpus changes, then the index is updated by the index command, as a user's
 * `npm run index` would (timed like the full build: the build itself, not process start). The next change
 * is merged into a new generation instead (what an update does once its delta is full), here.
 */
async function measureUpdate(seedsDir: string, indexDir: string, fullBuildMs: number): Promise<NonNullable<CorpusResult['incremental']>> {
  const store = localStore(indexDir);
  const manifest = await store.readManifest();
  const files = manifest.sources.map((source) => source.file).sort();
  const change = (file: string) =>
    appendFile(path.join(seedsDir, file), '\n\nAn added paragraph: the Pentagon said on Tuesday that 2,000 troops remain in Syria.\n');
  const timeLoad = async () => {
    const started = performance.now();
    await store.load();
    return performance.now() - started;
  };
  await change(files[Math.floor(files.length / 2)]!);
  const update = await indexCommand(seedsDir, indexDir);
  const loadWithDeltaMs = await timeLoad();
  await change(files[Math.floor(files.length / 3)]!);
  const config = configFromEnvironment();
  const embedder = await createTransformersEmbedder(config.embedding);
  const merge = await buildIndex({ source: seedFolder(seedsDir), store, embedder, maxDeltaPassages: 0 });
  const loadMergedMs = await timeLoad();
  return {
    changedArticles: 1,
    corpusArticles: files.length,
    totalMs: update.timingsMs.total,
    shareOfFullBuild: update.timingsMs.total / fullBuildMs,
    embeddedPassages: update.embeddedPassages,
    wrote: update.wrote ?? 'nothing',
    mergeMs: merge.timingsMs.total,
    loadWithDeltaMs,
    loadMergedMs,
  };
}

interface Child {
  stdout: string;
  /** Milliseconds from spawn to the first output on stdout (the answer, for `ask`). */
  firstOutputMs?: number;
}

/** Runs one of citebot's commands through bin/run.mjs (compiled code when the build is current), as npm scripts do. */
function runCommand(args: string[], settings: Record<string, string>): Promise<Child> {
  return runProcess([path.resolve('bin/run.mjs'), ...args], settings);
}

/** Runs this benchmark again in a child process (from the sources, through tsx, as `npm run bench` does). */
function runBench(args: string[]): Promise<Child> {
  return runProcess(['--import', 'tsx', fileURLToPath(import.meta.url), ...args], {});
}

function runProcess(args: string[], settings: Record<string, string>): Promise<Child> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...settings },
    });
    let stdout = '';
    let firstOutputMs: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      firstOutputMs ??= performance.now() - started;
      stdout += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ stdout, firstOutputMs }) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));

function table(results: CorpusResult[], cold: Record<string, number>, bot?: { p50: number; p95: number; count: number }): string {
  const lines: string[] = [];
  lines.push('Index build (end to end: read, parse, embed, HNSW, BM25, save)');
  lines.push('corpus            passages   total s   passages/s   embed s   hnsw s   lexical s   save s   peak RSS MB   disk MB');
  for (const r of results) {
    const s = r.build.stagesMs;
    const seconds = (value: number) => (value / 1000).toFixed(2);
    const cells: Array<[string, number]> = [
      [String(r.passages), 9],
      [seconds(r.build.totalMs), 9],
      [r.build.passagesPerSecond.toFixed(0), 12],
      [seconds(s.embed), 9],
      [seconds(s.vectors), 8],
      [seconds(s.lexical), 11],
      [seconds(s.save), 8],
      [r.build.peakRssMb.toFixed(0), 13],
      [(r.build.diskBytes / 1e6).toFixed(1), 9],
    ];
    lines.push(`${r.corpus.padEnd(16)} ${cells.map(([text, width]) => text.padStart(width)).join(' ')}`);
  }
  lines.push(
    '(embedding starts in a worker thread while seeds are read and runs beside BM25 and HNSW indexing, which also embeds chunks when idle: stages overlap and add up to more than the total)',
  );
  lines.push('');
  lines.push('Warm query latency, ms, in-process (p50 / p95 / p99)');
  lines.push('corpus            questions   citebot search        citebot answer        BM25 alone            exact dense');
  for (const r of results) {
    const q = r.queries;
    const cell = (l: Latency) => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`.padEnd(22);
    lines.push(
      `${r.corpus.padEnd(16)} ${String(q.count).padStart(10)}   ${cell(q.hybrid)}${cell(q.answer)}${cell(q.bm25)}${cell(q.exactDense)}`,
    );
  }
  const withPeers = results.filter((r) => r.peers && r.peers.length > 0);
  if (withPeers.length > 0) {
    lines.push('');
    lines.push('Peers on the same passages and vectors: build s, warm query ms p50 / p95 / p99, S@1 on squad11-dev');
    for (const r of withPeers) {
      const s1 = r.quality ? `, S@1 ${r.quality.citebotSuccessAt1.toFixed(3)}` : '';
      lines.push(
        `${r.corpus.padEnd(16)} citebot            build ${(r.build.totalMs / 1000).toFixed(2)} s, search ${ms(r.queries.hybrid.p50)} / ${ms(r.queries.hybrid.p95)} / ${ms(r.queries.hybrid.p99)}${s1}`,
      );
      for (const peer of r.peers!) {
        const quality = peer.successAt1 === undefined ? '' : `, S@1 ${peer.successAt1.toFixed(3)}`;
        lines.push(
          `${''.padEnd(16)} ${peer.name.padEnd(18)} build ${(peer.buildMs / 1000).toFixed(2)} s, search ${ms(peer.query.p50)} / ${ms(peer.query.p95)} / ${ms(peer.query.p99)}${quality}`,
        );
      }
    }
  }
  const inPostgres = results.filter((r) => r.postgres);
  if (inPostgres.length > 0) {
    lines.push('');
    lines.push(`Postgres store (${inPostgres[0]!.postgres!.server}, over loopback) against local files: build, warm ms p50 / p95 / p99`);
    for (const r of inPostgres) {
      const pg = r.postgres!;
      const cell = (l: Latency) => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`;
      const quality =
        pg.successAt1 === undefined ? '' : `; S@1 ${pg.successAt1.toFixed(3)} (local ${r.quality?.citebotSuccessAt1.toFixed(3) ?? '?'})`;
      lines.push(
        `${r.corpus.padEnd(16)} build ${(pg.build.totalMs / 1000).toFixed(1)} s (${pg.build.passagesPerSecond.toFixed(0)} passages/s; local ${(r.build.totalMs / 1000).toFixed(1)} s); search ${cell(pg.queries.hybrid)} (local ${cell(r.queries.hybrid)}); answer ${cell(pg.queries.answer)}${quality}`,
      );
    }
  }
  lines.push('');
  lines.push(
    'HNSW recall@10 against exact search on the same embeddings (a neighbour as near as the 10th exact one counts; by label in brackets)',
  );
  for (const r of results)
    lines.push(
      `${r.corpus.padEnd(16)} M ${r.hnsw.m}, efConstruction ${r.hnsw.efConstruction}, ef ${r.hnsw.efSearch}: ${r.hnsw.recallAt10.toFixed(4)} (${r.hnsw.labelRecallAt10?.toFixed(4) ?? '?'})`,
    );
  for (const r of results) {
    if (!r.incremental) continue;
    lines.push('');
    const { incremental: update } = r;
    lines.push(
      `Re-index after changing 1 of ${update.corpusArticles} articles (${r.corpus}): ${(update.totalMs / 1000).toFixed(3)} s, ${(update.shareOfFullBuild * 100).toFixed(1)} % of the full build (wrote a ${update.wrote}, ${update.embeddedPassages} passages embedded)`,
    );
    lines.push(
      `  the next change merged into a new generation instead: ${(update.mergeMs / 1000).toFixed(2)} s; loading the index with the delta ${(update.loadWithDeltaMs / 1000).toFixed(3)} s, merged ${(update.loadMergedMs / 1000).toFixed(3)} s`,
    );
  }
  lines.push('');
  lines.push(
    `Cold start (process start to first answer, index present): ${Object.entries(cold)
      .map(([name, value]) => `${name} ${(value / 1000).toFixed(2)} s`)
      .join(', ')}`,
  );
  if (bot)
    lines.push(
      `Bot path (fake Discord MESSAGE_CREATE → reply POSTed, seeds, ${bot.count} questions): p50 ${ms(bot.p50)} ms, p95 ${ms(bot.p95)} ms`,
    );
  return lines.join('\n');
}

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        'child-query': { type: 'string' },
        sizes: { type: 'string', default: '10000,100000' },
        questions: { type: 'string', default: '2000' },
        bot: { type: 'string', default: '200' },
        out: { type: 'string', default: 'bench' },
        keep: { type: 'boolean', default: false },
        'peers-max': { type: 'string', default: '100000' },
        postgres: { type: 'string' },
        'postgres-max': { type: 'string', default: '100000' },
        'child-postgres': { type: 'string' },
        chart: { type: 'boolean', default: false },
        schema: { type: 'string' },
        judge: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  const options = args.values;
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (options.chart) {
    // Only the chart, drawn again from the last run in results.json.
    const history = await readHistory(path.join(options.out, 'results.json'));
    const last = history.runs.at(-1) as { results: CorpusResult[] } | undefined;
    if (!last) throw new UsageError(`No run in ${path.join(options.out, 'results.json')} to draw.`);
    await writeFile(path.join(options.out, 'chart.svg'), await benchChart(last.results));
    return 0;
  }
  const questionCount = Number(options.questions);
  const botCount = Number(options.bot);
  const sizes = options.sizes.split(',').filter(Boolean).map(Number);
  const peersMax = Number(options['peers-max']);
  if (!(questionCount >= 1) || !(botCount >= 0) || sizes.some((size) => !(size >= 100)) || !(peersMax >= 0))
    throw new UsageError(`Bad numbers.\n${USAGE}`);

  const datasetDir = path.resolve('../shared/eval/squad11-dev');
  const { questions: squadQuestions } = await readDataset(datasetDir);
  const asked = squadQuestions.slice(0, questionCount).map((question) => question.question);
  if (options['child-postgres']) {
    const measured = await queryPostgres(options['child-postgres'], options.schema ?? 'public', asked, options.judge);
    process.stdout.write(`${JSON.stringify(measured)}\n`);
    return 0;
  }
  const postgresMax = Number(options['postgres-max']);
  if (!(postgresMax >= 0)) throw new UsageError(`Bad numbers.\n${USAGE}`);
  if (options['child-query']) {
    const measured = await queryCorpus(options['child-query'], asked, { peers: peersMax > 0, judge: options.judge });
    process.stdout.write(`${JSON.stringify(measured)}\n`);
    return 0;
  }

  const work = await mkdtemp(path.join(os.tmpdir(), 'citebot-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const corpora: Array<CorpusSpec & { incremental: boolean }> = [
      { ...(await seedsCorpus(path.resolve('seeds'), path.join(work, 'seeds'))), incremental: false },
      { ...(await squadCorpus(datasetDir, path.join(work, 'squad'))), incremental: false },
    ];
    const sentences = await sourceSentences(datasetDir);
    for (const size of sizes) {
      corpora.push({ ...(await syntheticCorpus(sentences, size, path.join(work, `synthetic-${size}`))), incremental: size === 10000 });
    }

    const results: CorpusResult[] = [];
    for (const corpus of corpora) {
      log(`bench: building and querying ${corpus.name}…`);
      const indexDir = path.join(work, `index-${corpus.name}`);
      const measured = await measureCorpus(corpus.seedsDir, indexDir, questionCount, {
        peers: corpus.paragraphs <= peersMax,
        judge: corpus.name === 'squad11-dev' ? datasetDir : undefined,
      });
      const result: CorpusResult = { ...measured, corpus: corpus.name };
      if (options.postgres && corpus.paragraphs <= postgresMax) {
        log(`bench: building ${corpus.name} into Postgres and querying it there…`);
        result.postgres = await measurePostgres(
          corpus.seedsDir,
          options.postgres,
          corpus.name,
          questionCount,
          corpus.name === 'squad11-dev' ? datasetDir : undefined,
        );
      }
      if (corpus.incremental) {
        log(`bench: re-indexing ${corpus.name} after one article changed…`);
        result.incremental = await measureUpdate(corpus.seedsDir, indexDir, result.build.totalMs);
      }
      results.push(result);
    }

    // Cold start: `npm run ask` with the index present, from process start to the answer on stdout.
    const cold: Record<string, number> = {};
    for (const corpus of corpora.filter((c) => c.name === 'seeds' || c.name === `synthetic-${Math.max(...sizes) / 1000}k`)) {
      const settings = { SEEDS_DIR: corpus.seedsDir, INDEX_DIR: path.join(work, `index-${corpus.name}`) };
      const ask = () => runCommand(['app/ask', 'How many US troops are in Syria?'], settings);
      await ask(); // once to warm the OS file cache
      const runs: number[] = [];
      for (let i = 0; i < 3; i += 1) runs.push((await ask()).firstOutputMs ?? NaN);
      cold[corpus.name] = percentile(runs, 50);
    }

    let bot: { p50: number; p95: number; p99: number; count: number } | undefined;
    if (botCount > 0) {
      log('bench: bot path through the fake Discord…');
      const { measureBotPath } = await import('./bot-path.js');
      const config = configFromEnvironment();
      const embedder = await createTransformersEmbedder(config.embedding);
      const index = await localStore(path.join(work, 'index-seeds')).load();
      index.wordVectors = await openWordVectors(config, (message) => log(message));
      const questions = squadQuestions;
      const seedQuestions = (await readFile(path.resolve('eval/seeds-questions.jsonl'), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => (JSON.parse(line) as { question: string }).question);
      bot = await measureBotPath({
        index,
        embedder,
        questions: seedQuestions.length > 0 ? seedQuestions : questions.map((q) => q.question),
        count: botCount,
      });
    }

    const run = {
      date: new Date().toISOString(),
      commit: await currentCommit(),
      options: { sizes, questions: questionCount, bot: botCount, peersMax, ...(options.postgres ? { postgresMax } : {}) },
      machine: {
        cpus: os.cpus().length,
        cpu: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      results,
      coldStartMs: cold,
      botPath: bot,
    };
    await mkdir(options.out, { recursive: true });
    // Every run is kept: the file is the history the README's figures and the chart come from.
    const resultsFile = path.join(options.out, 'results.json');
    const history = await readHistory(resultsFile);
    history.runs.push(run);
    await writeFile(resultsFile, `${JSON.stringify(history, null, 2)}\n`);
    await writeFile(path.join(options.out, 'chart.svg'), await benchChart(results));
    console.log(table(results, cold, bot));
    console.log(`\nwritten: ${path.join(options.out, 'results.json')}, ${path.join(options.out, 'chart.svg')}`);
    return 0;
  } finally {
    if (!options.keep) await rm(work, { recursive: true, force: true });
    else log(`bench: corpora and indexes kept in ${work}`);
  }
});
