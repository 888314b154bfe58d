/**
 * `npm run check`: the retrieval check. Runs a labelled question set through the same answer path users
 * get and prints recall, MRR, nDCG, answer-in-quote, abstention accuracy and latency; `--baseline` adds
 * plain BM25 over the same passages. Exits 1 when a metric falls below eval/thresholds.json.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { evaluate, formatReport, type Report } from '../eval/check.js';
import { renderReportHtml } from '../eval/report-html.js';
import { readDataset, readSeedQuestions } from '../eval/datasets.js';
import { buildMemoryIndex } from '../index/memory.js';
import { search } from '../retrieval/search.js';
import { openEmbedder, openRuntime, openWordVectors } from './runtime.js';
import { configFromEnvironment, parseCommandLine, embedProgress, runMain, UsageError, warn } from './cli.js';
import { readFeedbackQuestions } from '../eval/feedback.js';
import { formatAttribution, readAttributionLabels, scoreAttribution } from '../eval/attribution.js';
import { articlePassages } from '../ingest/passages.js';
import { readSeedArticles } from '../ingest/seed-files.js';
import type { ServedIndex } from '../storage/served-index.js';
import type { LoadedIndex } from '../storage/store.js';

const USAGE =
  'usage: npm run check -- [--dataset DIR | --questions FILE | --feedback FILE] [--baseline] [--exact-words] [--follow-up-weight W] [--json] [--tune] [--limit N] [--report FILE.html]\n       npm run check -- --attribution [--dataset DIR]';

runMain(async () => {
  const args = parseCommandLine(USAGE, () =>
    parseArgs({
      options: {
        dataset: { type: 'string' },
        questions: { type: 'string' },
        feedback: { type: 'string' },
        baseline: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        tune: { type: 'boolean', default: false },
        attribution: { type: 'boolean', default: false },
        'exact-words': { type: 'boolean', default: false },
        'follow-up-weight': { type: 'string' },
        report: { type: 'string' },
        limit: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (args.values.help) {
    console.log(USAGE);
    return 0;
  }
  const limit = args.values.limit === undefined ? Infinity : Number(args.values.limit);
  if (!(limit > 0)) throw new UsageError('--limit must be a positive number.');
  // --follow-up-weight: how much a follow-up's earlier question counts (0: a follow-up is read alone).
  const followUpWeight = args.values['follow-up-weight'] === undefined ? undefined : Number(args.values['follow-up-weight']);
  if (followUpWeight !== undefined && !(followUpWeight >= 0 && followUpWeight <= 1))
    throw new UsageError('--follow-up-weight must be a number from 0 to 1.');
  const config = configFromEnvironment();
  if (args.values.attribution) return checkAttribution(args.values.dataset, config.seedsDir, args.values.json);
  const progress = embedProgress('embedding');

  let raw: Omit<Report, 'thresholds' | 'failures' | 'model'>;
  let model: string | null;
  if (args.values.dataset) {
    const dir = path.resolve(args.values.dataset);
    // --questions with --dataset: these questions, in the set's own form, instead of the set's.
    const { articles, questions } = await readDataset(dir, warn, args.values.questions && path.resolve(args.values.questions));
    const { embedder, reason } = await openEmbedder(config);
    if (!embedder) warn(`${reason} Checking lexical retrieval only.`);
    const index = await buildMemoryIndex(articles, embedder, { onEmbedProgress: progress.onProgress });
    // --exact-words: question words match only themselves, to measure what soft matching adds.
    index.wordVectors = args.values['exact-words'] ? null : await openWordVectors(config, warn);
    progress.stop();
    model = embedder?.fingerprint.model ?? null;
    // Another question file makes another set: the set's thresholds are for its own questions.
    const name = args.values.questions ? `${path.basename(dir)}:${path.basename(args.values.questions, '.jsonl')}` : path.basename(dir);
    const options = { withBaseline: args.values.baseline, warn, followUpWeight };
    if (config.indexStore.kind === 'postgres') {
      // The set is written into a schema of its own in the configured database and answered from there.
      const { checkInPostgres } = await import('../storage/postgres/pg-check.js');
      raw = await checkInPostgres(config.indexStore, index, embedder, (answering) =>
        evaluate(name, answering, embedder, questions.slice(0, limit), { ...options, corpus: index }),
      );
    } else {
      raw = await evaluate(name, index, embedder, questions.slice(0, limit), options);
    }
  } else {
    const runtime = await openRuntime(config, { warn, onEmbedProgress: progress.onProgress });
    progress.stop();
    model = runtime.mode === 'hybrid' ? (runtime.index.summary.embedding?.model ?? null) : null;
    if (args.values['exact-words']) runtime.index.wordVectors = null;
    if (args.values.feedback) {
      // Votes from the bot: 👍 answers are labelled questions; 👎 answers should no longer come first.
      const { questions, demoted } = await readFeedbackQuestions(path.resolve(args.values.feedback), warn);
      if (questions.length === 0 && demoted.length === 0)
        throw new UsageError(`${args.values.feedback} has no votes with a result to check.`);
      raw = await evaluate('feedback', runtime.index, runtime.embedder, questions.slice(0, limit), {
        withBaseline: args.values.baseline,
        warn,
        corpus: await inMemory(runtime.index),
      });
      let stillFirst = 0;
      for (const vote of demoted) {
        const top = (await search(vote.question, { index: runtime.index, embedder: runtime.embedder, k: 1 })).hits[0];
        if (top && top.passage.file === vote.file && top.passage.text.includes(vote.quote)) stillFirst += 1;
      }
      process.stderr.write(
        `feedback: ${questions.length} 👍 question(s) checked; ${stillFirst} of ${demoted.length} 👎 answer(s) still come first.\n`,
      );
    } else {
      const questionsFile = path.resolve(args.values.questions ?? 'eval/seeds-questions.jsonl');
      const questions = await readSeedQuestions(questionsFile);
      raw = await evaluate(
        args.values.questions ? path.basename(questionsFile, '.jsonl') : 'seeds',
        runtime.index,
        runtime.embedder,
        questions.slice(0, limit),
        { withBaseline: args.values.baseline, warn, followUpWeight, corpus: await inMemory(runtime.index) },
      );
    }
  }

  const allThresholds = JSON.parse(await readFile(path.resolve('eval/thresholds.json'), 'utf8')) as Record<string, Record<string, number>>;
  // Thresholds hold for full runs of the real model; a partial or lexical-only run is reported, not judged.
  const thresholds = limit === Infinity && raw.mode === 'hybrid' ? (allThresholds[raw.dataset] ?? {}) : {};
  const failures = Object.entries(thresholds)
    .filter(([metric, minimum]) => ((raw.metrics as unknown as Record<string, number>)[metric] ?? 0) < minimum)
    .map(([metric, minimum]) => `${metric} ${((raw.metrics as unknown as Record<string, number>)[metric] ?? 0).toFixed(3)} < ${minimum}`);
  const report: Report = { ...raw, model, thresholds, failures };
  // The misses are for the HTML page; the JSON keeps the metrics (a squad run has about a thousand misses).
  const { misses, ...metrics } = report;
  if (args.values.json) console.log(JSON.stringify({ ...metrics, misses: misses.length }));
  else console.log(formatReport(report));
  if (args.values.report) {
    const file = path.resolve(args.values.report);
    await writeFile(file, renderReportHtml(report));
    process.stderr.write(`report: ${misses.length} misses and the metrics written to ${file}\n`);
  }
  if (args.values.tune) {
    process.stderr.write(
      `tuning: the abstention threshold that classifies this set best is ${report.tuning.best_threshold.toFixed(3)} (accuracy ${report.tuning.best_abstention_accuracy.toFixed(3)}); the current one is ${report.tuning.abstention_threshold}.\n`,
    );
  }
  return failures.length === 0 ? 0 : 1;
});

/**
 * The passages the check finds gold passages among and runs the baselines over: those of an index in
 * local files as loaded, those of an index in Postgres read once (the baselines then run lexically).
 */
async function inMemory(index: ServedIndex): Promise<Pick<LoadedIndex, 'articles' | 'passages' | 'vectors'> | undefined> {
  if (!index.narrow) return undefined;
  return { articles: index.articles, passages: await index.lookup.all(), vectors: null };
}

/**
 * Quote attribution against eval/attribution.jsonl, over the seeds or a news-web dataset's pages.
 * Exits 1 when a name is given wrongly: a wrong bracket misleads a reader more than a missing one.
 */
async function checkAttribution(dataset: string | undefined, seedsDir: string, json: boolean): Promise<number> {
  const articles = dataset ? (await readDataset(path.resolve(dataset), warn)).articles : await readSeedArticles(seedsDir, warn);
  const labels = await readAttributionLabels(path.resolve('eval/attribution.jsonl'));
  const score = scoreAttribution(
    articles.flatMap((article) => articlePassages(article)),
    labels,
  );
  if (json) console.log(JSON.stringify(score));
  else {
    console.log(formatAttribution(score));
    for (const miss of score.misses)
      console.log(`  ${miss.id}: expected ${miss.expected ?? 'no name'}, got ${miss.got ?? 'no name'} — ${miss.sentence}`);
  }
  return score.elsewhere.wrong + score.unnamed.wrong === 0 ? 0 : 1;
}
