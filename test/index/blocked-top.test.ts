import { describe, expect, it } from 'vitest';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalDocument, type LexicalOptions } from '../../src/index/bm25.js';
import { blockedTop, type ScoredList } from '../../src/index/blocked-top.js';
import { seededRandom } from '../../bench/synthetic.js';

/**
 * Passages whose words are drawn with a Zipf-like skew (a few in most passages, most in a handful), with
 * labels spread over several blocks of 2^14; every 97th passage is a twin of the one before it.
 */
function skewedCorpus(count: number, seed: number): LexicalDocument[] {
  const random = seededRandom(seed);
  const word = () => `w${Math.floor(random() ** 3 * 3000)}`;
  const documents = Array.from({ length: count }, (_, i): LexicalDocument => {
    const text = Array.from({ length: 5 + Math.floor(random() * 30) }, word).join(' ');
    return { label: i * 7, text, title: i % 11 === 0 ? `${word()} ${word()}` : '', sentences: [{ start: 0, end: text.length }] };
  });
  return documents.map((document, i) => (i % 97 === 1 ? { ...documents[i - 1]!, label: document.label } : document));
}

const analyze = (text: string) => text.split(' ').filter(Boolean);
const options: LexicalOptions = { ...DEFAULT_LEXICAL_OPTIONS, analyze };

describe('lexical search block by block', () => {
  const documents = skewedCorpus(6000, 5);
  const random = seededRandom(77);
  const queries = Array.from({ length: 120 }, (_, i) => {
    const terms = Array.from({ length: 1 + (i % 9) }, () => `w${Math.floor(random() ** 2 * 3000)}`);
    if (i % 5 === 0) terms.push('w0', 'w1');
    const weights = i % 3 === 0 ? new Map(terms.map((term, j) => [term, j === 0 ? 1 : 0.3 + 0.7 * random()])) : undefined;
    return { terms, weights };
  });

  function expectSameAsWhole(index: LexicalIndex, labels: number[]): void {
    for (const { terms, weights } of queries) {
      const whole = index.search(terms, weights, 'whole');
      const blocked = index.search(terms, weights, 'blocked');
      for (const n of [1, 7, 50]) expect(blocked.top(n)).toEqual(whole.top(n));
      const accept = (label: number) => label % 3 !== 0;
      expect(blocked.top(20, accept)).toEqual(whole.top(20, accept));
      for (const label of labels) {
        expect(blocked.score(label)).toBe(whole.score(label));
        expect(blocked.matched(label)).toEqual(whole.matched(label));
      }
    }
  }

  it('gives the whole pass’s top passages, scores and matched terms, bit for bit, ties included', () => {
    const index = LexicalIndex.create(options);
    index.add(documents);
    const labels = [0, 7, 14, 672, 679, 686, 16_380, 16_387, 41_993, 42_000, 3, -1];
    expectSameAsWhole(index, labels);
    // Twins score the same and the lower label comes first.
    const twin = index.search(analyze(documents[97]!.text), undefined, 'blocked').top(2);
    expect(twin.map((hit) => hit.label)).toEqual([679, 686]);
    expect(twin[0]!.score).toBe(twin[1]!.score);
  });

  it('stays exact over a loaded index with removed passages and passages added since', () => {
    const built = LexicalIndex.create(options);
    built.add(documents.slice(0, 5000));
    const loaded = LexicalIndex.deserialize(built.serialize(), options);
    loaded.remove(documents.filter((_, i) => i % 7 === 2).map((document) => document.label));
    loaded.add(documents.slice(5000));
    expectSameAsWhole(loaded, [14, 63, 34_993, 35_000, 35_007, 41_993]);
  });

  it('scores whole where a list’s labels do not ascend', () => {
    const index = LexicalIndex.create(options);
    index.add(documents.slice(100, 300));
    index.add(documents.slice(0, 100));
    for (const { terms, weights } of queries.slice(0, 30)) {
      expect(index.search(terms, weights, 'blocked').top(10)).toEqual(index.search(terms, weights, 'whole').top(10));
      expect(index.search(terms, weights, 'blocked').score(35)).toBe(index.search(terms, weights, 'whole').score(35));
    }
  });
});

describe('blockedTop', () => {
  const bm25 = DEFAULT_LEXICAL_OPTIONS.bm25;
  const lengthOf = (label: number) => 5 + (label % 13);
  const lengths = Int32Array.from({ length: 100_000 }, (_, label) => lengthOf(label));

  /** A list over `labels` (counts 1–3) in three runs, the middle one empty. */
  function list(labels: number[], factor: number): ScoredList {
    const all = Int32Array.from(labels);
    const counts = Uint16Array.from(labels, (label) => 1 + (label % 3));
    const half = Math.floor(labels.length / 2);
    const runs = [
      { labels: all, counts, from: 0, to: half },
      { labels: all, counts, from: half, to: half },
      { labels: all, counts, from: half, to: labels.length },
    ];
    return { runs, factor, averageLength: 11, lengths };
  }

  function bruteForce(lists: ScoredList[], n: number, admit: (label: number) => boolean = () => true) {
    const { k, b, d } = bm25;
    const scores = new Map<number, number>();
    for (const one of lists)
      for (const run of one.runs)
        for (let i = run.from; i < run.to; i += 1) {
          const label = run.labels[i]!;
          const count = run.counts[i]!;
          const normalised = count / (count + k * (1 - b + (b * lengthOf(label)) / one.averageLength));
          scores.set(label, (scores.get(label) ?? 0) + one.factor * (d + (k + 1) * normalised));
        }
    return [...scores]
      .filter(([label]) => admit(label))
      .map(([label, score]) => ({ label, score }))
      .sort((a, b) => b.score - a.score || a.label - b.label)
      .slice(0, n);
  }

  it('returns what adding up every posting returns, across blocks and past gaps no list reaches', () => {
    const random = seededRandom(3);
    const everywhere = Array.from({ length: 30_000 }, (_, i) => i);
    const medium = everywhere.filter(() => random() < 0.2);
    const rare = [5, 16_383, 16_384, 70_000, 99_999];
    const lists = [list(everywhere, 0.1), list(rare, 5), list(medium, 1)];
    for (const n of [1, 10, 100]) expect(blockedTop(lists, n, bm25, () => true)).toEqual(bruteForce(lists, n));
  });

  it('lists a passage once when a contribution is 0, and stays clean after an `admit` that throws or searches again', () => {
    const lists = [list([1, 2, 3, 70_000], 1), list([2, 3, 5], 0), list([3, 4], -0.5)];
    expect(blockedTop(lists, 10, bm25, () => true)).toEqual(bruteForce(lists, 10));
    expect(() =>
      blockedTop(lists, 10, bm25, (label) => {
        if (label === 3) throw new Error('refused');
        return true;
      }),
    ).toThrow('refused');
    expect(blockedTop(lists, 10, bm25, () => true)).toEqual(bruteForce(lists, 10));
    const inner: Array<ReturnType<typeof blockedTop>> = [];
    const outer = blockedTop(lists, 10, bm25, (label) => {
      if (label === 2) inner.push(blockedTop([list([2, 9], 3)], 5, bm25, () => true));
      return true;
    });
    expect(outer).toEqual(bruteForce(lists, 10));
    expect(inner[0]).toEqual(bruteForce([list([2, 9], 3)], 5));
  });

  it('keeps out what `admit` refuses, maps slots to labels, and handles empty lists and n of 0', () => {
    const lists = [list([1, 2, 3, 4, 70, 20_000], 1), list([], 2), list([2, 4, 6, 199, 20_000], 2)];
    const notFour = (label: number) => label !== 4;
    expect(blockedTop(lists, 3, bm25, notFour)).toEqual(bruteForce(lists, 3, notFour));
    expect(blockedTop(lists, 0, bm25, () => true)).toEqual([]);
    expect(blockedTop([], 5, bm25, () => true)).toEqual([]);
    expect(
      blockedTop(
        lists,
        2,
        bm25,
        () => true,
        (slot) => slot + 1000,
      ).map((hit) => hit.label),
    ).toEqual(bruteForce(lists, 2).map((hit) => hit.label + 1000));
  });
});
