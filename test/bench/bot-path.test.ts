/** The bot-path benchmark drives the real bot through the fake Discord and reports latencies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBotPath, nearestRank } from '../../bench/bot-path.js';
import { loadTestLibrary, type TestLibrary } from '../discord/harness.js';

let library: TestLibrary;

beforeAll(async () => {
  library = await loadTestLibrary();
});

afterAll(async () => {
  await library?.dispose();
});

describe('measureBotPath', () => {
  it('times questions end to end through the real bot', async () => {
    const lines: string[] = [];
    const result = await measureBotPath({
      index: library.index,
      embedder: library.embedder,
      questions: ['how many US troops are in Syria?', 'what did Lavrov say about US troops?', 'what is the best recipe for chocolate cake?'],
      count: 5,
      warmup: 1,
      log: (line) => lines.push(line),
    });
    expect(result.count).toBe(5);
    expect(result.failures).toBe(0);
    expect(result.p50).toBeGreaterThan(0);
    expect(result.p50).toBeLessThanOrEqual(result.p95);
    expect(result.p95).toBeLessThanOrEqual(result.p99);
    expect(Number.isFinite(result.mean)).toBe(true);
    expect(lines.some((line) => line.includes('5/5'))).toBe(true);
  });
});

describe('nearestRank', () => {
  it('picks the smallest value with at least p % of the values at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(nearestRank(values, 50)).toBe(50);
    expect(nearestRank(values, 95)).toBe(95);
    expect(nearestRank(values, 99)).toBe(99);
    expect(nearestRank([3, 7, 9], 50)).toBe(7);
    expect(nearestRank([3], 99)).toBe(3);
    expect(nearestRank([], 50)).toBeNaN();
  });
});
