import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TermNeighbours, termNeighboursOf, type SoftMatching } from '../../src/retrieval/soft-terms.js';
import { queryTerms } from '../../src/retrieval/question-terms.js';
import { DEFAULT_SEARCH, search } from '../../src/retrieval/search.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { readWordVectors } from '../../src/embedding/word-vectors.js';
import type { WordVectorTable } from '../../src/model.js';
import { makeArticle, MODELS_DIR } from '../helpers.js';

/** A table of 3-dimensional words: the helicopter words point one way, the money words another. */
function tinyTable(): WordVectorTable {
  const rows: Array<[string, number[]]> = [
    ['[PAD]', [0, 0, 0]],
    ['[UNK]', [0, 0, 0]],
    ['quite', [0, 0, 10]],
    ['helicopters', [10, 1, 0]],
    ['choppers', [9, 2, 0]],
    ['helicopter', [10, 0, 1]],
    ['money', [0, 10, 0]],
    ['cash', [1, 9, 0]],
    ['funding', [2, 9, 1]],
    ['quit', [0, 3, 9]],
    ['resigned', [0, 4, 9]],
    ['oil', [5, 5, 5]],
  ];
  return { words: rows.map(([word]) => word), dimension: 3, values: Int8Array.from(rows.flatMap(([, vector]) => vector)) };
}

const SETTINGS: SoftMatching = { threshold: 0.9, perWord: 2, credit: 0.5, frequentRows: 1000, maxDocumentFrequency: 0 };

describe('TermNeighbours', () => {
  it('finds the corpus words close to a question word, best first, above the threshold', () => {
    const neighbours = new TermNeighbours(tinyTable(), ['helicopt', 'monei', 'fund', 'oil'], SETTINGS);
    expect(neighbours.size).toBe(4);
    expect(neighbours.of({ stem: 'chopper', spelling: 'choppers' }, 0).map((one) => one.stem)).toEqual(['helicopt']);
    expect(neighbours.of({ stem: 'cash', spelling: 'cash' }, 0).map((one) => one.stem)).toEqual(['monei', 'fund']);
    const [closest] = neighbours.of({ stem: 'cash', spelling: 'cash' }, 0);
    expect(closest!.similarity).toBeGreaterThan(0.9);
    expect(neighbours.creditOf(closest!)).toBeCloseTo(0.5 * closest!.similarity);
  });

  it('offers only corpus words, and nothing for a word the table lacks', () => {
    const neighbours = new TermNeighbours(tinyTable(), ['oil'], SETTINGS);
    expect(neighbours.of({ stem: 'cash', spelling: 'cash' }, 0)).toEqual([]);
    expect(neighbours.of({ stem: 'zyzzyva', spelling: 'zyzzyva' }, 0)).toEqual([]);
  });

  it('looks a word up by its spelling, so "quit" is not taken for "quite", which stems alike', () => {
    const neighbours = new TermNeighbours(tinyTable(), ['resign', 'quit'], { ...SETTINGS, threshold: 0.8 });
    expect(neighbours.of({ stem: 'quit', spelling: 'quit' }, 0).map((one) => one.stem)).toEqual(['resign']);
  });

  it('gives no stand-ins to a word the articles use more often than allowed', () => {
    const neighbours = new TermNeighbours(tinyTable(), ['monei'], SETTINGS);
    expect(neighbours.of({ stem: 'cash', spelling: 'cash' }, 1)).toEqual([]);
    expect(
      new TermNeighbours(tinyTable(), ['monei'], { ...SETTINGS, maxDocumentFrequency: 1 }).of({ stem: 'cash', spelling: 'cash' }, 1),
    ).toHaveLength(1);
  });
});

describe('soft matching in search', () => {
  const articles = [
    makeArticle('air.txt', ['Two helicopters landed near the base on Tuesday.', 'The crews stayed overnight.']),
    makeArticle('budget.txt', ['The council approved new money for schools.', 'Oil prices rose again.']),
  ];

  it('expands a question word the articles lack to their close words, at less than full weight', async () => {
    const index = await buildMemoryIndex(articles, null);
    const neighbours = termNeighboursOf(index.lexical, tinyTable(), SETTINGS);
    const terms = queryTerms('how many choppers landed?', index.lexical, neighbours);
    expect([...terms.equivalents.get('chopper')!.keys()]).toEqual(['chopper', 'helicopt']);
    expect(terms.searched.get('helicopt')).toBeGreaterThan(0);
    expect(terms.searched.get('helicopt')).toBeLessThan(1);
    // "landed" is the articles' own word: it matches only itself.
    expect([...terms.equivalents.get('land')!.keys()]).toEqual(['land']);
  });

  it('finds the passage that says it with another word, and not without the vectors', async () => {
    const index = await buildMemoryIndex(articles, null);
    const without = await search('where did the choppers touch down?', { index, embedder: null, k: 1 });
    expect(without.hits[0]?.passage.text ?? '').not.toContain('helicopters');
    index.wordVectors = tinyTable();
    const withVectors = await search('where did the choppers touch down?', { index, embedder: null, k: 1 });
    expect(withVectors.hits[0]?.passage.text).toContain('helicopters');
    expect(withVectors.hits[0]?.signals.coverage).toBeGreaterThan(0);
  });

  it('reuses the neighbour table of an index until the index learns new words', async () => {
    const index = await buildMemoryIndex(articles, null);
    const first = termNeighboursOf(index.lexical, tinyTable(), SETTINGS);
    const table = tinyTable();
    const once = termNeighboursOf(index.lexical, table, SETTINGS);
    expect(termNeighboursOf(index.lexical, table, SETTINGS)).toBe(once);
    expect(once).not.toBe(first);
    index.lexical.add([{ label: 99, text: 'Cash arrived.', title: '', sentences: [{ start: 0, end: 13 }] }]);
    expect(termNeighboursOf(index.lexical, table, SETTINGS)).not.toBe(once);
  });

  it.skipIf(!existsSync(path.join(MODELS_DIR, 'local/glove-6b-100d-sif/onnx/model.onnx')))(
    "reads the offline model's own word table, where close words are close",
    async () => {
      const { table } = await readWordVectors(MODELS_DIR);
      expect(table?.dimension).toBe(100);
      expect(table!.words.length).toBeGreaterThan(100_000);
      const neighbours = new TermNeighbours(table!, ['helicopt', 'troop', 'resign', 'monei', 'banana'], DEFAULT_SEARCH.softMatching!);
      expect(neighbours.of({ stem: 'chopper', spelling: 'choppers' }, 0)[0]?.stem).toBe('helicopt');
      expect(neighbours.of({ stem: 'soldier', spelling: 'soldiers' }, 0).map((one) => one.stem)).toContain('troop');
      expect(neighbours.of({ stem: 'quit', spelling: 'quit' }, 0)[0]?.stem).toBe('resign');
      expect(neighbours.of({ stem: 'soldier', spelling: 'soldiers' }, 0).map((one) => one.stem)).not.toContain('banana');
    },
  );
});
