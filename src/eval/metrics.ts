/** Retrieval metrics with the MTEB names, so that the numbers compare with published ones. */

export interface RankedJudgement {
  /** Whether each returned passage (best first) is gold. */
  gold: boolean[];
  /** How many gold passages exist for the question. */
  goldCount: number;
}

/** Fraction of the gold passages found in the top k (pytrec_eval / MTEB recall). */
export function recallAt(judgement: RankedJudgement, k: number): number {
  if (judgement.goldCount === 0) return 0;
  return judgement.gold.slice(0, k).filter(Boolean).length / judgement.goldCount;
}

/** 1 when any gold passage is in the top k (the "R@k" of most QA retrieval papers). */
export function successAt(judgement: RankedJudgement, k: number): number {
  return judgement.gold.slice(0, k).some(Boolean) ? 1 : 0;
}

export function reciprocalRankAt(judgement: RankedJudgement, k: number): number {
  const rank = judgement.gold.slice(0, k).indexOf(true);
  return rank === -1 ? 0 : 1 / (rank + 1);
}

/** nDCG with binary gains. */
export function ndcgAt(judgement: RankedJudgement, k: number): number {
  let dcg = 0;
  judgement.gold.slice(0, k).forEach((isGold, i) => {
    if (isGold) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, judgement.goldCount); i += 1) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface RetrievalMetrics {
  recall_at_1: number;
  recall_at_5: number;
  recall_at_10: number;
  success_at_1: number;
  success_at_5: number;
  success_at_10: number;
  mrr_at_10: number;
  ndcg_at_10: number;
}

export function retrievalMetrics(judgements: RankedJudgement[]): RetrievalMetrics {
  const avg = (metric: (judgement: RankedJudgement) => number) => mean(judgements.map(metric));
  return {
    recall_at_1: avg((j) => recallAt(j, 1)),
    recall_at_5: avg((j) => recallAt(j, 5)),
    recall_at_10: avg((j) => recallAt(j, 10)),
    success_at_1: avg((j) => successAt(j, 1)),
    success_at_5: avg((j) => successAt(j, 5)),
    success_at_10: avg((j) => successAt(j, 10)),
    mrr_at_10: avg((j) => reciprocalRankAt(j, 10)),
    ndcg_at_10: avg((j) => ndcgAt(j, 10)),
  };
}

/**
 * The abstention threshold that classifies best: answerable questions should score at or above it,
 * unanswerable ones below. Ties go to the midpoint of the widest gap.
 */
export function bestThreshold(samples: Array<{ confidence: number; answerable: boolean }>): { threshold: number; accuracy: number } {
  const values = [...new Set(samples.map((sample) => sample.confidence))].sort((a, b) => a - b);
  if (values.length === 0) return { threshold: 0, accuracy: 0 };
  // Each candidate cuts between two neighbouring confidences; `gap` is the room it has on either side.
  const candidates = [
    { threshold: Math.min(0, values[0]!), gap: 0 },
    ...values.map((value, i) => {
      const next = values[i + 1];
      return next === undefined ? { threshold: value + 1e-6, gap: 0 } : { threshold: (value + next) / 2, gap: next - value };
    }),
  ];
  let best = { threshold: 0, accuracy: -1, gap: -1 };
  for (const { threshold, gap } of candidates) {
    const correct = samples.filter((sample) => sample.confidence >= threshold === sample.answerable).length;
    const accuracy = correct / samples.length;
    if (accuracy > best.accuracy || (accuracy === best.accuracy && gap > best.gap)) best = { threshold, accuracy, gap };
  }
  return { threshold: best.threshold, accuracy: best.accuracy };
}
