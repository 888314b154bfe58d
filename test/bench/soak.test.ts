/**
 * The soak benchmark's machinery at a tiny size: the real bot through the fake Discord, a gateway drop and
 * injected REST failures, and every question accounted for. No timing is asserted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyResponse, formatSoak, runSoak, seedQuestions, SOAK_KINDS, soakExitCode, vary } from '../../bench/soak.js';
import { seededRandom } from '../../bench/synthetic.js';
import { describeRefusal } from '../../src/discord/rate-limit.js';
import { loadTestLibrary, type TestLibrary } from '../discord/harness.js';

let library: TestLibrary;

beforeAll(async () => {
  library = await loadTestLibrary();
});

afterAll(async () => {
  await library?.dispose();
});

describe('runSoak', () => {
  it('accounts for every question through a drop and injected 429s and 500s, with the default rate limits', async () => {
    const lines: string[] = [];
    const result = await runSoak({
      library: { index: library.index, embedder: library.embedder },
      questions: await seedQuestions(),
      count: 40,
      users: 3,
      channels: 2,
      concurrency: 3,
      thinkMs: 20,
      limits: 'default',
      drops: 1,
      failures: 4,
      deadlineMs: 15_000,
      refusalGraceMs: 1_000,
      seed: 7,
      log: (line) => lines.push(line),
    });

    expect(result.lost).toBe(0);
    expect(result.failed).toBe(0);
    expect(result.sent).toBe(40);
    expect(result.answered + result.refused.total + result.failed + result.lost).toBe(result.sent);
    expect(result.refused.told + result.refused.silent).toBe(result.refused.total);
    expect(result.refused.user + result.refused.channel).toBe(result.refused.total);
    const kinds = SOAK_KINDS.map((kind) => result.byKind[kind]);
    expect(kinds.reduce((sum, counts) => sum + counts.sent, 0)).toBe(result.sent);
    expect(kinds.reduce((sum, counts) => sum + counts.answered, 0)).toBe(result.answered);
    expect(kinds.reduce((sum, counts) => sum + counts.refused, 0)).toBe(result.refused.total);
    for (const counts of kinds) expect(counts.answered + counts.refused + counts.failed + counts.lost).toBe(counts.sent);

    // Three users asking every few tens of milliseconds against one question per 5 s: most are refused.
    expect(result.answered).toBeGreaterThanOrEqual(3);
    expect(result.refused.total).toBeGreaterThan(0);
    expect(result.latencyMs.answered.count).toBe(result.answered);
    expect(result.latencyMs.refused.count).toBe(result.refused.told);
    expect(result.modes).toEqual({ hybrid: expect.any(Number) });

    expect(result.gateway.disruptions).toHaveLength(1);
    expect(result.gateway.disruptions[0]!.reconnectMs).not.toBeNull();
    expect(result.gateway.resumes).toBe(1);
    expect(result.gateway.invalidSessions).toBe(0);
    expect(result.rest.injected.planned).toBe(4);
    expect(result.rest.injected.served429 + result.rest.injected.served5xx).toBeGreaterThan(0);
    expect(result.rest.otherErrors).toEqual([]);

    expect(result.bot.errors).toBe(0);
    expect(result.unmatched).toEqual({ responses: 0, refusalLogs: 0, examples: [] });
    expect(result.specViolations).toEqual([]);
    expect(result.memory.samples).toHaveLength(10);
    expect(soakExitCode(result)).toBe(0);
    expect(lines.at(-1)).toMatch(/all 40 questions settled/);

    const summary = formatSoak(result);
    expect(summary).toContain('sent 40');
    expect(summary).toContain('lost 0');
  });
});

describe('classifyResponse', () => {
  it('tells the rate limiter’s refusals and the apology from answers', () => {
    const refusal = (scope: 'user' | 'channel') => describeRefusal({ ok: false, scope, retryAfterMs: 12_000, firstRefusal: true });
    expect(classifyResponse({ content: refusal('user') })).toEqual({ type: 'refused', scope: 'user' });
    expect(classifyResponse({ content: refusal('channel') })).toEqual({ type: 'refused', scope: 'channel' });
    expect(classifyResponse({ content: 'Sorry, something went wrong. The error has been logged; please try again in a moment.' })).toEqual({
      type: 'failed',
    });
    expect(classifyResponse({ embeds: [{ title: 'how many us troops are in syria?', description: '> **2,000** troops' }] })).toEqual({
      type: 'answered',
    });
  });
});

describe('vary', () => {
  it('keeps the question and varies how it is typed', () => {
    const random = seededRandom(3);
    const variants = Array.from({ length: 50 }, () => vary('how many US troops are in Syria', random));
    expect(variants.every((variant) => variant.toLowerCase().includes('how many us troops are in syria'))).toBe(true);
    expect(new Set(variants).size).toBeGreaterThan(5);
  });
});
