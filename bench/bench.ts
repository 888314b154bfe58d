/**
 * `npm run bench`: speed, memory and scale, side by side with the alternatives. Each corpus is built in
 * a child process (so peak RSS is that build's own), then queried warm in the same process; cold starts
 * are separate processes. Prints a table and writes bench/results.json and bench/chart.svg.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { answerQuestion } from '../src/retrieval/answer.js';
import { Bm25Baseline } from '../src/eval/baseline.js';
import { readDataset } from '../src/eval/datasets.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { withBulkWorker } from '../src/embedding/worker.js';
import { buildIndex, type BuildReport } from '../src/index/build.js';
import { percentile } from '../src/eval/metrics.js';
import { search } from '../src/retrieval/search.js';
import { indexSize } from '../src/storage/local-store.js';
import { openRuntime } from '../src/app/runtime.js';
import { seedsCorpus, sourceSentences, squadCorpus, syntheticCorpus, type CorpusSpec } from './corpora.js';
import { configFromEnvironment, parseCommandLine, runMain, UsageError } from '../src/app/cli.js';
import { readManifest } from '../src/storage/manifest.js';
import { loadIndex } from '../test/helpers.js';

const USAGE = 'usage: npm run bench [-- --sizes 10000,100000] [--questions N] [--bot N] [--out DIR] [--keep]';

interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

function latency(samples: number[]): Latency {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), p99: percentile(samples, 99) };
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
  hnsw: { m: number; efConstruction: number; efSearch: number; recallAt10: number };
}

/** Child: build one corpus, measure it, query it warm; print one JSON line. */
async function childBuild(seedsDir: string, indexDir: string, questionCount: number): Promise<CorpusResult> {
  const config = configFromEnvironment();
  const embedder = await createTransformersEmbedder(config.embedding);
  const bulk = withBulkWorker(embedder, config.embedding);
  const report = await buildIndex({ seedsDir, indexDir, embedder: bulk, rebuild: true });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const index = report.index ?? (await loadIndex(indexDir));
  const diskBytes = await indexSize(indexDir);
  await bulk.close();

  const { questions } = await readDataset(path.resolve('../shared/eval/squad11-dev'));
  const asked = questions.slice(0, questionCount).map((question) => question.question);
  const baseline = new Bm25Baseline(index.passages.values());
  const vectors = index.vectors!;

  // Warm-up: first calls compile code paths and fill caches.
  for (const question of asked.slice(0, 50)) await search(question, { index, embedder, k: 10 });

  const timed = async (run: (question: string) => unknown | Promise<unknown>) => {
    const samples: number[] = [];
    for (const question of asked) {
      const started = performance.now();
      await run(question);
      samples.push(performance.now() - started);
    }
    return latency(samples);
  };
  const hybrid = await timed((question) => search(question, { index, embedder, k: 10 }));
  const answer = await timed((question) => answerQuestion(question, { index, embedder, k: 3 }));
  const bm25 = await timed((question) => baseline.search(question, 10));
  const exactDense = await timed(async (question) => vectors.searchExact((await embedder.embed([question], 'query'))[0]!, 10));

  // HNSW recall@10 against brute force, on the questions' own embeddings.
  const queryVectors = await embedder.embed(asked, 'query');
  let found = 0;
  let possible = 0;
  for (const query of queryVectors) {
    if (query.every((value) => value === 0)) continue;
    const exact = vectors.searchExact(query, 10);
    const approximate = new Set(vectors.search(query, 10).map((neighbour) => neighbour.label));
    found += exact.filter((neighbour) => approximate.has(neighbour.label)).length;
    possible += exact.length;
  }

  return {
    corpus: '',
    articles: index.articles.size,
    passages: index.passages.size,
    build: {
      totalMs: report.timingsMs.total,
      passagesPerSecond: index.passages.size / (report.timingsMs.total / 1000),
      stagesMs: report.timingsMs,
      peakRssMb,
      diskBytes,
    },
    queries: { count: asked.length, hybrid, answer, bm25, exactDense },
    hnsw: { ...vectors.parameters, recallAt10: possible === 0 ? 0 : found / possible },
  };
}

/**
 * Child: one article of an indexed corpus changes, then the index is updated, in a fresh process as a
 * user's `npm run index` would run it; timed like the full build (the build itself, not process start).
 */
async function childUpdate(seedsDir: string, indexDir: string) {
  const config = configFromEnvironment();
  const embedder = withBulkWorker(await createTransformersEmbedder(config.embedding), config.embedding);
  const manifest = await readManifest(indexDir);
  const files = manifest.sources.map((source) => source.file).sort();
  const change = (file: string) => appendFile(path.join(seedsDir, file), '\n\nAn added paragraph: the Pentagon said on Tuesday that 2,000 troops remain in Syria.\n');
  const timeLoad = async () => {
    const started = performance.now();
    await loadIndex(indexDir);
    return performance.now() - started;
  };
  await change(files[Math.floor(files.length / 2)]!);
  const update = await buildIndex({ seedsDir, indexDir, embedder });
  const loadWithDeltaMs = await timeLoad();
  await change(files[Math.floor(files.length / 3)]!);
  const merge = await buildIndex({ seedsDir, indexDir, embedder, maxDeltaPassages: 0 });
  const loadMergedMs = await timeLoad();
  await embedder.close();
  return {
    totalMs: update.timingsMs.total,
    stagesMs: update.timingsMs,
    embeddedPassages: update.embeddedPassages,
    articles: files.length,
    wrote: update.wrote ?? 'nothing',
    mergeMs: merge.timingsMs.total,
    loadWithDeltaMs,
    loadMergedMs,
  };
}

/** Child: the cold path of `npm start`/`ask` with an index present: load config, model and index, answer once. */
async function childCold(seedsDir: string, indexDir: string): Promise<void> {
  const config = { ...configFromEnvironment(), seedsDir, indexDir };
  const runtime = await openRuntime(config, { autoBuild: true, warn: () => {} });
  await answerQuestion('How many US troops are in Syria?', { index: runtime.index, embedder: runtime.embedder, k: 3 });
  process.stdout.write(`ready ${runtime.index.passages.size}\n`);
}

interface Child {
  stdout: string;
  /** Milliseconds from spawn to the first "ready" line, when one came. */
  readyMs?: number;
}

function runChild(args: string[]): Promise<Child> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // Children run the way users run commands: through bin/run.mjs (compiled code when the build is current).
    const child = spawn(process.execPath, [path.resolve('bin/run.mjs'), 'cli/bench', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let readyMs: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (readyMs === undefined && /^ready /m.test(stdout)) readyMs = performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ stdout, readyMs }) : reject(new Error(`bench child ${args.join(' ')} exited ${code}`))));
  });
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));

function table(results: CorpusResult[], cold: Record<string, number>, bot?: { p50: number; p95: number; count: number }): string {
  const lines: string[] = [];
  lines.push('Index build (end to end: read, parse, embed, HNSW, BM25, save)');
  lines.push('corpus            passages   total s   passages/s   embed s   hnsw s   lexical s   save s   peak RSS MB   disk MB');
  for (const r of results) {
    const s = r.build.stagesMs;
    lines.push(
      `${r.corpus.padEnd(16)} ${String(r.passages).padStart(9)} ${(r.build.totalMs / 1000).toFixed(2).padStart(9)} ${r.build.passagesPerSecond.toFixed(0).padStart(12)} ${(s.embed / 1000).toFixed(2).padStart(9)} ${(s.vectors / 1000).toFixed(2).padStart(8)} ${(s.lexical / 1000).toFixed(2).padStart(11)} ${(s.save / 1000).toFixed(2).padStart(8)} ${r.build.peakRssMb.toFixed(0).padStart(13)} ${(r.build.diskBytes / 1e6).toFixed(1).padStart(9)}`,
    );
  }
  lines.push('(embedding starts in a worker thread while seeds are read and runs beside BM25 and HNSW indexing, which also embeds chunks when idle: stages overlap and add up to more than the total)');
  lines.push('');
  lines.push('Warm query latency, ms, in-process (p50 / p95 / p99)');
  lines.push('corpus            questions   citebot search        citebot answer        BM25 alone            exact dense');
  for (const r of results) {
    const q = r.queries;
    const cell = (l: Latency) => `${ms(l.p50)} / ${ms(l.p95)} / ${ms(l.p99)}`.padEnd(22);
    lines.push(`${r.corpus.padEnd(16)} ${String(q.count).padStart(10)}   ${cell(q.hybrid)}${cell(q.answer)}${cell(q.bm25)}${cell(q.exactDense)}`);
  }
  lines.push('');
  lines.push('HNSW recall@10 against exact search on the same embeddings');
  for (const r of results) lines.push(`${r.corpus.padEnd(16)} M ${r.hnsw.m}, efConstruction ${r.hnsw.efConstruction}, ef ${r.hnsw.efSearch}: ${r.hnsw.recallAt10.toFixed(4)}`);
  for (const r of results) {
    if (!r.incremental) continue;
    lines.push('');
    const { incremental: update } = r;
    lines.push(`Re-index after changing 1 of ${update.corpusArticles} articles (${r.corpus}): ${(update.totalMs / 1000).toFixed(3)} s, ${(update.shareOfFullBuild * 100).toFixed(1)} % of the full build (wrote a ${update.wrote}, ${update.embeddedPassages} passages embedded)`);
    lines.push(`  the next change merged into a new generation instead: ${(update.mergeMs / 1000).toFixed(2)} s; loading the index with the delta ${(update.loadWithDeltaMs / 1000).toFixed(3)} s, merged ${(update.loadMergedMs / 1000).toFixed(3)} s`);
  }
  lines.push('');
  lines.push(`Cold start (process start to first answer, index present): ${Object.entries(cold).map(([name, value]) => `${name} ${(value / 1000).toFixed(2)} s`).join(', ')}`);
  if (bot) lines.push(`Bot path (fake Discord MESSAGE_CREATE → reply POSTed, seeds, ${bot.count} questions): p50 ${ms(bot.p50)} ms, p95 ${ms(bot.p95)} ms`);
  return lines.join('\n');
}

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        child: { type: 'string' },
        seeds: { type: 'string' },
        index: { type: 'string' },
        sizes: { type: 'string', default: '10000,100000' },
        questions: { type: 'string', default: '2000' },
        bot: { type: 'string', default: '200' },
        out: { type: 'string', default: 'bench' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  const options = args.values;
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  const questionCount = Number(options.questions);
  const botCount = Number(options.bot);
  const sizes = options.sizes.split(',').filter(Boolean).map(Number);
  if (!(questionCount >= 1) || !(botCount >= 0) || sizes.some((size) => !(size >= 100))) throw new UsageError(`Bad numbers.\n${USAGE}`);

  if (options.child === 'build') {
    const result = await childBuild(options.seeds!, options.index!, questionCount);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  }
  if (options.child === 'update') {
    process.stdout.write(`${JSON.stringify(await childUpdate(options.seeds!, options.index!))}\n`);
    return 0;
  }
  if (options.child === 'cold') {
    await childCold(options.seeds!, options.index!);
    return 0;
  }

  const work = await mkdtemp(path.join(os.tmpdir(), 'citebot-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const datasetDir = path.resolve('../shared/eval/squad11-dev');
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
      const child = await runChild(['--child', 'build', '--seeds', corpus.seedsDir, '--index', indexDir, '--questions', String(questionCount)]);
      const result: CorpusResult = { ...(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as CorpusResult), corpus: corpus.name };
      if (corpus.incremental) {
        log(`bench: re-indexing ${corpus.name} after one article changed…`);
        const update = JSON.parse((await runChild(['--child', 'update', '--seeds', corpus.seedsDir, '--index', indexDir])).stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof childUpdate>>;
        result.incremental = {
          changedArticles: 1,
          corpusArticles: update.articles,
          totalMs: update.totalMs,
          shareOfFullBuild: update.totalMs / result.build.totalMs,
          embeddedPassages: update.embeddedPassages,
          wrote: update.wrote,
          mergeMs: update.mergeMs,
          loadWithDeltaMs: update.loadWithDeltaMs,
          loadMergedMs: update.loadMergedMs,
        };
      }
      results.push(result);
    }

    const cold: Record<string, number> = {};
    for (const corpus of corpora.filter((c) => c.name === 'seeds' || c.name === `synthetic-${Math.max(...sizes) / 1000}k`)) {
      const indexDir = path.join(work, `index-${corpus.name}`);
      await runChild(['--child', 'cold', '--seeds', corpus.seedsDir, '--index', indexDir]); // once to warm the OS file cache and tsx's cache
      const runs: number[] = [];
      for (let i = 0; i < 3; i += 1) runs.push((await runChild(['--child', 'cold', '--seeds', corpus.seedsDir, '--index', indexDir])).readyMs ?? NaN);
      cold[corpus.name] = percentile(runs, 50);
    }

    let bot: { p50: number; p95: number; p99: number; count: number } | undefined;
    if (botCount > 0) {
      log('bench: bot path through the fake Discord…');
      const { measureBotPath } = await import('./bot-path.js');
      const config = configFromEnvironment();
      const embedder = await createTransformersEmbedder(config.embedding);
      const index = await loadIndex(path.join(work, 'index-seeds'));
      const { questions } = await readDataset(datasetDir);
      const seedQuestions = (await readFile(path.resolve('eval/seeds-questions.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { question: string }).question);
      bot = await measureBotPath({ index, embedder, questions: seedQuestions.length > 0 ? seedQuestions : questions.map((q) => q.question), count: botCount });
    }

    const report = { machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version }, results, coldStartMs: cold, botPath: bot };
    await mkdir(options.out, { recursive: true });
    await writeFile(path.join(options.out, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const withSize = results.filter((r) => r.passages > 0);
    const { renderChartsPage } = await import('./chart.js');
    await writeFile(
      path.join(options.out, 'chart.svg'),
      renderChartsPage([
        {
          title: 'Warm query latency (p50) against corpus size',
          xLabel: 'passages',
          yLabel: 'ms',
          logX: true,
          logY: true,
          series: [
            { name: 'citebot search (hybrid)', points: withSize.map((r) => ({ x: r.passages, y: r.queries.hybrid.p50 })) },
            { name: 'BM25 alone', points: withSize.map((r) => ({ x: r.passages, y: r.queries.bm25.p50 })) },
            { name: 'exact dense', points: withSize.map((r) => ({ x: r.passages, y: r.queries.exactDense.p50 })) },
          ],
        },
        {
          title: 'Index build time against corpus size',
          xLabel: 'passages',
          yLabel: 'seconds',
          logX: true,
          logY: true,
          series: [{ name: 'full build, end to end', points: withSize.map((r) => ({ x: r.passages, y: r.build.totalMs / 1000 })) }],
        },
      ]),
    );
    console.log(table(results, cold, bot));
    console.log(`\nwritten: ${path.join(options.out, 'results.json')}, ${path.join(options.out, 'chart.svg')}`);
    return 0;
  } finally {
    if (!options.keep) await rm(work, { recursive: true, force: true });
    else log(`bench: corpora and indexes kept in ${work}`);
  }
});
