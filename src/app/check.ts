/**
 * `npm run check`: the retrieval check. Runs a labelled question set through the same answer path users
 * get and prints recall, MRR, nDCG, answer-in-quote, abstention accuracy and latency; `--baseline` adds
 * plain BM25 over the same passages. Exits 1 when a metric falls below eval/thresholds.json.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { answerWithRanking, confidenceOf, DEFAULT_ABSTENTION } from '../retrieval/answer.js';
import { Bm25Baseline } from '../eval/baseline.js';
import { readDataset, readSeedQuestions, type LabelledQuestion } from '../eval/datasets.js';
import { buildMemoryIndex } from '../index/memory.js';
import { bestThreshold, percentile, retrievalMetrics, type RankedJudgement, type RetrievalMetrics } from '../eval/metrics.js';
import { search, type SearchIndex } from '../retrieval/search.js';
import { openEmbedder, openRuntime } from './runtime.js';
import { configFromEnvironment, parseCommandLine, embedProgress, runMain, UsageError, warn } from './cli.js';
import type { IndexedPassage, RetrievalMode } from '../model.js';
import type { Embedder } from '../embedding/embedder.js';
import { readFeedbackQuestions } from '../eval/feedback.js';

const USAGE = 'usage: npm run check -- [--dataset DIR | --questions FILE | --feedback FILE] [--baseline] [--json] [--tune] [--limit N]';

interface Report {
  dataset: string;
  mode: RetrievalMode;
  model: string | null;
  passages: number;
  questions: { answerable: number; unanswerable: number };
  metrics: RetrievalMetrics & {
    answer_in_quote: number;
    abstention_accuracy: number;
    latency_ms_p50: number;
    latency_ms_p95: number;
  };
  baseline?: RetrievalMetrics & { latency_ms_p50: number; latency_ms_p95: number };
  tuning: { abstention_threshold: number; best_threshold: number; best_abstention_accuracy: number };
  thresholds: Record<string, number>;
  failures: string[];
}

/**
 * Gold is judged per paragraph: a long paragraph indexed as two passages is one unit, found when either
 * part is returned, so splitting cannot inflate or deflate recall.
 */
function judgeParagraphs(ranked: IndexedPassage[], question: LabelledQuestion): boolean[] {
  const seen = new Map<string, boolean>();
  for (const passage of ranked) {
    const key = `${passage.file}#${passage.paragraph}`;
    seen.set(key, (seen.get(key) ?? false) || question.isGold(passage.file, passage.text));
  }
  return [...seen.values()].slice(0, 10);
}

function goldParagraphs(passages: IndexedPassage[], question: LabelledQuestion): number {
  return new Set(
    passages.filter((passage) => question.isGold(passage.file, passage.text)).map((passage) => `${passage.file}#${passage.paragraph}`),
  ).size;
}

async function evaluate(
  name: string,
  index: SearchIndex,
  embedder: Embedder | null,
  questions: LabelledQuestion[],
  withBaseline: boolean,
): Promise<Omit<Report, 'thresholds' | 'failures' | 'model'>> {
  const passages = [...index.passages.values()];
  const judgements: RankedJudgement[] = [];
  const latencies: number[] = [];
  const confidences: Array<{ confidence: number; answerable: boolean }> = [];
  let answerInQuote = 0;
  let abstainedCorrectly = 0;
  let mode: RetrievalMode = 'lexical';

  for (const question of questions) {
    const started = performance.now();
    const { answer, ranking } = await answerWithRanking(question.question, { index, embedder, k: 10, rankingDepth: 30 });
    latencies.push(performance.now() - started);
    mode = answer.mode;
    if (answer.answered === question.answerable) abstainedCorrectly += 1;

    const hits = ranking?.hits ?? [];
    const top = hits[0];
    confidences.push({ confidence: top && ranking ? confidenceOf(top, ranking.mode) : 0, answerable: question.answerable });
    if (!question.answerable) continue;
    const goldCount = goldParagraphs(passages, question);
    if (goldCount === 0) {
      warn(`${name}: question ${question.id} has no gold passage in the index; it counts as a miss.`);
    }
    judgements.push({
      gold: judgeParagraphs(
        hits.map((hit) => hit.passage),
        question,
      ),
      goldCount: Math.max(1, goldCount),
    });
    const quote = answer.results[0]?.quote ?? '';
    if (question.answers.some((gold) => quote.includes(gold))) answerInQuote += 1;
  }

  const answerable = questions.filter((question) => question.answerable);
  let baseline: Report['baseline'];
  if (withBaseline) {
    const bm25 = new Bm25Baseline(passages);
    const baselineJudgements: RankedJudgement[] = [];
    const baselineLatencies: number[] = [];
    for (const question of answerable) {
      const started = performance.now();
      const labels = bm25.search(question.question, 30);
      baselineLatencies.push(performance.now() - started);
      baselineJudgements.push({
        gold: judgeParagraphs(
          labels.map((label) => index.passages.get(label)!),
          question,
        ),
        goldCount: Math.max(1, goldParagraphs(passages, question)),
      });
    }
    baseline = {
      ...retrievalMetrics(baselineJudgements),
      latency_ms_p50: percentile(baselineLatencies, 50),
      latency_ms_p95: percentile(baselineLatencies, 95),
    };
  }

  const best = bestThreshold(confidences);
  return {
    dataset: name,
    mode,
    passages: passages.length,
    questions: { answerable: answerable.length, unanswerable: questions.length - answerable.length },
    metrics: {
      ...retrievalMetrics(judgements),
      answer_in_quote: answerable.length === 0 ? 0 : answerInQuote / answerable.length,
      abstention_accuracy: questions.length === 0 ? 0 : abstainedCorrectly / questions.length,
      latency_ms_p50: percentile(latencies, 50),
      latency_ms_p95: percentile(latencies, 95),
    },
    baseline,
    tuning: { abstention_threshold: DEFAULT_ABSTENTION.threshold, best_threshold: best.threshold, best_abstention_accuracy: best.accuracy },
  };
}

function formatReport(report: Report): string {
  const f = (value: number) => value.toFixed(3);
  const row = (label: string, m: RetrievalMetrics) =>
    `${label.padEnd(22)} ${f(m.success_at_1)}  ${f(m.success_at_5)}  ${f(m.success_at_10)}  ${f(m.recall_at_1)}  ${f(m.recall_at_5)}  ${f(m.recall_at_10)}  ${f(m.mrr_at_10)}  ${f(m.ndcg_at_10)}`;
  const lines = [
    `Retrieval check: ${report.dataset} — ${report.passages} passages, ${report.questions.answerable} answerable + ${report.questions.unanswerable} unanswerable questions, ${report.mode} retrieval${report.model ? ` (${report.model})` : ''}`,
    '',
    `${''.padEnd(22)} S@1    S@5    S@10   R@1    R@5    R@10   MRR@10 nDCG@10`,
    row('citebot', report.metrics),
  ];
  if (report.baseline) lines.push(row('BM25 baseline', report.baseline));
  lines.push(
    '',
    `answer in quote      ${f(report.metrics.answer_in_quote)}   (a gold answer string appears in the top result's quote)`,
    `abstention accuracy  ${f(report.metrics.abstention_accuracy)}   (threshold ${report.tuning.abstention_threshold}; best on this set ${report.tuning.best_threshold.toFixed(3)} → ${f(report.tuning.best_abstention_accuracy)})`,
    `latency              p50 ${report.metrics.latency_ms_p50.toFixed(2)} ms, p95 ${report.metrics.latency_ms_p95.toFixed(2)} ms per question${report.baseline ? ` (BM25 baseline p50 ${report.baseline.latency_ms_p50.toFixed(2)} ms)` : ''}`,
    '',
    'S@k: a gold passage in the top k. R@k: share of the gold passages in the top k (MTEB recall).',
  );
  lines.push(
    report.failures.length === 0
      ? `thresholds: all met (${Object.keys(report.thresholds).length} checked)`
      : `BELOW THRESHOLD: ${report.failures.join('; ')}`,
  );
  return lines.join('\n');
}

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
  const config = configFromEnvironment();
  const progress = embedProgress('embedding');

  let raw: Omit<Report, 'thresholds' | 'failures' | 'model'>;
  let model: string | null;
  if (args.values.dataset) {
    const dir = path.resolve(args.values.dataset);
    const { articles, questions } = await readDataset(dir);
    const { embedder, reason } = await openEmbedder(config);
    if (!embedder) warn(`${reason} Checking lexical retrieval only.`);
    const index = await buildMemoryIndex(articles, embedder, { onEmbedProgress: progress.onProgress });
    progress.stop();
    model = embedder?.fingerprint.model ?? null;
    raw = await evaluate(path.basename(dir), index, embedder, questions.slice(0, limit), args.values.baseline);
  } else {
    const runtime = await openRuntime(config, { autoBuild: true, warn, onEmbedProgress: progress.onProgress });
    progress.stop();
    model = runtime.mode === 'hybrid' ? (runtime.index.manifest.embedding?.model ?? null) : null;
    if (args.values.feedback) {
      // Votes from the bot: 👍 answers are labelled questions; 👎 answers should no longer come first.
      const { questions, demoted } = await readFeedbackQuestions(path.resolve(args.values.feedback), warn);
      if (questions.length === 0 && demoted.length === 0)
        throw new UsageError(`${args.values.feedback} has no votes with a result to check.`);
      raw = await evaluate('feedback', runtime.index, runtime.embedder, questions.slice(0, limit), args.values.baseline);
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
        args.values.baseline,
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
  if (args.values.json) console.log(JSON.stringify(report));
  else console.log(formatReport(report));
  if (args.values.tune) {
    process.stderr.write(
      `tuning: the abstention threshold that classifies this set best is ${report.tuning.best_threshold.toFixed(3)} (accuracy ${report.tuning.best_abstention_accuracy.toFixed(3)}); the current one is ${report.tuning.abstention_threshold}.\n`,
    );
  }
  return failures.length === 0 ? 0 : 1;
});
