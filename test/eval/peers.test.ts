/** peers.ts: MiniSearch and Orama run over citebot's passages and vectors, answering with citebot's labels. */
import { describe, expect, it } from 'vitest';
import { buildPeers, minisearchPeer, oramaPeer, type PeerRetriever } from '../../src/eval/peers.js';
import { VectorIndex } from '../../src/index/hnsw.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { articlePassages } from '../../src/ingest/passages.js';
import type { IndexedPassage } from '../../src/model.js';
import { createFakeEmbedder, makeArticle } from '../helpers.js';

const RHINE = 'The Rhine rises in the Swiss Alps and flows north to the North Sea.';
const LUTHER = 'Martin Luther posted his ninety-five theses on the church door in Wittenberg.';
const KENYA = 'Nairobi is the capital and largest city of Kenya.';
const AMAZON = 'Most of the Amazon rainforest lies within Brazil.';

// Labels far from positions 0..n-1, so a peer that answered with positions instead of labels would fail.
const LABELS = [7, 42, 1000, 3];

function passages(): IndexedPassage[] {
  return [RHINE, LUTHER, KENYA, AMAZON].map((text, i) => {
    const [passage] = articlePassages(makeArticle(`p${i}.txt`, [text]));
    return { ...passage!, label: LABELS[i]! };
  });
}

/** One axis per passage: the vector of passage i is unit vector i. */
function axisVectors(list: IndexedPassage[]): VectorIndex {
  const vectors = VectorIndex.create(list.length, 16);
  list.forEach((passage, i) => vectors.add(passage.label, axis(list.length, i)));
  return vectors;
}

function axis(dimension: number, i: number): Float32Array {
  const vector = new Float32Array(dimension);
  vector[i] = 1;
  return vector;
}

async function peersUnderTest(): Promise<PeerRetriever[]> {
  const list = passages();
  return [minisearchPeer(list), await oramaPeer(list, null), await oramaPeer(list, axisVectors(list))];
}

describe('minisearchPeer', () => {
  it('ranks the passage holding the question words first and answers with its label', async () => {
    const peer = minisearchPeer(passages());
    expect(peer.name).toBe('MiniSearch (BM25)');
    expect(peer.usesQueryVector).toBe(false);
    expect((await peer.search('Where does the Rhine rise?', null, 5))[0]).toBe(7);
    expect((await peer.search('What is the capital of Kenya?', null, 5))[0]).toBe(1000);
  });

  it('combines terms with OR: a passage matching only one word is still returned', async () => {
    const peer = minisearchPeer(passages());
    expect((await peer.search('Wittenberg Brazil', null, 5)).sort((a, b) => a - b)).toEqual([3, 42]);
  });

  it('does not match word prefixes or stems (its defaults)', async () => {
    const peer = minisearchPeer(passages());
    expect(await peer.search('Witten', null, 5)).toEqual([]);
    expect(await peer.search('rising', null, 5)).toEqual([]);
  });
});

describe('oramaPeer', () => {
  it('without vectors searches full text and ranks the passage holding the question words first', async () => {
    const peer = await oramaPeer(passages(), null);
    expect(peer.name).toBe('Orama (full text)');
    expect(peer.usesQueryVector).toBe(false);
    expect((await peer.search('church door in Wittenberg', null, 5))[0]).toBe(42);
    expect((await peer.search('largest city Nairobi', null, 5))[0]).toBe(1000);
  });

  it('matches word prefixes by default (Orama does, MiniSearch does not)', async () => {
    const peer = await oramaPeer(passages(), null);
    expect(await peer.search('Witten', null, 5)).toEqual([42]);
  });

  it('in hybrid mode ranks the passage whose vector equals the query vector first, though no word matches', async () => {
    const list = passages();
    const peer = await oramaPeer(list, axisVectors(list));
    expect(peer.name).toBe('Orama (hybrid)');
    expect(peer.usesQueryVector).toBe(true);
    // No passage holds "zebra" or "quantum"; the vector points at the Kenya passage.
    expect((await peer.search('zebra quantum', axis(4, 2), 3))[0]).toBe(1000);
    // Words and vector agree on Luther: it comes first, as it would from either side alone.
    expect((await peer.search('Luther theses', axis(4, 1), 3))[0]).toBe(42);
  });

  it('in hybrid mode blends both sides: the word match and the vector match both make the list', async () => {
    const list = passages();
    const peer = await oramaPeer(list, axisVectors(list));
    // "Brazil" is a word of the Amazon passage only; the vector points at the Kenya one.
    const labels = await peer.search('Brazil', axis(4, 2), 4);
    expect(labels.slice(0, 2).sort((a, b) => a - b)).toEqual([3, 1000]);
  });

  it('in hybrid mode searches the text alone without a query vector or with a zero one', async () => {
    const list = passages();
    const peer = await oramaPeer(list, axisVectors(list));
    expect(await peer.search('Wittenberg', null, 5)).toEqual([42]);
    expect(await peer.search('Wittenberg', new Float32Array(4), 5)).toEqual([42]);
  });

  it('still finds a passage that has no stored vector by its words', async () => {
    const list = passages();
    const vectors = VectorIndex.create(4, 16);
    vectors.add(7, axis(4, 0));
    const peer = await oramaPeer(list, vectors);
    expect(await peer.search('Nairobi', axis(4, 0), 5)).toContain(1000);
  });
});

describe('every peer', () => {
  it('answers with numeric labels of indexed passages', async () => {
    for (const peer of await peersUnderTest()) {
      const labels = await peer.search('the Rhine and the Amazon', axis(4, 0), 10);
      expect(labels.length, peer.name).toBeGreaterThan(0);
      for (const label of labels) {
        expect(typeof label, peer.name).toBe('number');
        expect(LABELS, peer.name).toContain(label);
      }
      expect(new Set(labels).size, peer.name).toBe(labels.length);
    }
  });

  it('returns at most k labels', async () => {
    for (const peer of await peersUnderTest()) {
      // "the" is in three passages: each peer has more than one candidate to cut.
      expect(await peer.search('the', axis(4, 0), 1), peer.name).toHaveLength(1);
      expect((await peer.search('the', axis(4, 0), 2)).length, peer.name).toBe(2);
      expect(await peer.search('the', axis(4, 0), 0), peer.name).toEqual([]);
    }
  });

  it('returns an empty list for an empty question and for words found nowhere', async () => {
    for (const peer of await peersUnderTest()) {
      expect(await peer.search('', null, 5), peer.name).toEqual([]);
      expect(await peer.search('   ', axis(4, 0), 5), peer.name).toEqual([]);
      expect(await peer.search('?!', null, 5), peer.name).toEqual([]);
      expect(await peer.search('zebra quantum', null, 5), peer.name).toEqual([]);
    }
  });
});

describe('buildPeers', () => {
  it('builds MiniSearch and hybrid Orama over an index with vectors, timed, searching its passages', async () => {
    const articles = [makeArticle('rhine.txt', [RHINE]), makeArticle('kenya.txt', [KENYA])];
    const embedder = createFakeEmbedder({
      concepts: [
        ['rhine', 'alps'],
        ['kenya', 'nairobi'],
      ],
    });
    const index = await buildMemoryIndex(articles, embedder);
    const built = await buildPeers(index);
    expect(built.map(({ peer }) => peer.name)).toEqual(['MiniSearch (BM25)', 'Orama (hybrid)']);
    const kenya = [...index.passages.values()].find((passage) => passage.file === 'kenya.txt')!;
    for (const { peer, buildMs } of built) {
      expect(buildMs).toBeGreaterThanOrEqual(0);
      const [queryVector] = await embedder.embed(['Where is Nairobi?'], 'query');
      expect((await peer.search('Where is Nairobi?', queryVector!, 2))[0], peer.name).toBe(kenya.label);
    }
  });

  it('builds full-text Orama over a lexical-only index', async () => {
    const index = await buildMemoryIndex([makeArticle('rhine.txt', [RHINE])], null);
    const built = await buildPeers(index);
    expect(built.map(({ peer }) => peer.name)).toEqual(['MiniSearch (BM25)', 'Orama (full text)']);
    expect(await built[1]!.peer.search('Swiss Alps', null, 3)).toEqual([0]);
  });
});
