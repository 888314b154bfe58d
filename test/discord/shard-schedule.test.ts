/** When shard processes may start: Discord's identify buckets, and a growing delay for a shard that keeps crashing. */
import { describe, expect, it } from 'vitest';
import { IdentifyQueue, RespawnBackoff } from '../../src/discord/shard-schedule.js';

describe('RespawnBackoff', () => {
  it('doubles the wait with each crash in a row, up to the cap', () => {
    const backoff = new RespawnBackoff({ minMs: 1_000, maxMs: 8_000, stableMs: 60_000 });
    let now = 0;
    const waits: number[] = [];
    for (let crash = 0; crash < 6; crash += 1) {
      backoff.started(now);
      now += 2_000; // dies two seconds after each start
      waits.push(backoff.died(now));
      now += waits.at(-1)!;
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it('starts over once the shard ran long enough before it died', () => {
    const backoff = new RespawnBackoff({ minMs: 1_000, maxMs: 60_000, stableMs: 60_000 });
    backoff.started(0);
    expect(backoff.died(10)).toBe(1_000);
    backoff.started(1_010);
    expect(backoff.died(1_020)).toBe(2_000);
    backoff.started(2_000);
    expect(backoff.died(2_000 + 60_000)).toBe(1_000);
  });
});

describe('IdentifyQueue', () => {
  /** A queue on a manual clock: sleeps resolve when the test moves time on. */
  function queueOn(maxConcurrency: number) {
    const sleepers: Array<{ until: number; resolve: () => void }> = [];
    let now = 0;
    const queue = new IdentifyQueue(maxConcurrency, 5_500, (ms) => new Promise((resolve) => sleepers.push({ until: now + ms, resolve })));
    const starts: Array<[number, number]> = [];
    const start = (id: number) => () => {
      starts.push([id, now]);
      return Promise.resolve();
    };
    const advance = async (ms: number) => {
      now += ms;
      for (const sleeper of sleepers.filter((candidate) => candidate.until <= now)) {
        sleepers.splice(sleepers.indexOf(sleeper), 1);
        sleeper.resolve();
      }
      for (let turn = 0; turn < 10; turn += 1) await Promise.resolve();
    };
    return { queue, starts, start, advance };
  }

  it('starts the shards of one bucket 5.5 s apart, and different buckets side by side', async () => {
    const { queue, starts, start, advance } = queueOn(2);
    for (const id of [0, 1, 2, 3]) void queue.run(id, start(id));
    await advance(0);
    expect(starts).toEqual([
      [0, 0],
      [1, 0],
    ]);
    await advance(5_000);
    expect(starts).toHaveLength(2);
    await advance(500);
    expect(starts.slice(2)).toEqual([
      [2, 5_500],
      [3, 5_500],
    ]);
  });

  it('waits for a start that takes longer than the interval, and survives a failing one', async () => {
    const { queue, starts, advance } = queueOn(1);
    let finishFirst: () => void = () => undefined;
    void queue.run(0, () => new Promise<void>((resolve) => (finishFirst = resolve)));
    void queue.run(1, () => Promise.reject(new Error('spawn failed')));
    void queue.run(2, () => {
      starts.push([2, -1]);
      return Promise.resolve();
    });
    await advance(20_000);
    expect(starts).toEqual([]);
    finishFirst();
    await advance(0);
    await advance(5_500);
    await advance(5_500);
    expect(starts).toEqual([[2, -1]]);
  });
});
