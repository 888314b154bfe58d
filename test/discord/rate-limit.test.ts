/** limits.ts: per-user cooldown and per-channel rate limit on an injected clock. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, RateLimiter, describeRefusal } from '../../src/discord/rate-limit.js';
import { manualClock } from './harness.js';

describe('RateLimiter', () => {
  it('lets a user ask once per 5 seconds by default', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, clock.now);
    expect(limiter.take('alice', 'general')).toEqual({ ok: true });
    expect(limiter.take('alice', 'general')).toEqual({ ok: false, scope: 'user', retryAfterMs: 5_000, firstRefusal: true });
    clock.advance(2_000);
    expect(limiter.take('alice', 'random')).toEqual({ ok: false, scope: 'user', retryAfterMs: 3_000, firstRefusal: false });
    // Other users are not held up by Alice.
    expect(limiter.take('bob', 'general')).toEqual({ ok: true });
    clock.advance(3_000);
    expect(limiter.take('alice', 'general')).toEqual({ ok: true });
  });

  it('tells a refused user once per wait, then again after the next refusal window', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ user: { limit: 1, windowMs: 1_000 }, channel: { limit: 100, windowMs: 1_000 } }, clock.now);
    limiter.take('alice', 'c');
    expect(limiter.take('alice', 'c')).toMatchObject({ ok: false, firstRefusal: true });
    expect(limiter.take('alice', 'c')).toMatchObject({ ok: false, firstRefusal: false });
    clock.advance(1_000);
    expect(limiter.take('alice', 'c')).toEqual({ ok: true });
    expect(limiter.take('alice', 'c')).toMatchObject({ ok: false, firstRefusal: true });
  });

  it('caps a channel at 10 questions per 30 seconds, sliding', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, clock.now);
    for (let user = 0; user < 10; user += 1) {
      expect(limiter.take(`user-${user}`, 'general').ok).toBe(true);
      clock.advance(1_000);
    }
    // 10 s after the first question; it leaves the window at 30 s.
    expect(limiter.take('user-10', 'general')).toEqual({ ok: false, scope: 'channel', retryAfterMs: 20_000, firstRefusal: true });
    expect(limiter.take('user-11', 'general')).toMatchObject({ ok: false, scope: 'channel', firstRefusal: false });
    expect(limiter.take('user-10', 'random')).toEqual({ ok: true });
    clock.advance(20_000);
    expect(limiter.take('user-10', 'general')).toEqual({ ok: true });
    expect(limiter.take('user-11', 'general').ok).toBe(false);
  });

  it('does not count a refused question against the channel', () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ user: { limit: 1, windowMs: 10_000 }, channel: { limit: 2, windowMs: 10_000 } }, clock.now);
    limiter.take('alice', 'c');
    limiter.take('alice', 'c');
    limiter.take('alice', 'c');
    expect(limiter.take('bob', 'c')).toEqual({ ok: true });
  });

  it('keeps memory bounded when many users come and go', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(DEFAULT_RATE_LIMITS, clock.now);
    for (let user = 0; user < 25_000; user += 1) {
      limiter.take(`user-${user}`, `channel-${user}`);
      clock.advance(100);
    }
    expect(limiter.size.users).toBeLessThanOrEqual(10_001 + 50);
    expect(limiter.size.channels).toBeLessThanOrEqual(10_001 + 300);
  });

  it('refuses nonsensical settings', () => {
    expect(() => new RateLimiter({ user: { limit: 0, windowMs: 1 }, channel: { limit: 1, windowMs: 1 } })).toThrow(/user/);
    expect(() => new RateLimiter({ user: { limit: 1, windowMs: 1 }, channel: { limit: 1, windowMs: 0 } })).toThrow(/channel/);
  });
});

describe('describeRefusal', () => {
  it('says who is limited and for how long, in whole seconds', () => {
    expect(describeRefusal({ ok: false, scope: 'user', retryAfterMs: 4_200, firstRefusal: true })).toBe(
      "You're asking faster than I can keep up with. Please wait 5 seconds before your next question.",
    );
    expect(describeRefusal({ ok: false, scope: 'channel', retryAfterMs: 300, firstRefusal: true })).toBe(
      'This channel is asking a lot of questions right now. Please try again in 1 second.',
    );
  });
});
