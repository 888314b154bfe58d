import { describe, expect, it } from 'vitest';
import { EmbedSchedule, MAX_CHUNKS_AHEAD } from '../../src/embedding/schedule.js';
import type { EmbedKind, Embedder } from '../../src/embedding/embedder.js';

/** Texts are numbers; a text's vector is [that number, the thread that embedded it (0 here, 1 worker)]. */
function threads(workerDelayMs: number, failOn?: string) {
  const taken: Array<['here' | 'worker', string]> = [];
  const vectorsOf = (texts: string[], thread: number) => texts.map((text) => Float32Array.of(Number(text), thread));
  const embedder: Embedder = {
    fingerprint: { model: 'test', dimension: 2, pooling: 'mean', dtype: 'fp32', queryPrefix: '', passagePrefix: '' },
    async embed(texts: string[], _kind: EmbedKind) {
      taken.push(['here', texts[0]!]);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return vectorsOf(texts, 0);
    },
    async embedElsewhere(texts: string[]) {
      taken.push(['worker', texts[0]!]);
      await new Promise((resolve) => setTimeout(resolve, workerDelayMs));
      if (texts.includes(failOn ?? '')) throw new Error(`the worker failed on ${failOn}`);
      return vectorsOf(texts, 1);
    },
  };
  return { embedder, taken };
}

const chunk = (from: number, count = 3) => Array.from({ length: count }, (_, i) => String(from + i));

/** Consumes the schedule the way a build does: chunk by chunk, embedding here rather than waiting. */
async function drain(schedule: EmbedSchedule): Promise<Float32Array[][]> {
  const results: Float32Array[][] = [];
  for (let i = 0; i < schedule.chunkCount; i += 1) {
    while (!schedule.isReady(i)) if ((await schedule.embedOneHere()) === undefined) break;
    results.push(await schedule.vectorsOf(i));
  }
  return results;
}

describe('EmbedSchedule', () => {
  it('without a worker, embeds every chunk here, in order, once', async () => {
    const { embedder, taken } = threads(0);
    const progress: Array<[number, number]> = [];
    const schedule = EmbedSchedule.for(embedder, false, (done, total) => progress.push([done, total]));
    for (const from of [0, 3, 6]) schedule.push(chunk(from));
    schedule.close();
    const results = await drain(schedule);
    expect(results.flat().map((vector) => vector[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(taken).toEqual([
      ['here', '0'],
      ['here', '3'],
      ['here', '6'],
    ]);
    expect(progress.at(-1)).toEqual([9, 9]);
  });

  it('shares chunks: the worker takes them from the front, this thread from the back, each exactly once', async () => {
    const { embedder, taken } = threads(15);
    const schedule = EmbedSchedule.for(embedder, true);
    for (let from = 0; from < 30; from += 3) schedule.push(chunk(from));
    schedule.close();
    const results = await drain(schedule);
    // Vectors come back in the order of the texts, whoever embedded them.
    expect(results.flat().map((vector) => vector[0])).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const byWorker = taken.filter(([thread]) => thread === 'worker').map(([, first]) => Number(first));
    const byHere = taken.filter(([thread]) => thread === 'here').map(([, first]) => Number(first));
    expect([...byWorker, ...byHere].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => i * 3));
    expect(byWorker[0]).toBe(0);
    expect(byHere[0]).toBe(27);
    // A slow worker leaves most chunks to this thread; both did some.
    expect(byWorker.length).toBeGreaterThan(0);
    expect(byHere.length).toBeGreaterThan(byWorker.length);
    expect(Math.max(...byWorker)).toBeLessThan(Math.min(...byHere));
  });

  it('starts the worker on chunks pushed before the rest exist', async () => {
    const { embedder, taken } = threads(1);
    const schedule = EmbedSchedule.for(embedder, true);
    schedule.push(chunk(0));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(taken).toEqual([['worker', '0']]);
    expect(schedule.isReady(0)).toBe(true);
    schedule.push(chunk(3));
    schedule.close();
    expect((await drain(schedule)).flat().map((vector) => vector[0])).toEqual([0, 1, 2, 3, 4, 5]);
    expect(() => schedule.push(chunk(6))).toThrow(/closed/);
  });

  it('a worker failure rejects its chunk, and the build sees it', async () => {
    const { embedder } = threads(1, '0');
    const schedule = EmbedSchedule.for(embedder, true);
    for (const from of [0, 3]) schedule.push(chunk(from));
    schedule.close();
    await expect(drain(schedule)).rejects.toThrow('the worker failed on 0');
  });
});

describe('EmbedSchedule release', () => {
  it("forgets a chunk's vectors once released, and says so if they are asked for again", async () => {
    const { embedder } = threads(0);
    const schedule = EmbedSchedule.for(embedder, false);
    schedule.push(chunk(0));
    schedule.push(chunk(3));
    schedule.close();
    const results = await drain(schedule);
    schedule.release(0);
    expect(() => schedule.vectorsOf(0)).toThrow(/chunk 0 of the embedding schedule was released/);
    expect((await schedule.vectorsOf(1)).map((vector) => vector[0])).toEqual([3, 4, 5]);
    expect(results[0]!.map((vector) => vector[0])).toEqual([0, 1, 2]);
  });

  it('lets the worker run at most MAX_CHUNKS_AHEAD chunks ahead of those released, then goes on as they are', async () => {
    const { embedder, taken } = threads(0);
    const schedule = EmbedSchedule.for(embedder, true);
    const total = MAX_CHUNKS_AHEAD * 2 + 5;
    for (let i = 0; i < total; i += 1) schedule.push(chunk(i * 3));
    schedule.close();
    // Nothing released yet: the worker reaches the bound (each of its chunks takes a timer turn), then waits.
    const byWorker = () => taken.filter(([thread]) => thread === 'worker').length;
    const deadline = Date.now() + 10_000;
    while (byWorker() < MAX_CHUNKS_AHEAD && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(byWorker()).toBe(MAX_CHUNKS_AHEAD);
    // Used and released in order, as a build inserts them: every chunk arrives, in order.
    const vectors: number[] = [];
    for (let i = 0; i < total; i += 1) {
      while (!schedule.isReady(i)) if ((await schedule.embedOneHere()) === undefined) break;
      vectors.push(...(await schedule.vectorsOf(i)).map((vector) => vector[0]!));
      schedule.release(i);
    }
    expect(vectors).toEqual(Array.from({ length: total * 3 }, (_, i) => i));
    expect(byWorker()).toBeGreaterThan(MAX_CHUNKS_AHEAD);
  });
});
