/**
 * `npx tsx bench/threads.ts INDEX_DIR [--questions N] [--rounds N] [--shares 0.5,0.35]`: search over a
 * built index with one thread and with the scoring thread at each share the searching thread keeps
 * (`ownShareWithWork`), every question searched with every variant in turn in one process, so that the
 * machine's drift falls on all of them alike. Prints p50 / p90 / p99 per variant, and how many questions
 * got different hits (the split must give the same, bit for bit).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configFromEnvironment, parseCommandLine, runMain, UsageError } from '../src/app/cli.js';
import { openWordVectors } from '../src/app/runtime.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { readDataset } from '../src/eval/datasets.js';
import { percentile } from '../src/eval/metrics.js';
import { MIN_SPLIT_POSTINGS, ScoringThread } from '../src/index/scoring-thread.js';
import { search } from '../src/retrieval/search.js';
import { localStore } from '../src/storage/local-store.js';

const USAGE = 'usage: npx tsx bench/threads.ts INDEX_DIR [--questions N] [--rounds N] [--shares 0.5,0.35]';

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        questions: { type: 'string', default: '500' },
        rounds: { type: 'string', default: '3' },
        shares: { type: 'string', default: '0.5,0.35' },
      },
      allowPositionals: true,
    }),
  );
  const indexDir = positionals[0];
  const count = Number(values.questions);
  const rounds = Number(values.rounds);
  const shares = values.shares.split(',').map(Number);
  if (!indexDir || !(count > 0) || !(rounds > 0) || shares.some((share) => !(share > 0 && share < 1))) throw new UsageError(USAGE);

  const config = configFromEnvironment();
  const embedder = await createTransformersEmbedder(config.embedding);
  const index = await localStore(indexDir).load();
  index.wordVectors = await openWordVectors(config, (message) => void process.stderr.write(`${message}\n`));
  const { questions } = await readDataset(path.resolve('../shared/eval/squad11-dev'));
  const asked = questions.slice(0, count).map((question) => question.question);

  const variants = new Map<string, ScoringThread | undefined>([['one thread', undefined]]);
  for (const share of shares) {
    const thread = new ScoringThread(MIN_SPLIT_POSTINGS, share);
    if (!(await thread.ready())) throw new Error('the scoring thread did not start');
    variants.set(`two threads, ${Math.round(share * 100)} % kept`, thread);
  }
  const times = new Map<string, number[]>([...variants.keys()].map((name) => [name, []]));
  const searchWith = async (name: string, question: string, timed: boolean) => {
    index.lexical.useHelper(variants.get(name));
    const start = performance.now();
    const { hits } = await search(question, { index, embedder, k: 10 });
    if (timed) times.get(name)!.push(performance.now() - start);
    return hits.map((hit) => `${hit.passage.label}:${hit.score}`).join();
  };
  // Warm-up: first calls compile code paths and fill caches.
  for (const question of asked.slice(0, 50)) for (const name of variants.keys()) await searchWith(name, question, false);
  let differing = 0;
  const names = [...variants.keys()];
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, question] of asked.entries()) {
      const order = (i + round) % 2 === 0 ? names : [...names].reverse();
      const hits = new Set<string>();
      for (const name of order) hits.add(await searchWith(name, question, true));
      if (hits.size > 1) differing += 1;
    }
  }
  for (const [name, measured] of times) {
    const [p50, p90, p99] = [50, 90, 99].map((p) => percentile(measured, p).toFixed(2));
    process.stdout.write(`${name.padEnd(26)} search p50 ${p50}  p90 ${p90}  p99 ${p99} ms\n`);
  }
  process.stdout.write(`questions with different hits: ${differing} of ${asked.length * rounds}\n`);
  await Promise.all([...variants.values()].map((thread) => thread?.close()));
}

runMain(main);
