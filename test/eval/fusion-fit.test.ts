import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GRID,
  fitFusion,
  fitPairwise,
  FUSION_SIGNALS,
  goldRank,
  rankMetrics,
  type RankingSample,
  type SignalWeights,
  weightsOf,
} from '../../src/eval/fusion-fit.js';

/** A question's candidates from rows of [lexical, dense, sentence, soft] (the other signals 0); `gold` marks the right one. */
function sample(id: string, rows: number[][], gold: number): RankingSample {
  const order = ['lexical', 'dense', 'sentence', 'soft'] as const;
  const signals = rows.flatMap((row) => FUSION_SIGNALS.map((signal) => row[order.indexOf(signal as (typeof order)[number])] ?? 0));
  return { id, signals: Float64Array.from(signals), gold: rows.map((_, i) => i === gold) };
}

const NONE = weightsOf(FUSION_SIGNALS.map(() => 0));
const LEXICAL_ONLY: SignalWeights = { ...NONE, lexical: 1 };

describe('fusion fitting', () => {
  it('ranks candidates by the weighted signals, ties to the earlier one', () => {
    const one = sample(
      'q',
      [
        [0.9, 0.1, 0, 0],
        [0.5, 0.9, 0, 0],
        [0.5, 0.9, 0, 0],
      ],
      1,
    );
    expect(goldRank(one, LEXICAL_ONLY)).toBe(2);
    expect(goldRank(one, { ...LEXICAL_ONLY, dense: 1 })).toBe(1);
    expect(goldRank(sample('none', [[1, 0, 0, 0]], -1), LEXICAL_ONLY)).toBe(0);
  });

  it('computes success and MRR over questions, a question without gold counting as a miss', () => {
    const samples = [
      sample(
        'a',
        [
          [1, 0, 0, 0],
          [0, 0, 0, 0],
        ],
        0,
      ),
      sample(
        'b',
        [
          [1, 0, 0, 0],
          [0, 0, 0, 0],
        ],
        1,
      ),
      sample('c', [[1, 0, 0, 0]], -1),
    ];
    const metrics = rankMetrics(samples, LEXICAL_ONLY);
    expect(metrics.questions).toBe(3);
    expect(metrics.success_at_1).toBeCloseTo(1 / 3);
    expect(metrics.success_at_5).toBeCloseTo(2 / 3);
    expect(metrics.mrr_at_10).toBeCloseTo((1 + 0.5) / 3);
  });

  it('raises the weight of the signal that tells gold apart, and keeps the fixed one', () => {
    // In every question the gold candidate has the weaker lexical score but the stronger dense one.
    const samples = Array.from({ length: 20 }, (_, i) =>
      sample(
        `q${i}`,
        [
          [0.9, 0.2 + i / 100, 0.5, 0],
          [0.7, 0.8, 0.5, 0],
          [0.4, 0.1, 0.5, 0],
        ],
        1,
      ),
    );
    expect(rankMetrics(samples, LEXICAL_ONLY).success_at_1).toBe(0);
    const { weights, metrics } = fitFusion(samples, { start: LEXICAL_ONLY, grid: DEFAULT_GRID, fixed: ['lexical'] });
    expect(weights.lexical).toBe(1);
    expect(weights.dense).toBeGreaterThan(0.3);
    expect(metrics.success_at_1).toBe(1);
  });

  it('keeps the weights in use when no step improves MRR', () => {
    const samples = [
      sample(
        'a',
        [
          [1, 0, 0, 0],
          [0.5, 0, 0, 0],
        ],
        0,
      ),
    ];
    const start: SignalWeights = { ...NONE, lexical: 1, dense: 0.4, sentence: 1 };
    expect(fitFusion(samples, { start, grid: DEFAULT_GRID, fixed: ['lexical'] }).weights).toEqual(start);
  });
});

describe('pairwise fitting', () => {
  it('learns to rank the gold candidate first when one signal tells it apart, lexical weight scaled to 1', () => {
    const samples = Array.from({ length: 30 }, (_, i) =>
      sample(
        `q${i}`,
        [
          [0.9, 0.1 + (i % 5) / 50, 0.3, 0],
          [0.6, 0.9, 0.3, 0],
          [0.2, 0.5, 0.3, 0],
        ],
        1,
      ),
    );
    const weights = fitPairwise(samples, { start: LEXICAL_ONLY, l2: 0.01, epochs: 200, learningRate: 1, negatives: 2 });
    expect(weights.lexical).toBe(1);
    expect(weights.dense).toBeGreaterThan(0.4);
    expect(rankMetrics(samples, weights).success_at_1).toBe(1);
  });

  it('keeps the weights where they start when there is nothing to learn from', () => {
    const start: SignalWeights = { ...NONE, lexical: 1, dense: 0.4 };
    expect(fitPairwise([], { start, l2: 0, epochs: 10, learningRate: 1, negatives: 5 })).toEqual(start);
  });
});
