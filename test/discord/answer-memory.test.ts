/** components.ts: the custom-id codec and the bounded memory of recent answers. */
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/discord/in-flight.js';
import { hashUser } from '../../src/eval/feedback.js';
import { manualClock } from './harness.js';
import { AnswerMemory, type AnswerState } from '../../src/discord/answer-memory.js';
import { customId, parseCustomId, type ComponentAction } from '../../src/discord/custom-id.js';
import { moreTitle, questionOfTitle, SOURCES_TITLE } from '../../src/discord/drafts.js';

const state = (question: string): AnswerState => ({
  question,
  pageSize: 3,
  shown: [],
  mode: 'hybrid',
  answered: true,
  top: null,
  votes: new Map(),
});

describe('custom ids', () => {
  it('round-trip and stay under 100 characters', () => {
    const actions: ComponentAction[] = [
      { kind: 'more', key: 'AbC-12_x' },
      { kind: 'vote', key: 'AbC-12_x', vote: 'up' },
      { kind: 'vote', key: 'AbC-12_x', vote: 'down' },
      { kind: 'context', label: 123456 },
      { kind: 'sources', page: -1 },
    ];
    for (const action of actions) {
      const id = customId(action);
      expect(id.length).toBeLessThanOrEqual(100);
      expect(parseCustomId(id)).toEqual(action);
    }
  });

  it('rejects ids that are not ours or are malformed', () => {
    for (const id of ['', 'helpful', 'cb', 'cb:more', 'cb:vote:key:sideways', 'cb:ctx:abc', 'cb:src:1e9', 'xx:more:key', 'cb:more:a b']) {
      expect(parseCustomId(id)).toBeNull();
    }
  });
});

describe('AnswerMemory', () => {
  it('forgets the least recently used answer beyond its capacity', () => {
    const memory = new AnswerMemory({ capacity: 2 });
    const a = memory.remember(state('a'));
    const b = memory.remember(state('b'));
    expect(memory.recall(a)?.question).toBe('a');
    const c = memory.remember(state('c'));
    expect(memory.recall(b)).toBeUndefined();
    expect(memory.recall(a)?.question).toBe('a');
    expect(memory.recall(c)?.question).toBe('c');
    expect(memory.size).toBe(2);
  });

  it('forgets answers older than its time to live', () => {
    const clock = manualClock();
    const memory = new AnswerMemory({ ttlMs: 1_000, clock: clock.now });
    const key = memory.remember(state('q'));
    clock.advance(1_000);
    expect(memory.recall(key)?.question).toBe('q');
    clock.advance(1_001);
    expect(memory.recall(key)).toBeUndefined();
  });

  it('uses short keys that fit a custom id', () => {
    const key = new AnswerMemory().remember(state('q'));
    expect(key).toMatch(/^[\w-]{8}$/);
  });
});

describe('hashUser', () => {
  it('is stable, short and not the id', () => {
    expect(hashUser('123456789012345678')).toBe(hashUser('123456789012345678'));
    expect(hashUser('123456789012345678')).toMatch(/^[0-9a-f]{16}$/);
    expect(hashUser('123456789012345678')).not.toBe(hashUser('123456789012345679'));
  });
});

describe('InFlight', () => {
  it('drains tracked work, and reports a timeout', async () => {
    const work = new InFlight();
    let finish: () => void = () => undefined;
    void work.track(new Promise<void>((resolve) => (finish = resolve)));
    void work.track(Promise.reject(new Error('handled elsewhere'))).catch(() => undefined);
    work.close();
    expect(work.accepting).toBe(false);
    expect(await work.drain(20)).toBe(false);
    finish();
    expect(await work.drain(1_000)).toBe(true);
    expect(work.size).toBe(0);
  });
});

describe('the latest answer per channel', () => {
  it('is the newest answer posted there, while it is recent and remembered', () => {
    const clock = manualClock();
    const memory = new AnswerMemory({ clock: clock.now, ttlMs: 60 * 60_000 });
    memory.remember({ ...state('first'), channelId: 'thread-1' });
    clock.advance(1_000);
    memory.remember({ ...state('second'), channelId: 'thread-1' });
    memory.remember({ ...state('elsewhere'), channelId: 'thread-2' });
    memory.remember(state('nowhere'));
    expect(memory.latestIn('thread-1', 60_000)?.question).toBe('second');
    expect(memory.latestIn('thread-2', 60_000)?.question).toBe('elsewhere');
    expect(memory.latestIn('thread-3', 60_000)).toBeUndefined();
    clock.advance(2 * 60_000);
    expect(memory.latestIn('thread-1', 60_000)).toBeUndefined();
    expect(memory.latestIn('thread-1', 10 * 60_000)?.question).toBe('second');
    clock.advance(60 * 60_000);
    expect(memory.latestIn('thread-1', Infinity)).toBeUndefined();
  });
});

describe('the question an answer title shows', () => {
  it('reads the question back from a title, More pages included, and none from a sources title', () => {
    expect(questionOfTitle('how many US troops are in Syria?')).toBe('how many US troops are in Syria?');
    expect(questionOfTitle(moreTitle('why \\*now\\*?'))).toBe('why *now*?');
    expect(questionOfTitle(SOURCES_TITLE)).toBeNull();
    expect(questionOfTitle('')).toBeNull();
    expect(questionOfTitle(undefined)).toBeNull();
  });
});
