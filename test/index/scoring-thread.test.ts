import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalDocument, type LexicalOptions } from '../../src/index/bm25.js';
import { blockedTop, splitTop, type BlockHelper, type ScoredList } from '../../src/index/blocked-top.js';
import { ScoringThread } from '../../src/index/scoring-thread.js';
import { seededRandom } from '../../bench/synthetic.js';

/** Passages of Zipf-skewed words over several blocks of 2^14 labels; every 50th the twin of the one before. */
function skewedCorpus(count: number, seed: number): LexicalDocument[] {
  const random = seededRandom(seed);
  const word = () => `w${Math.floor(random() ** 3 * 2000)}`;
  const documents = Array.from({ length: count }, (_, i): LexicalDocument => {
    const text = Array.from({ length: 5 + Math.floor(random() * 25) }, word).join(' ');
    return { label: i * 5, text, title: i % 7 === 0 ? word() : '', sentences: [{ start: 0, end: text.length }] };
  });
  return documents.map((document, i) => (i % 50 === 1 ? { ...documents[i - 1]!, label: document.label } : document));
}

const analyze = (text: string) => text.split(' ').filter(Boolean);
const options: LexicalOptions = { ...DEFAULT_LEXICAL_OPTIONS, analyze };
const documents = skewedCorpus(12_000, 3);
const random = seededRandom(41);
const queries = Array.from({ length: 60 }, (_, i) => {
  const terms = Array.from({ length: 1 + (i % 7) }, () => `w${Math.floor(random() ** 2 * 2000)}`);
  if (i % 4 === 0) terms.push('w0', 'w1');
  return terms;
});

/** The index as `npm start` loads it: its file's bytes in shared memory. */
function loadedShared(index: LexicalIndex): LexicalIndex {
  const bytes = index.serialize();
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return LexicalIndex.deserialize(shared, options);
}

/** A helper that does the job in this thread, counting the jobs it took. */
function inlineHelper(fails = false): BlockHelper & { jobs: number } {
  return {
    minPostings: 0,
    ownShareWithWork: 0.3,
    jobs: 0,
    begin(lists, n, constants, alive) {
      this.jobs += 1;
      const top = blockedTop(lists, n, constants, (slot) => alive[slot] === 1);
      return () => (fails ? undefined : top);
    },
  };
}

/** Lists over `labels` passages: ascending labels, some passages in several lists, some in none. */
function randomLists(seed: number, labels: number, listCount: number): ScoredList[] {
  const pick = seededRandom(seed);
  const lengths = Int32Array.from({ length: labels }, () => 1 + Math.floor(pick() * 40));
  return Array.from({ length: listCount }, () => {
    const share = pick() * 0.5;
    const held = Array.from({ length: labels }, (_, label) => label).filter(() => pick() < share);
    const counts = Uint16Array.from(held, () => 1 + Math.floor(pick() * 3));
    // Two runs, as postings added after a load are kept.
    const cut = Math.floor(held.length / 3);
    const labelsOf = Int32Array.from(held);
    return {
      runs: [
        { labels: labelsOf, counts, from: 0, to: cut },
        { labels: labelsOf, counts, from: cut, to: held.length },
      ],
      factor: 0.5 + pick() * 3,
      averageLength: 20,
      lengths,
    };
  });
}

describe('splitTop: half of the labels scored elsewhere', () => {
  const bm25 = DEFAULT_LEXICAL_OPTIONS.bm25;
  const alive = new Uint8Array(70_000).fill(1).map((_, slot) => (slot % 17 === 0 ? 0 : 1));
  const admit = (slot: number) => alive[slot] === 1;

  it('gives blockedTop’s passages and scores, bit for bit, ties by the lower label included', () => {
    const helper = inlineHelper();
    for (let seed = 1; seed <= 12; seed += 1) {
      // Few distinct lengths and counts: many passages tie.
      const lists = randomLists(seed, seed % 2 ? 70_000 : 900, 1 + (seed % 5));
      for (const n of [1, 10, 50, 400]) {
        const labelOf = (slot: number) => slot * 3 + 1;
        const expected = blockedTop(lists, n, bm25, admit, labelOf);
        expect(splitTop(lists, n, bm25, alive, helper, admit, labelOf)).toEqual(expected);
        // With other work meanwhile the cut moves (30 % of the postings stay here): the same result.
        let calls = 0;
        expect(splitTop(lists, n, bm25, alive, helper, admit, labelOf, () => (calls += 1))).toEqual(expected);
        expect(calls).toBe(1);
      }
    }
    expect(helper.jobs).toBe(96);
  });

  it('scores the upper half itself when the helper fails, and leaves small questions alone', () => {
    const lists = randomLists(99, 40_000, 3);
    const expected = blockedTop(lists, 20, bm25, admit);
    expect(expected).toHaveLength(20);
    const failing = inlineHelper(true);
    expect(splitTop(lists, 20, bm25, alive, failing, admit)).toEqual(expected);
    expect(failing.jobs).toBe(1);
    // Nothing to score, or a helper that would keep every posting here or none: still the same answer.
    expect(
      splitTop(
        randomLists(5, 100, 2).map((list) => ({ ...list, runs: [] })),
        5,
        bm25,
        alive,
        failing,
        admit,
      ),
    ).toBeUndefined();
    for (const ownShareWithWork of [0, 1])
      expect(splitTop(lists, 20, bm25, alive, { ...inlineHelper(), ownShareWithWork }, admit, undefined, () => {})).toEqual(expected);
    const choosy = { ...inlineHelper(), minPostings: Infinity };
    expect(splitTop(lists, 20, bm25, alive, choosy, admit)).toBeUndefined();
    expect(choosy.jobs).toBe(0);
  });
});

describe('the scoring thread', () => {
  const thread = new ScoringThread(0);
  afterAll(() => thread.close());

  /** Counts the jobs the thread took (`begin` gave a collector). */
  function counting(helper: BlockHelper): BlockHelper & { taken: number } {
    return {
      minPostings: helper.minPostings,
      ownShareWithWork: helper.ownShareWithWork,
      taken: 0,
      begin(...args) {
        const collect = helper.begin(...args);
        if (collect) this.taken += 1;
        return collect;
      },
    };
  }

  it('answers from a loaded index in shared memory as one thread does, with removed passages', async () => {
    expect(await thread.ready()).toBe(true);
    const built = LexicalIndex.create(options);
    built.add(documents);
    built.remove(documents.filter((_, i) => i % 13 === 0).map((document) => document.label));
    const alone = loadedShared(built);
    const helped = loadedShared(built);
    const helper = counting(thread);
    helped.useHelper(helper);
    let calls = 0;
    for (const terms of queries)
      for (const n of [1, 50]) {
        expect(helped.search(terms).top(n, undefined, () => (calls += 1))).toEqual(
          alone.search(terms).top(n, undefined, () => (calls += 1)),
        );
        expect(alone.search(terms, undefined, 'whole').top(n, undefined, () => (calls += 1))).toEqual(alone.search(terms).top(n));
      }
    // Work meanwhile is done once a search, split or not.
    expect(calls).toBe(queries.length * 2 * 3);
    expect(helper.taken).toBeGreaterThan(60);
    // A filter runs in this thread only: such questions are not split.
    const taken = helper.taken;
    const accept = (label: number) => label % 2 === 0;
    expect(helped.search(['w0', 'w3']).top(10, accept)).toEqual(alone.search(['w0', 'w3']).top(10, accept));
    expect(helper.taken).toBe(taken);
  });

  it('leaves arrays outside shared memory to this thread: an index read from the heap, postings added since', () => {
    const built = LexicalIndex.create(options);
    built.add(documents.slice(0, 8000));
    const heap = LexicalIndex.deserialize(built.serialize(), options);
    const heapHelper = counting(thread);
    heap.useHelper(heapHelper);
    const reference = LexicalIndex.create(options);
    reference.add(documents.slice(0, 8000));
    for (const terms of queries.slice(0, 10)) expect(heap.search(terms).top(10)).toEqual(reference.search(terms).top(10));
    expect(heapHelper.taken).toBe(0);

    const grown = loadedShared(built);
    const grownHelper = counting(thread);
    grown.useHelper(grownHelper);
    grown.add(documents.slice(8000));
    const whole = LexicalIndex.create(options);
    whole.add(documents);
    for (const terms of queries) expect(grown.search(terms).top(20)).toEqual(whole.search(terms).top(20));
    // Every question here has a word the added passages hold: its postings are partly in heap pages.
    expect(grownHelper.taken).toBe(0);
  });

  it('once closed, takes no job, and searches still answer', async () => {
    const closing = new ScoringThread(0);
    expect(await closing.ready()).toBe(true);
    const index = LexicalIndex.create(options);
    index.add(documents.slice(0, 3000));
    const loaded = loadedShared(index);
    loaded.useHelper(closing);
    await closing.close();
    const lists: ScoredList[] = [];
    expect(closing.begin(lists, 10, DEFAULT_LEXICAL_OPTIONS.bm25, new Uint8Array(new SharedArrayBuffer(8)))).toBeUndefined();
    expect(loaded.search(['w0', 'w2']).top(5)).toEqual(index.search(['w0', 'w2']).top(5));
    expect(await closing.ready()).toBe(false);
  });
});
