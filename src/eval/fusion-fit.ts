/**
 * Learned fusion: the weights that combine retrieval's signals, fitted on the candidates of one labelled
 * set by coordinate ascent on MRR@10 (each weight in turn set to its best value on a grid, until no step
 * helps), then judged on other sets. Pure: candidate signals and gold flags in, weights and metrics out.
 * The ranking here is the weighted sum alone: search's date bonus (for a question that names a time) is
 * left out: few questions of the sets name one (one of the seeds').
 */
import { DEFAULT_SEARCH, FUSION_SIGNALS, type FusionWeights } from '../retrieval/search.js';

/** The signals fusion combines, in search's order. */
export { FUSION_SIGNALS };
export type SignalWeights = FusionWeights;

/** One question's candidates: their signals in FUSION_SIGNALS order, and which are gold. */
export interface RankingSample {
  id: string;
  /** candidates × signals, row by row. */
  signals: Float64Array;
  gold: boolean[];
}

export interface RankMetrics {
  questions: number;
  success_at_1: number;
  success_at_5: number;
  mrr_at_10: number;
}

/** The 1-based rank of the first gold candidate under `weights` (ties go to the earlier candidate); 0 when none is gold. */
export function goldRank(sample: RankingSample, weights: SignalWeights): number {
  const width = FUSION_SIGNALS.length;
  const w = FUSION_SIGNALS.map((signal) => weights[signal]);
  const count = sample.gold.length;
  const scores = new Float64Array(count);
  for (let i = 0; i < count; i += 1) {
    let score = 0;
    for (let j = 0; j < width; j += 1) score += w[j]! * sample.signals[i * width + j]!;
    scores[i] = score;
  }
  let best = -1;
  for (let i = 0; i < count; i += 1) if (sample.gold[i] && (best < 0 || scores[i]! > scores[best]!)) best = i;
  if (best < 0) return 0;
  let rank = 1;
  for (let i = 0; i < count; i += 1) if (scores[i]! > scores[best]! || (scores[i] === scores[best] && i < best)) rank += 1;
  return rank;
}

export function rankMetrics(samples: readonly RankingSample[], weights: SignalWeights): RankMetrics {
  let first = 0;
  let five = 0;
  let reciprocal = 0;
  for (const sample of samples) {
    const rank = goldRank(sample, weights);
    if (rank === 1) first += 1;
    if (rank >= 1 && rank <= 5) five += 1;
    if (rank >= 1 && rank <= 10) reciprocal += 1 / rank;
  }
  const n = Math.max(1, samples.length);
  return { questions: samples.length, success_at_1: first / n, success_at_5: five / n, mrr_at_10: reciprocal / n };
}

export interface FitOptions {
  /** Where the search starts (the weights in use). */
  start: SignalWeights;
  /** Values tried for each weight. */
  grid: readonly number[];
  /** Weights held where they start: the lexical one, since only ratios matter. */
  fixed: ReadonlyArray<keyof FusionWeights>;
  maxPasses?: number;
}

/** Values 0, 0.1, …, 2. */
export const DEFAULT_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => Math.round(i * 10) / 100);

/**
 * The weights with the best MRR@10 on `samples` that coordinate ascent reaches from `start`; a step is
 * taken only when it improves MRR, so ties keep the weights in use.
 */
export function fitFusion(samples: readonly RankingSample[], options: FitOptions): { weights: SignalWeights; metrics: RankMetrics } {
  let weights = { ...options.start };
  let best = rankMetrics(samples, weights).mrr_at_10;
  for (let pass = 0; pass < (options.maxPasses ?? 5); pass += 1) {
    let improved = false;
    for (const signal of FUSION_SIGNALS) {
      if (options.fixed.includes(signal)) continue;
      for (const value of options.grid) {
        if (value === weights[signal]) continue;
        const trial = { ...weights, [signal]: value };
        const mrr = rankMetrics(samples, trial).mrr_at_10;
        if (mrr > best + 1e-9) {
          best = mrr;
          weights = trial;
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return { weights, metrics: rankMetrics(samples, weights) };
}

export interface PairwiseOptions {
  /** L2 penalty on the weights (the lexical one included): keeps the fit from leaning on a few questions. */
  l2: number;
  epochs: number;
  learningRate: number;
  /** Non-gold candidates per question that each gold one is compared with: the best-scored under `start`. */
  negatives: number;
  start: SignalWeights;
}

/**
 * A small ranker: logistic loss on (gold, non-gold) pairs of each question, the weights moved by gradient
 * descent from `start`, then scaled so the lexical weight is 1 when it stays positive (only ratios rank). RankNet with a linear
 * score; the pairs are the hardest non-gold candidates, the ones the ranking actually confuses.
 */
export function fitPairwise(samples: readonly RankingSample[], options: PairwiseOptions): SignalWeights {
  const width = FUSION_SIGNALS.length;
  const w = FUSION_SIGNALS.map((signal) => options.start[signal]);
  const pairs: Array<[Float64Array, Float64Array]> = [];
  for (const sample of samples) {
    const row = (i: number) => sample.signals.subarray(i * width, (i + 1) * width);
    const score = (i: number) => row(i).reduce((sum, value, j) => sum + value * w[j]!, 0);
    const order = sample.gold.map((_, i) => i).sort((a, b) => score(b) - score(a));
    const negatives = order.filter((i) => !sample.gold[i]).slice(0, options.negatives);
    for (const gold of order.filter((i) => sample.gold[i])) for (const other of negatives) pairs.push([row(gold), row(other)]);
  }
  for (let epoch = 0; epoch < options.epochs; epoch += 1) {
    const gradient = new Float64Array(width);
    for (const [gold, other] of pairs) {
      let margin = 0;
      for (let j = 0; j < width; j += 1) margin += w[j]! * (gold[j]! - other[j]!);
      const push = 1 / (1 + Math.exp(margin)); // −d/dmargin of log(1 + e^−margin)
      for (let j = 0; j < width; j += 1) gradient[j] = gradient[j]! + push * (gold[j]! - other[j]!);
    }
    for (let j = 0; j < width; j += 1)
      w[j] = w[j]! + options.learningRate * (gradient[j]! / Math.max(1, pairs.length) - options.l2 * w[j]!);
  }
  const lexical = w[FUSION_SIGNALS.indexOf('lexical')]!;
  const scale = lexical > 0 ? 1 / lexical : 1;
  return weightsOf(FUSION_SIGNALS.map((_, j) => w[j]! * scale));
}

/** Weights from values in FUSION_SIGNALS order. */
export function weightsOf(values: readonly number[]): SignalWeights {
  const weights = { ...DEFAULT_SEARCH.weights };
  FUSION_SIGNALS.forEach((signal, j) => (weights[signal] = values[j] ?? 0));
  return weights;
}
