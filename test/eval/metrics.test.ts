import { describe, expect, it } from 'vitest';
import {
  bestThreshold,
  mean,
  ndcgAt,
  percentile,
  recallAt,
  reciprocalRankAt,
  retrievalMetrics,
  successAt,
  type RankedJudgement,
} from '../../src/eval/metrics.js';

const T = true;
const F = false;

describe('ranking metrics', () => {
  // Three gold passages exist; the ranking finds two of them, at ranks 2 and 4.
  const twoOfThree: RankedJudgement = { gold: [F, T, F, T, F], goldCount: 3 };

  it('recall@k is the share of all gold passages found in the top k', () => {
    expect(recallAt(twoOfThree, 1)).toBe(0);
    expect(recallAt(twoOfThree, 2)).toBeCloseTo(1 / 3, 12);
    expect(recallAt(twoOfThree, 4)).toBeCloseTo(2 / 3, 12);
    expect(recallAt(twoOfThree, 10)).toBeCloseTo(2 / 3, 12);
    expect(recallAt({ gold: [T, T], goldCount: 2 }, 2)).toBe(1);
    expect(recallAt({ gold: [F, F], goldCount: 0 }, 10)).toBe(0);
  });

  it('success@k is 1 as soon as any gold passage is in the top k', () => {
    expect(successAt(twoOfThree, 1)).toBe(0);
    expect(successAt(twoOfThree, 2)).toBe(1);
    expect(successAt({ gold: [], goldCount: 1 }, 10)).toBe(0);
  });

  it('the reciprocal rank is 1/rank of the first gold passage within k', () => {
    expect(reciprocalRankAt(twoOfThree, 10)).toBe(0.5);
    expect(reciprocalRankAt(twoOfThree, 1)).toBe(0);
    expect(reciprocalRankAt({ gold: [T, T], goldCount: 2 }, 10)).toBe(1);
    expect(reciprocalRankAt({ gold: [F, F, F, F, F, F, F, F, F, T], goldCount: 1 }, 10)).toBeCloseTo(0.1, 12);
    expect(reciprocalRankAt({ gold: [F, F, F, F, F, F, F, F, F, F, T], goldCount: 1 }, 10)).toBe(0);
  });

  it('nDCG@k uses binary gains and log2 discounts against the ideal ranking', () => {
    expect(ndcgAt({ gold: [T, F, F], goldCount: 1 }, 10)).toBe(1);
    expect(ndcgAt({ gold: [F, T], goldCount: 1 }, 10)).toBeCloseTo(1 / Math.log2(3), 12);
    // Gold at ranks 3 and 4 of 2 gold: (1/log2(4) + 1/log2(5)) / (1 + 1/log2(3)).
    expect(ndcgAt({ gold: [F, F, T, T], goldCount: 2 }, 10)).toBeCloseTo((0.5 + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)), 12);
    // Gold beyond k does not count, and the ideal is cut at k too.
    expect(ndcgAt({ gold: [F, T], goldCount: 5 }, 1)).toBe(0);
    expect(ndcgAt({ gold: [T], goldCount: 5 }, 1)).toBe(1);
    expect(ndcgAt({ gold: [F, F], goldCount: 0 }, 10)).toBe(0);
  });

  it('retrievalMetrics averages every metric over the questions', () => {
    const metrics = retrievalMetrics([
      { gold: [T], goldCount: 1 },
      { gold: [F, F, F, F, F, T], goldCount: 2 },
    ]);
    expect(metrics.success_at_1).toBe(0.5);
    expect(metrics.success_at_5).toBe(0.5);
    expect(metrics.success_at_10).toBe(1);
    expect(metrics.recall_at_10).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(metrics.mrr_at_10).toBeCloseTo((1 + 1 / 6) / 2, 12);
    expect(metrics.ndcg_at_10).toBeCloseTo((1 + 1 / Math.log2(7) / (1 + 1 / Math.log2(3))) / 2, 12);
    expect(retrievalMetrics([]).mrr_at_10).toBe(0);
  });

  it('mean of nothing is 0', () => {
    expect(mean([])).toBe(0);
    expect(mean([1, 2, 6])).toBe(3);
  });
});

describe('percentile (nearest rank)', () => {
  const values = [50, 15, 40, 20, 35];

  it.each([
    [0, 15],
    [5, 15],
    [30, 20],
    [40, 20],
    [50, 35],
    [95, 50],
    [100, 50],
  ])('p%i of 15, 20, 35, 40, 50 is %i', (p, want) => {
    expect(percentile(values, p)).toBe(want);
  });

  it('does not reorder its input, and is 0 for no values', () => {
    percentile(values, 50);
    expect(values).toEqual([50, 15, 40, 20, 35]);
    expect(percentile([], 95)).toBe(0);
    expect(percentile([7], 99)).toBe(7);
  });
});

describe('bestThreshold', () => {
  it('finds a threshold between the answerable and the unanswerable confidences', () => {
    const best = bestThreshold([
      { confidence: 0.9, answerable: true },
      { confidence: 0.8, answerable: true },
      { confidence: 0.3, answerable: false },
      { confidence: 0.2, answerable: false },
    ]);
    expect(best.accuracy).toBe(1);
    expect(best.threshold).toBeGreaterThan(0.3);
    expect(best.threshold).toBeLessThanOrEqual(0.8);
    expect(best.threshold).toBeCloseTo(0.55, 12);
  });

  it('classifies with "confidence >= threshold means answer"', () => {
    const samples = [
      { confidence: 0.5, answerable: true },
      { confidence: 0.1, answerable: false },
      { confidence: 0.7, answerable: true },
    ];
    const { threshold, accuracy } = bestThreshold(samples);
    expect(accuracy).toBe(1);
    for (const sample of samples) expect(sample.confidence >= threshold).toBe(sample.answerable);
  });

  it('reports the best achievable accuracy when the classes overlap', () => {
    const best = bestThreshold([
      { confidence: 0.9, answerable: true },
      { confidence: 0.6, answerable: false },
      { confidence: 0.5, answerable: true },
      { confidence: 0.1, answerable: false },
    ]);
    expect(best.accuracy).toBe(0.75);
  });

  it('answers everything (threshold 0) when every question is answerable', () => {
    expect(
      bestThreshold([
        { confidence: 0.2, answerable: true },
        { confidence: 0.4, answerable: true },
      ]),
    ).toEqual({ threshold: 0, accuracy: 1 });
  });

  it('abstains on everything when no question is answerable', () => {
    const best = bestThreshold([
      { confidence: 0.2, answerable: false },
      { confidence: 0.4, answerable: false },
    ]);
    expect(best.accuracy).toBe(1);
    expect(best.threshold).toBeGreaterThan(0.4);
  });

  it('gives threshold 0 and accuracy 0 for no samples', () => {
    expect(bestThreshold([])).toEqual({ threshold: 0, accuracy: 0 });
  });
});
