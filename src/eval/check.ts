/**
 * The retrieval check: a labelled question set through the answer path users get, scored for ranking
 * (recall, MRR, nDCG), the top quote (answer in quote), abstention and latency, beside plain BM25.
 */
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../embedding/embedder.js';
import type { IndexedPassage, RetrievalMode } from '../model.js';
import { answerWithRanking, confidenceOf, DEFAULT_ABSTENTION } from '../retrieval/answer.js';
import type { SearchIndex } from '../retrieval/search.js';
import { VectorIndex } from '../index/hnsw.js';
import type { LoadedIndex } from '../storage/store.js';
import { Bm25Baseline } from './baseline.js';
import { buildPeers } from './peers.js';
import type { LabelledQuestion } from './datasets.js';
import { followUpOf } from '../retrieval/follow-up.js';
import { bestThreshold, percentile, retrievalMetrics, type RankedJudgement, type RetrievalMetrics } from './metrics.js';

/** What a check run reports (the JSON of `npm run check -- --json`). */
export interface Report {
  dataset: string;
  mode: RetrievalMode;
  model: string | null;
  passages: number;
  questions: { answerable: number; unanswerable: number };
  metrics: RetrievalMetrics & {
    answer_in_quote: number;
    abstention_accuracy: number;
    /** Share of the unanswerable questions that citebot declined to answer. */
    unanswerable_abstained: number;
    /** Share of the answerable questions that citebot declined to answer. */
    false_abstentions: number;
    latency_ms_p50: number;
    latency_ms_p95: number;
  };
  baseline?: RetrievalMetrics & { latency_ms_p50: number; latency_ms_p95: number };
  /** With --baseline: the libraries a user might pick instead, over the same passages and vectors. */
  peers?: Array<{ name: string; build_ms: number; metrics: RetrievalMetrics & { latency_ms_p50: number; latency_ms_p95: number } }>;
  /** The same metrics for each kind of question, where the set tells kinds (citebot and, with --baseline, BM25 and the peers). */
  by_kind?: Record<
    string,
    {
      questions: number;
      citebot: RetrievalMetrics;
      answer_in_quote: number;
      baseline?: RetrievalMetrics;
      peers?: Record<string, RetrievalMetrics>;
    }
  >;
  tuning: { abstention_threshold: number; best_threshold: number; best_abstention_accuracy: number };
  /** Every question citebot got wrong, with what should have come first and what did: the page `--report` shows. */
  misses: Miss[];
  thresholds: Record<string, number>;
  failures: string[];
}

/** A passage as a miss shows it. */
export interface ShownPassage {
  file: string;
  title: string;
  paragraph: number;
  text: string;
}

/** A question answered wrongly: no gold paragraph first, an answer where it should abstain, or the reverse. */
export interface Miss {
  id: string;
  question: string;
  kind?: string;
  /** What went wrong, in a few words. */
  problem: 'gold not first' | 'gold not found' | 'abstained' | 'answered the unanswerable' | 'wrong article';
  /** Rank of the first gold paragraph among the top 30 (1-based), or null. */
  goldRank: number | null;
  answered: boolean;
  /** The gold paragraphs (at most three). */
  gold: ShownPassage[];
  /** What came first instead, with its quote. */
  first: (ShownPassage & { quote: string; score: number }) | null;
  /** The fact given, for a metadata question. */
  fact?: string;
}

const MISS_GOLD_SHOWN = 3;

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

/** The gold paragraphs of a question as a miss shows them (a long paragraph's parts count once). */
function goldPassages(passages: IndexedPassage[], question: LabelledQuestion, index: Pick<SearchIndex, 'articles'>): ShownPassage[] {
  const seen = new Set<string>();
  const shown: ShownPassage[] = [];
  for (const passage of passages) {
    const key = `${passage.file}#${passage.paragraph}`;
    if (seen.has(key) || !question.isGold(passage.file, passage.text)) continue;
    seen.add(key);
    shown.push({
      file: passage.file,
      title: index.articles.get(passage.file)?.title ?? passage.file,
      paragraph: passage.paragraph,
      text: passage.text,
    });
    if (shown.length === MISS_GOLD_SHOWN) break;
  }
  return shown;
}

/** An index that holds its passages and vectors in memory, as the baselines need them. */
function corpusOf(index: SearchIndex): Pick<LoadedIndex, 'articles' | 'passages' | 'vectors'> {
  const { vectors } = index;
  if (index.narrow || (vectors !== null && !(vectors instanceof VectorIndex)))
    throw new Error('the index is kept in a store: give evaluate its passages in memory as `corpus`');
  return { articles: index.articles, passages: index.passages, vectors };
}

/**
 * Runs every question through the answer path users get, judging its ranking, its top quote and its
 * abstention; with `withBaseline`, plain BM25 over the same passages too. Metrics only: no thresholds.
 */
export async function evaluate(
  name: string,
  index: SearchIndex,
  embedder: Embedder | null,
  questions: LabelledQuestion[],
  options: {
    withBaseline: boolean;
    warn: (message: string) => void;
    followUpWeight?: number;
    /**
     * The same passages in memory, where `index` is kept in a store (it holds no passages of its own): gold
     * passages are found in it and the baselines run over it. Default: `index` itself.
     */
    corpus?: Pick<LoadedIndex, 'articles' | 'passages' | 'vectors'>;
  },
): Promise<Omit<Report, 'thresholds' | 'failures' | 'model'>> {
  const corpus = options.corpus ?? corpusOf(index);
  const passages = [...corpus.passages.values()];
  const judgements: RankedJudgement[] = [];
  const kinds: Array<string | undefined> = [];
  const latencies: number[] = [];
  const confidences: Array<{ confidence: number; answerable: boolean }> = [];
  let answerInQuote = 0;
  /** Per answerable question, in the order of `kinds`: whether its answer was shown. */
  const answersShown: boolean[] = [];
  const misses: Miss[] = [];
  let abstainedCorrectly = 0;
  let abstainedUnanswerable = 0;
  let abstainedAnswerable = 0;
  let mode: RetrievalMode = 'lexical';

  for (const question of questions) {
    const started = performance.now();
    // A follow-up is asked as in a reply to the answer to the question it follows.
    const earlier = question.follows ? followUpOf({ question: question.follows }, options.followUpWeight) : [];
    const { answer, ranking } = await answerWithRanking(question.question, { index, embedder, k: 10, rankingDepth: 30, earlier });
    latencies.push(performance.now() - started);
    mode = answer.mode;
    if (answer.answered === question.answerable) abstainedCorrectly += 1;
    if (!answer.answered && question.answerable) abstainedAnswerable += 1;
    if (!answer.answered && !question.answerable) abstainedUnanswerable += 1;

    const hits = ranking?.hits ?? [];
    const top = hits[0];
    confidences.push({ confidence: top && ranking ? confidenceOf(top, ranking.mode) : 0, answerable: question.answerable });
    const result = answer.results[0];
    const first = result
      ? {
          file: result.article.file,
          title: result.article.title,
          paragraph: result.paragraph,
          text: result.passage,
          quote: result.quote,
          score: result.score,
        }
      : null;
    const miss = (problem: Miss['problem'], goldRank: number | null): Miss => ({
      id: question.id,
      question: question.question,
      ...(question.kind ? { kind: question.kind } : {}),
      problem,
      goldRank,
      answered: answer.answered,
      gold: goldPassages(passages, question, corpus),
      first,
      ...(answer.fact ? { fact: answer.fact.text } : {}),
    });
    if (!question.answerable) {
      if (answer.answered) misses.push(miss('answered the unanswerable', null));
      continue;
    }
    const shown = `${answer.fact?.value ?? ''} ${answer.results[0]?.speaker?.name ?? ''} ${answer.results[0]?.quote ?? ''}`;
    const inQuote = question.answers.some((gold) => shown.includes(gold));
    if (inQuote) answerInQuote += 1;
    kinds.push(question.kind);
    answersShown.push(inQuote);
    if (question.goldFact) {
      // Judged by the fact alone: right when it is the asked field of the right article.
      const { file, field } = question.goldFact;
      const right = answer.fact?.article.file === file && answer.fact.field === field;
      judgements.push({ gold: [right], goldCount: 1 });
      if (!right) misses.push(miss('wrong article', null));
      continue;
    }
    const goldCount = goldParagraphs(passages, question);
    if (goldCount === 0) {
      options.warn(`${name}: question ${question.id} has no gold passage in the index; it counts as a miss.`);
    }
    const judged = judgeParagraphs(
      hits.map((hit) => hit.passage),
      question,
    );
    judgements.push({ gold: judged, goldCount: Math.max(1, goldCount) });
    const goldRank = judged.indexOf(true) + 1 || null;
    if (goldRank !== 1) misses.push(miss(goldRank === null ? 'gold not found' : 'gold not first', goldRank));
    else if (!answer.answered) misses.push(miss('abstained', goldRank));
  }

  const answerable = questions.filter((question) => question.answerable);
  let baseline: Report['baseline'];
  let baselineJudgements: RankedJudgement[] = [];
  const peers: NonNullable<Report['peers']> = [];
  const peerJudgements: RankedJudgement[][] = [];
  if (options.withBaseline) {
    const bm25 = new Bm25Baseline(passages);
    const ranked = await judgeRetriever(corpus, passages, answerable, (question) => bm25.search(question, 30));
    baselineJudgements = ranked.judgements;
    baseline = ranked.metrics;
    for (const { peer, buildMs } of await buildPeers(corpus)) {
      const vectorOf = async (question: string) =>
        peer.usesQueryVector && embedder ? ((await embedder.embed([question], 'query'))[0] ?? null) : null;
      const byPeer = await judgeRetriever(corpus, passages, answerable, async (question) =>
        peer.search(question, await vectorOf(question), 30),
      );
      peers.push({ name: peer.name, build_ms: buildMs, metrics: byPeer.metrics });
      peerJudgements.push(byPeer.judgements);
    }
  }

  const best = bestThreshold(confidences);
  const byKind: NonNullable<Report['by_kind']> = {};
  for (const kind of new Set(kinds)) {
    if (kind === undefined) continue;
    const of = <T>(all: T[]) => all.filter((_, i) => kinds[i] === kind);
    byKind[kind] = {
      questions: of(judgements).length,
      citebot: retrievalMetrics(of(judgements)),
      answer_in_quote: of(answersShown).filter(Boolean).length / Math.max(1, of(answersShown).length),
      baseline: baseline ? retrievalMetrics(of(baselineJudgements)) : undefined,
      peers:
        peers.length > 0 ? Object.fromEntries(peers.map((peer, i) => [peer.name, retrievalMetrics(of(peerJudgements[i]!))])) : undefined,
    };
  }
  return {
    dataset: name,
    mode,
    passages: passages.length,
    questions: { answerable: answerable.length, unanswerable: questions.length - answerable.length },
    metrics: {
      ...retrievalMetrics(judgements),
      answer_in_quote: answerable.length === 0 ? 0 : answerInQuote / answerable.length,
      abstention_accuracy: questions.length === 0 ? 0 : abstainedCorrectly / questions.length,
      unanswerable_abstained: questions.length === answerable.length ? 0 : abstainedUnanswerable / (questions.length - answerable.length),
      false_abstentions: answerable.length === 0 ? 0 : abstainedAnswerable / answerable.length,
      latency_ms_p50: percentile(latencies, 50),
      latency_ms_p95: percentile(latencies, 95),
    },
    baseline,
    peers: peers.length > 0 ? peers : undefined,
    by_kind: Object.keys(byKind).length > 0 ? byKind : undefined,
    tuning: { abstention_threshold: DEFAULT_ABSTENTION.threshold, best_threshold: best.threshold, best_abstention_accuracy: best.accuracy },
    misses,
  };
}

/**
 * A passage ranker other than citebot, judged like citebot: per paragraph, on the answerable questions. A
 * question answered by an article's field counts as a miss, since no passage holds it.
 */
async function judgeRetriever(
  index: Pick<SearchIndex, 'passages'>,
  passages: IndexedPassage[],
  questions: LabelledQuestion[],
  rank: (question: string) => Promise<number[]> | number[],
): Promise<{ judgements: RankedJudgement[]; metrics: RetrievalMetrics & { latency_ms_p50: number; latency_ms_p95: number } }> {
  const judgements: RankedJudgement[] = [];
  const latencies: number[] = [];
  for (const question of questions) {
    if (question.goldFact) {
      judgements.push({ gold: [false], goldCount: 1 });
      continue;
    }
    const started = performance.now();
    const labels = await rank(question.question);
    latencies.push(performance.now() - started);
    const ranked = labels.map((label) => index.passages.get(label)).filter((passage) => passage !== undefined);
    judgements.push({ gold: judgeParagraphs(ranked, question), goldCount: Math.max(1, goldParagraphs(passages, question)) });
  }
  return {
    judgements,
    metrics: { ...retrievalMetrics(judgements), latency_ms_p50: percentile(latencies, 50), latency_ms_p95: percentile(latencies, 95) },
  };
}

/** The report as the terminal shows it. */
export function formatReport(report: Report): string {
  const f = (value: number) => value.toFixed(3);
  const row = (label: string, m: RetrievalMetrics) =>
    `${label.padEnd(32)} ${f(m.success_at_1)}  ${f(m.success_at_5)}  ${f(m.success_at_10)}  ${f(m.recall_at_1)}  ${f(m.recall_at_5)}  ${f(m.recall_at_10)}  ${f(m.mrr_at_10)}  ${f(m.ndcg_at_10)}`;
  const lines = [
    `Retrieval check: ${report.dataset} — ${report.passages} passages, ${report.questions.answerable} answerable + ${report.questions.unanswerable} unanswerable questions, ${report.mode} retrieval${report.model ? ` (${report.model})` : ''}`,
    '',
    `${''.padEnd(32)} S@1    S@5    S@10   R@1    R@5    R@10   MRR@10 nDCG@10`,
    row('citebot', report.metrics),
  ];
  if (report.baseline) lines.push(row('BM25 baseline', report.baseline));
  for (const peer of report.peers ?? []) lines.push(row(peer.name, peer.metrics));
  for (const [kind, metrics] of Object.entries(report.by_kind ?? {})) {
    lines.push(row(`  ${kind} (${metrics.questions})`, metrics.citebot));
    if (metrics.baseline) lines.push(row(`  ${kind}, BM25`, metrics.baseline));
    for (const [name, peer] of Object.entries(metrics.peers ?? {})) lines.push(row(`  ${kind}, ${name}`, peer));
  }
  lines.push(
    '',
    `answer in quote      ${f(report.metrics.answer_in_quote)}   (a gold answer string appears in the top result's quote, its speaker's name, or the fact of a metadata answer)`,
    ...Object.entries(report.by_kind ?? {}).map(([kind, metrics]) => `  ${kind.padEnd(19)}${f(metrics.answer_in_quote)}`),
    `abstention accuracy  ${f(report.metrics.abstention_accuracy)}   (threshold ${report.tuning.abstention_threshold}; best on this set ${report.tuning.best_threshold.toFixed(3)} → ${f(report.tuning.best_abstention_accuracy)})`,
    `  unanswerable       ${f(report.metrics.unanswerable_abstained)} abstained (of ${report.questions.unanswerable})`,
    `  answerable         ${f(report.metrics.false_abstentions)} abstained wrongly (of ${report.questions.answerable})`,
    `latency              p50 ${report.metrics.latency_ms_p50.toFixed(2)} ms, p95 ${report.metrics.latency_ms_p95.toFixed(2)} ms per question${report.baseline ? ` (BM25 baseline p50 ${report.baseline.latency_ms_p50.toFixed(2)} ms)` : ''}`,
    ...(report.peers ?? []).map(
      (peer) =>
        `${peer.name.padEnd(20)} built in ${peer.build_ms.toFixed(0)} ms; p50 ${peer.metrics.latency_ms_p50.toFixed(2)} ms, p95 ${peer.metrics.latency_ms_p95.toFixed(2)} ms per question`,
    ),
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
