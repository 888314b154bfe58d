/**
 * `npx tsx bench/recall.ts INDEX_DIR [--questions N] [--ef 400,600,800]`: HNSW recall@10 of a built index
 * against exact search, on squad questions' embeddings, at each ef (a neighbour as near as the 10th exact
 * one counts, as in the bench), with the time of a search for 50 neighbours (search's candidate count).
 * Also says how many of the missed neighbours' questions had a repeated vector (one that other passages
 * share) among their exact 10: repeated passages are a known hard case for HNSW graphs.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { configFromEnvironment, parseCommandLine, runMain, UsageError } from '../src/app/cli.js';
import { createTransformersEmbedder } from '../src/embedding/transformers.js';
import { readDataset } from '../src/eval/datasets.js';
import { percentile } from '../src/eval/metrics.js';
import { localStore } from '../src/storage/local-store.js';
import { recallAt10 } from './hnsw-recall.js';

const USAGE = 'usage: npx tsx bench/recall.ts INDEX_DIR [--questions N] [--ef 400,600,800]';

/** A key per distinct vector (FNV-1a over its bits): passages with equal keys share their vector. */
function vectorKey(vector: Float32Array): number {
  const words = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let hash = 2166136261;
  for (const word of words) hash = Math.imul(hash ^ word, 16777619);
  return hash >>> 0;
}

async function main(): Promise<void> {
  const { values, positionals } = parseCommandLine(USAGE, () =>
    parseArgs({
      options: { questions: { type: 'string', default: '500' }, ef: { type: 'string', default: '400,600,800' } },
      allowPositionals: true,
    }),
  );
  const indexDir = positionals[0];
  const count = Number(values.questions);
  const efs = values.ef.split(',').map(Number);
  if (!indexDir || !(count > 0) || efs.some((ef) => !(Number.isInteger(ef) && ef > 0))) throw new UsageError(USAGE);

  const embedder = await createTransformersEmbedder(configFromEnvironment().embedding);
  const vectors = (await localStore(indexDir).load()).vectors;
  if (!vectors) throw new UsageError(`${indexDir} is a lexical-only index: it has no graph to measure.`);
  const { questions } = await readDataset(path.resolve('../shared/eval/squad11-dev'));
  const queries = (
    await embedder.embed(
      questions.slice(0, count).map((question) => question.question),
      'query',
    )
  ).filter((query) => query.some((value) => value !== 0));
  const exact = queries.map((query) => vectors.searchExact(query, 10));
  const sharing = new Map<number, number>();
  for (const label of vectors.labels) {
    const key = vectorKey(vectors.vector(label)!);
    sharing.set(key, (sharing.get(key) ?? 0) + 1);
  }
  const repeated = (label: number) => (sharing.get(vectorKey(vectors.vector(label)!)) ?? 1) > 1;

  for (const ef of efs) {
    vectors.setEf(ef);
    let found = 0;
    let possible = 0;
    let missedWithRepeated = 0;
    let missedQuestions = 0;
    const times: number[] = [];
    queries.forEach((query, i) => {
      const nearest = exact[i]!;
      const counted = recallAt10(vectors, query, nearest);
      const hits = counted.found;
      found += hits;
      possible += counted.possible;
      if (hits < nearest.length) {
        missedQuestions += 1;
        if (nearest.some((neighbour) => repeated(neighbour.label))) missedWithRepeated += 1;
      }
      const started = performance.now();
      vectors.search(query, 50);
      times.push(performance.now() - started);
    });
    process.stdout.write(
      `ef ${String(ef).padEnd(5)} recall@10 ${(found / possible).toFixed(4)}  search for 50 p50 ${percentile(times, 50).toFixed(3)} ms  ` +
        `questions missing a neighbour ${missedQuestions} (${missedWithRepeated} with a repeated vector among their exact 10)\n`,
    );
  }
}

runMain(main);
