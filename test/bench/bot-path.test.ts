/** The bot-path benchmark drives the real bot through the fake Discord and reports latencies. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBotPath } from '../../bench/bot-path.js';
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
      questions: [
        'how many US troops are in Syria?',
        'what did Lavrov say about US troops?',
        'what is the best recipe for chocolate cake?',
      ],
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
