import { describe, expect, it } from 'vitest';
import { ensureLength, LabelRuns, PostingLists } from '../../src/index/postings.js';

/** A deterministic stream of numbers in [0, 1). */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** Every posting of `term`, in the order the runs give them. */
function postingsOf(lists: PostingLists, term: number): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  lists.forEachRun(term, (labels, counts, from, to) => {
    for (let i = from; i < to; i += 1) found.push([labels[i]!, counts[i]!]);
  });
  return found;
}

describe('ensureLength', () => {
  it('returns the array itself when it is long enough, else a copy twice as long with the values kept', () => {
    const array = Int32Array.of(1, 2, 3);
    expect(ensureLength(array, 3)).toBe(array);
    const grown = ensureLength(array, 4);
    expect(grown).toBeInstanceOf(Int32Array);
    expect(grown.length).toBe(16);
    expect([...grown.subarray(0, 5)]).toEqual([1, 2, 3, 0, 0]);
    expect(ensureLength(new Uint8Array(40), 41).length).toBe(80);
    expect(ensureLength(new Uint16Array(40), 100).length).toBe(100);
  });
});

describe('PostingLists', () => {
  it('gives back every posting of every term in the order added, across slices and pages', () => {
    // 256 entries a page: the largest slice fills one, so both slice and page boundaries are crossed often.
    const lists = new PostingLists(undefined, 8);
    const expected = new Map<number, Array<[number, number]>>();
    const next = random(7);
    for (let label = 0; label < 3000; label += 1) {
      // Term 0 is in every passage, term 1 in every other, the rest rarer (a long-tailed vocabulary).
      const terms = new Set([0, label % 2 === 0 ? 1 : 2, Math.floor(next() * next() * 400)]);
      for (const term of terms) {
        const count = 1 + (Math.floor(next() * 70_000) % 65_535);
        lists.add(term, label, count);
        expected.set(term, expected.get(term) ?? []);
        expected.get(term)!.push([label, count]);
      }
    }
    for (let term = 0; term < 420; term += 1) {
      expect(postingsOf(lists, term)).toEqual(expected.get(term) ?? []);
      expect(lists.size(term)).toBe(expected.get(term)?.length ?? 0);
    }
    expect(lists.size(10_000)).toBe(0);
  });

  it('puts postings added after loading after the loaded ones', () => {
    const base = { offsets: Int32Array.of(0, 2, 2, 3), labels: Int32Array.of(0, 4, 1), counts: Uint16Array.of(1, 2, 3) };
    const lists = new PostingLists(base, 8);
    lists.add(0, 7, 9);
    lists.add(1, 7, 1);
    lists.add(5, 8, 2);
    expect(postingsOf(lists, 0)).toEqual([
      [0, 1],
      [4, 2],
      [7, 9],
    ]);
    expect(postingsOf(lists, 1)).toEqual([[7, 1]]);
    expect(postingsOf(lists, 2)).toEqual([[1, 3]]);
    expect(postingsOf(lists, 5)).toEqual([[8, 2]]);
    expect(lists.size(0)).toBe(3);
    // The loaded arrays are read, never written.
    expect([...base.labels]).toEqual([0, 4, 1]);
  });

  it('refuses pages too small for the largest slice', () => {
    expect(() => new PostingLists(undefined, 7)).toThrow(/cannot hold a slice/);
  });
});

describe('LabelRuns', () => {
  it('keeps one run per label across pages, a run longer than a page included', () => {
    // 16 entries a page.
    const runs = new LabelRuns(undefined, 4);
    const expected = new Map<number, number[]>();
    const next = random(3);
    for (let label = 0; label < 500; label += 3) {
      const run = Array.from({ length: label === 99 ? 40 : Math.floor(next() * 12) }, () => Math.floor(next() * 1e6));
      runs.set(label, run);
      expected.set(label, run);
    }
    for (let label = 0; label < 510; label += 1) {
      const run = runs.get(label);
      expect(run && [...run]).toEqual(expected.get(label));
      expect(runs.lengthOf(label)).toBe(expected.get(label)?.length ?? 0);
    }
  });

  it('reads loaded runs in place, and replaces or forgets a run without touching the others', () => {
    const base = { offsets: Int32Array.of(0, 2, 2, 5), values: Int32Array.of(10, 11, 20, 21, 22) };
    const runs = new LabelRuns(base, 4);
    expect([...runs.get(0)!]).toEqual([10, 11]);
    expect(runs.get(1)).toBeUndefined();
    expect([...runs.get(2)!]).toEqual([20, 21, 22]);
    runs.set(1, [5]);
    runs.set(2, [7, 8]);
    runs.set(9, [1, 2, 3]);
    runs.delete(0);
    runs.delete(50);
    expect(runs.get(0)).toBeUndefined();
    expect(runs.lengthOf(0)).toBe(0);
    expect([...runs.get(1)!]).toEqual([5]);
    expect([...runs.get(2)!]).toEqual([7, 8]);
    expect([...runs.get(9)!]).toEqual([1, 2, 3]);
    expect([...base.values]).toEqual([10, 11, 20, 21, 22]);
  });
});
