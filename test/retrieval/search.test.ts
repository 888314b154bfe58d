import { describe, expect, it } from 'vitest';
import { DEFAULT_SEARCH, search } from '../../src/retrieval/search.js';
import { stemWord } from '../../src/text/tokens.js';
import { createFakeEmbedder, makeArticle } from '../helpers.js';
import { buildMemoryIndex } from '../../src/index/memory.js';

const QUESTION = 'How many troops are in Syria?';

// Both passages share the question's two content words; the lexical-only one is shorter, so BM25 alone
// prefers it. Only the embeddings say which one is about the military.
const BOTH = 'Washington keeps about 2,000 troops stationed in eastern Syria, near the Euphrates river crossing.';
const LEXICAL_ONLY = 'Troops of tourists crowd the museums of Syria.';
const DENSE_ONLY = 'Army units were stationed along the border by the Pentagon.';
const UNRELATED = 'The oil budget of the economy shrank by half this year.';

function corpus() {
  return [
    makeArticle('both.txt', [BOTH], { title: 'Base' }),
    makeArticle('lexical.txt', [LEXICAL_ONLY], { title: 'Holiday' }),
    makeArticle('dense.txt', [DENSE_ONLY], { title: 'Border' }),
    makeArticle('other.txt', [UNRELATED], { title: 'Budget' }),
  ];
}

/** Fixed vectors: dimension 0 is "military presence", 1 "tourism", 2 "economy". */
function fixedEmbedder() {
  return createFakeEmbedder({
    concepts: [['army'], ['holiday'], ['budget']],
    fixed: {
      [QUESTION]: [1, 0, 0],
      [BOTH]: [1, 0, 0],
      [LEXICAL_ONLY]: [0, 1, 0],
      [DENSE_ONLY]: [0.9, 0.1, 0],
      [UNRELATED]: [0, 0, 1],
    },
  });
}

describe('search', () => {
  it('lexical retrieval alone prefers the shorter, lexical-only passage (the premise of the fusion test)', async () => {
    const index = await buildMemoryIndex(corpus(), null);
    const result = await search(QUESTION, { index, embedder: null, k: 10 });
    expect(result.mode).toBe('lexical');
    expect(result.hits[0]!.passage.file).toBe('lexical.txt');
  });

  it('fusion ranks a passage that matches lexically and densely above one that matches only lexically', async () => {
    const embedder = fixedEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    const result = await search(QUESTION, { index, embedder, k: 10 });
    expect(result.mode).toBe('hybrid');
    const files = result.hits.map((hit) => hit.passage.file);
    expect(files.indexOf('both.txt')).toBeLessThan(files.indexOf('lexical.txt'));
    expect(files[0]).toBe('both.txt');

    const both = result.hits.find((hit) => hit.passage.file === 'both.txt')!;
    const lexicalOnly = result.hits.find((hit) => hit.passage.file === 'lexical.txt')!;
    expect(lexicalOnly.signals.lexical).toBe(1);
    expect(both.signals.lexical).toBeGreaterThan(0);
    expect(both.signals.lexical).toBeLessThan(1);
    expect(both.signals.dense).toBeCloseTo(1, 5);
    expect(lexicalOnly.signals.dense).toBeCloseTo(0, 5);
    // The score is the documented weighted sum of the signals.
    for (const hit of result.hits) {
      const { weights } = DEFAULT_SEARCH;
      expect(hit.score).toBeCloseTo(
        weights.lexical * hit.signals.lexical + weights.dense * hit.signals.dense + weights.sentence * hit.signals.sentence,
        9,
      );
    }
  });

  it('reports the query terms each passage matched', async () => {
    const index = await buildMemoryIndex(corpus(), null);
    const result = await search(QUESTION, { index, embedder: null, k: 10 });
    expect(result.terms.stems).toEqual([stemWord('troops'), stemWord('syria')]);
    const both = result.hits.find((hit) => hit.passage.file === 'both.txt')!;
    expect(new Set(both.matched)).toEqual(new Set([stemWord('troops'), stemWord('syria')]));
    expect(both.signals.coverage).toBeCloseTo(1, 9);
    expect(both.article.title).toBe('Base');
  });

  it('is lexical-only, with no dense signal, when the embedder is null even if the index has vectors', async () => {
    const embedder = fixedEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    const result = await search(QUESTION, { index, embedder: null, k: 10 });
    expect(result.mode).toBe('lexical');
    expect(result.hits.length).toBeGreaterThan(0);
    for (const hit of result.hits) expect(hit.signals.dense).toBe(0);
    // Lexical mode only returns passages that share a word with the question.
    expect(result.hits.map((hit) => hit.passage.file).sort()).toEqual(['both.txt', 'lexical.txt']);
    expect(embedder.calls.filter((call) => call.kind === 'query')).toHaveLength(0);
  });

  it('is lexical-only when the index has no vectors', async () => {
    const index = await buildMemoryIndex(corpus(), null);
    expect(index.vectors).toBeNull();
    const result = await search(QUESTION, { index, embedder: createFakeEmbedder(), k: 10 });
    expect(result.mode).toBe('lexical');
  });

  it('retrieves a dense-only match (no shared word) in hybrid mode, but not in lexical mode', async () => {
    // "contingent" is no word of any passage (nor an alias of one); the fake embedder maps it and "army"
    // to one concept.
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    const question = 'Where is the contingent?';

    const lexical = await search(question, { index, embedder: null, k: 10 });
    expect(lexical.hits).toEqual([]);

    const hybrid = await search(question, { index, embedder, k: 10 });
    expect(hybrid.mode).toBe('hybrid');
    const dense = hybrid.hits.find((hit) => hit.passage.file === 'dense.txt');
    expect(dense).toBeDefined();
    expect(dense!.signals.lexical).toBe(0);
    expect(dense!.signals.dense).toBeGreaterThan(0.5);
    expect(dense!.matched).toEqual([]);
    expect(hybrid.hits[0]!.passage.file).toBe('dense.txt');
  });

  it('degrades gracefully to lexical scores when the question vector is zero (no known word)', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    // "shrank" and "half" are words of a passage but no concept of the embedder: zero question vector.
    const result = await search('Which thing shrank by half?', { index, embedder, k: 10 });
    expect(result.mode).toBe('hybrid');
    expect(result.hits.map((hit) => hit.passage.file)).toEqual(['other.txt']);
    for (const hit of result.hits) {
      expect(Number.isFinite(hit.score)).toBe(true);
      expect(hit.signals.dense).toBe(0);
    }

    const nothing = await search('What is the weather forecast for tomorrow?', { index, embedder, k: 10 });
    expect(nothing.hits).toEqual([]);
  });

  it('uses a precomputed question vector instead of embedding the question', async () => {
    const embedder = fixedEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    const before = embedder.calls.length;
    const result = await search('tourists', { index, embedder, k: 10, queryVector: new Float32Array([1, 0, 0]) });
    expect(embedder.calls.length).toBe(before);
    const both = result.hits.find((hit) => hit.passage.file === 'both.txt');
    expect(both?.signals.dense).toBeCloseTo(1, 5);
  });

  it('returns at most k hits, best first', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(corpus(), embedder);
    const result = await search(QUESTION, { index, embedder, k: 2 });
    expect(result.hits).toHaveLength(2);
    expect(result.hits[0]!.score).toBeGreaterThanOrEqual(result.hits[1]!.score);
  });

  it('orders ties by label, the same way on every call', async () => {
    const same = 'Russia says all foreign troops must leave Syria soon.';
    const articles = [
      makeArticle('a.txt', [same], { title: 'Same' }),
      makeArticle('b.txt', ['Something about the economy and the oil budget.'], { title: 'Other' }),
      makeArticle('c.txt', [same], { title: 'Same' }),
      makeArticle('d.txt', [same], { title: 'Same' }),
    ];
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(articles, embedder);
    const first = await search('Must foreign troops leave Syria?', { index, embedder, k: 10 });
    const tied = first.hits.filter((hit) => hit.passage.text === same);
    expect(tied.map((hit) => hit.passage.file)).toEqual(['a.txt', 'c.txt', 'd.txt']);
    expect(new Set(tied.map((hit) => hit.score)).size).toBe(1);
    for (let i = 0; i < 3; i += 1) {
      const again = await search('Must foreign troops leave Syria?', { index, embedder, k: 10 });
      expect(again.hits.map((hit) => [hit.passage.id, hit.score])).toEqual(first.hits.map((hit) => [hit.passage.id, hit.score]));
    }
  });
});
