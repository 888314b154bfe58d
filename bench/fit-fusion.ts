/**
 * `npm run fit-fusion`: learned fusion, validated out of set. Collects every question's candidates with
 * their signals from each labelled set (the seeds questions, squad11-dev, news-web-dev), fits the fusion
 * weights on one set (or two together) and reports S@1 and MRR@10 on every set, marking in-set figures:
 * only the out-of-set ones are results. Passages are judged one by one here; `npm run check` gives the
 * figures of record, by paragraph, once weights are adopted in DEFAULT_SEARCH.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readDataset, readSeedQuestions, type LabelledQuestion } from '../src/eval/datasets.js';
import {
  DEFAULT_GRID,
  fitFusion,
  fitPairwise,
  FUSION_SIGNALS,
  rankMetrics,
  type RankingSample,
  type SignalWeights,
} from '../src/eval/fusion-fit.js';
import { buildMemoryIndex } from '../src/index/memory.js';
import { readSeedArticles } from '../src/ingest/seed-files.js';
import { followUpOf } from '../src/retrieval/follow-up.js';
import { DEFAULT_SEARCH, search, type SearchIndex, type SearchParameters } from '../src/retrieval/search.js';
import { openEmbedder, openWordVectors } from '../src/app/runtime.js';
import { configFromEnvironment, parseCommandLine, runMain, UsageError, warn } from '../src/app/cli.js';
import type { Article } from '../src/model.js';
import type { Embedder } from '../src/embedding/embedder.js';

const USAGE = 'usage: npm run fit-fusion [-- --shared DIR] [--soft-threshold S]';

/** Candidates per question: everything either side retrieves (the fusion ranks all of them). */
const ALL_CANDIDATES = 1000;

async function samplesOf(
  index: SearchIndex,
  embedder: Embedder | null,
  questions: LabelledQuestion[],
  parameters: SearchParameters,
): Promise<RankingSample[]> {
  const samples: RankingSample[] = [];
  for (const question of questions) {
    if (!question.answerable || question.goldFact) continue;
    const earlier = question.follows ? followUpOf({ question: question.follows }) : [];
    const result = await search(question.question, { index, embedder, k: ALL_CANDIDATES, earlier, parameters });
    const signals = new Float64Array(result.hits.length * FUSION_SIGNALS.length);
    result.hits.forEach((hit, i) => FUSION_SIGNALS.forEach((signal, j) => (signals[i * FUSION_SIGNALS.length + j] = hit.signals[signal])));
    samples.push({ id: question.id, signals, gold: result.hits.map((hit) => question.isGold(hit.passage.file, hit.passage.text)) });
  }
  return samples;
}

const format = (weights: SignalWeights) => FUSION_SIGNALS.map((signal) => `${signal} ${weights[signal].toFixed(2)}`).join(', ');

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        shared: { type: 'string', default: '../shared' },
        'soft-threshold': { type: 'string', default: '0.5' },
        help: { type: 'boolean' },
      },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const softThreshold = Number(args.values['soft-threshold']);
  if (!(softThreshold > 0 && softThreshold < 1)) throw new UsageError('--soft-threshold must be a number between 0 and 1.');
  // Every signal measured, the soft ones included, so that fitting can give them a weight.
  const parameters: SearchParameters = { ...DEFAULT_SEARCH, softCoverage: { threshold: softThreshold }, measureAll: true };
  const config = configFromEnvironment();
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) throw new UsageError(`Fusion needs the embedding model: ${reason}`);
  const wordVectors = await openWordVectors(config, warn);
  const sets: Array<{ name: string; articles: Article[]; questions: LabelledQuestion[] }> = [
    {
      name: 'seeds',
      articles: await readSeedArticles(config.seedsDir, warn),
      questions: await readSeedQuestions(path.resolve('eval/seeds-questions.jsonl')),
    },
  ];
  for (const name of ['squad11-dev', 'news-web-dev'])
    sets.push({ name, ...(await readDataset(path.resolve(args.values.shared, 'eval', name), warn)) });

  const samples = new Map<string, RankingSample[]>();
  for (const set of sets) {
    const index = await buildMemoryIndex(set.articles, embedder);
    index.wordVectors = wordVectors;
    samples.set(set.name, await samplesOf(index, embedder, set.questions, parameters));
    process.stderr.write(`${set.name}: ${samples.get(set.name)!.length} questions with passage gold\n`);
  }

  const inUse: SignalWeights = { ...DEFAULT_SEARCH.weights };
  const fits: Array<{ label: string; on: string[]; weights: SignalWeights }> = [{ label: 'in use', on: [], weights: inUse }];
  for (const on of [['squad11-dev'], ['seeds'], ['news-web-dev'], ['seeds', 'news-web-dev']]) {
    const training = on.flatMap((name) => samples.get(name)!);
    const { weights } = fitFusion(training, { start: inUse, grid: DEFAULT_GRID, fixed: ['lexical'] });
    fits.push({ label: `coordinate ascent on ${on.join(' + ')}`, on, weights });
  }

  for (const on of [['squad11-dev'], ['seeds', 'news-web-dev']]) {
    for (const l2 of [0.01, 0.1]) {
      const training = on.flatMap((name) => samples.get(name)!);
      const weights = fitPairwise(training, { start: inUse, l2, epochs: 300, learningRate: 1, negatives: 10 });
      fits.push({ label: `pairwise (L2 ${l2}) on ${on.join(' + ')}`, on, weights });
    }
  }

  const names = sets.map((set) => set.name);
  console.log(`| weights | ${names.map((name) => `${name} S@1 / MRR@10`).join(' | ')} |`);
  console.log(`|---|${names.map(() => '---').join('|')}|`);
  for (const fit of fits) {
    const cells = names.map((name) => {
      const metrics = rankMetrics(samples.get(name)!, fit.weights);
      const cell = `${metrics.success_at_1.toFixed(3)} / ${metrics.mrr_at_10.toFixed(3)}`;
      return fit.on.includes(name) ? `(${cell}, in set)` : cell;
    });
    console.log(`| ${fit.label}: ${format(fit.weights)} | ${cells.join(' | ')} |`);
  }
  return 0;
});
