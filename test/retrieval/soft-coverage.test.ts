import { describe, expect, it } from 'vitest';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { softCoverageQuery } from '../../src/retrieval/soft-coverage.js';
import { queryTerms } from '../../src/retrieval/question-terms.js';
import { DEFAULT_SEARCH, search, type SearchParameters } from '../../src/retrieval/search.js';
import { TermNeighbours } from '../../src/retrieval/soft-terms.js';
import type { WordVectorTable } from '../../src/model.js';
import { makeArticle } from '../helpers.js';

/** 3-dimensional words: withdrawing and leaving point one way, equipment and gear another, troops a third. */
function table(): WordVectorTable {
  const rows: Array<[string, number[]]> = [
    ['[PAD]', [0, 0, 0]],
    ['leaving', [10, 1, 0]],
    ['withdrawing', [9, 2, 0]],
    ['gear', [0, 10, 1]],
    ['equipment', [1, 9, 1]],
    ['troops', [0, 0, 10]],
    ['museum', [6, 0, 6]],
  ];
  return { words: rows.map(([word]) => word), dimension: 3, values: Int8Array.from(rows.flatMap(([, vector]) => vector)) };
}

const SOFT = { threshold: 0.9 };

describe('soft coverage', () => {
  const articles = [
    makeArticle('pentagon.txt', ['The troops are withdrawing equipment this week.', 'A museum opened in town.'], { title: 'Pentagon' }),
  ];

  it('credits a sentence word close to a question word with their similarity, and leaves far words out', async () => {
    const index = await buildMemoryIndex(articles, null);
    const neighbours = new TermNeighbours(table(), index.lexical.liveTerms(), { ...DEFAULT_SEARCH.softMatching!, frequentRows: 1000 });
    const terms = queryTerms('are the troops leaving?', index.lexical);
    const exact = index.lexical.coverageQuery(
      terms.stems.map((stem) => ({ stem, weight: terms.weights.get(stem)!, equivalents: terms.equivalents.get(stem)! })),
    );
    const labels = [...index.passages.keys()];
    const soft = softCoverageQuery(exact, terms, labels, index.lexical, neighbours, SOFT);
    const [first, second] = labels;
    const exactFirst = index.lexical.coverage(first!, exact);
    const softFirst = index.lexical.coverage(first!, soft);
    // "troops" is found either way; "leaving" only in other words ("withdrawing", cosine ≈ 0.99).
    expect(exactFirst.sentences[0]).toBeGreaterThan(0);
    expect(exactFirst.sentences[0]).toBeLessThan(1);
    expect(softFirst.sentences[0]).toBeGreaterThan(exactFirst.sentences[0]!);
    expect(softFirst.sentences[0]).toBeLessThan(1);
    // "museum" (cosine ≈ 0.70 with "leaving") stays below the threshold.
    expect(index.lexical.coverage(second!, soft).passage).toBe(0);
    // The exact query is left as it was.
    expect(index.lexical.coverage(first!, exact)).toEqual(exactFirst);
  });

  it('gives the soft signals in search only when asked, equal to the exact ones otherwise', async () => {
    const index = await buildMemoryIndex(articles, null);
    index.wordVectors = table();
    const softMatching = { ...DEFAULT_SEARCH.softMatching!, frequentRows: 1000 };
    const plain: SearchParameters = { ...DEFAULT_SEARCH, softMatching };
    const [withoutSoft] = (await search('are the troops leaving?', { index, embedder: null, k: 1, parameters: plain })).hits;
    expect(withoutSoft!.signals.soft).toBe(withoutSoft!.signals.sentence);
    expect(withoutSoft!.signals.softPassage).toBe(withoutSoft!.signals.coverage);
    const [withSoft] = (
      await search('are the troops leaving?', {
        index,
        embedder: null,
        k: 1,
        parameters: { ...plain, softCoverage: SOFT, measureAll: true },
      })
    ).hits;
    expect(withSoft!.signals.soft).toBeGreaterThan(withSoft!.signals.sentence);
    // With no weight on them, the soft signals do not move the score.
    expect(withSoft!.score).toBeCloseTo(withoutSoft!.score, 12);
    // A weight on a soft signal is enough to have it measured, and it then counts.
    const weighted = { ...plain, softCoverage: SOFT, weights: { ...plain.weights, soft: 1 } };
    const [withWeight] = (await search('are the troops leaving?', { index, embedder: null, k: 1, parameters: weighted })).hits;
    expect(withWeight!.signals.soft).toBe(withSoft!.signals.soft);
    expect(withWeight!.score).toBeCloseTo(withoutSoft!.score + withSoft!.signals.soft, 12);
  });
});

describe('context signals', () => {
  it("measures a passage's article by its best lexical candidate and its paragraph by its neighbours' sentences", async () => {
    const articles = [
      makeArticle('a.txt', ['The minister spoke on Monday.', 'Grain exports will resume next month, she said.', 'Ports reopened.']),
      makeArticle('b.txt', ['Weather was mild.']),
    ];
    const index = await buildMemoryIndex(articles, null);
    const parameters = { ...DEFAULT_SEARCH, measureAll: true };
    const { hits: unmeasured } = await search('when will grain exports resume?', { index, embedder: null, k: 10 });
    // Without weight, the context signals are not measured unless asked.
    expect(unmeasured.every((hit) => hit.signals.article === 0 && hit.signals.neighbour === 0)).toBe(true);
    const { hits } = await search('when will grain exports resume?', { index, embedder: null, k: 10, parameters });
    const byParagraph = new Map(hits.filter((hit) => hit.passage.file === 'a.txt').map((hit) => [hit.passage.paragraph, hit]));
    const answer = byParagraph.get(2)!;
    expect(answer.signals.lexical).toBe(1);
    // Only candidates count: paragraphs 1 and 3 share no word with the question, so none is a candidate.
    expect(answer.signals.neighbour).toBe(0);
    expect(answer.signals.article).toBe(1);
    const { hits: wider } = await search('when did the minister say grain exports resume?', { index, embedder: null, k: 10, parameters });
    const lead = wider.find((hit) => hit.passage.file === 'a.txt' && hit.passage.paragraph === 1)!;
    const exports = wider.find((hit) => hit.passage.file === 'a.txt' && hit.passage.paragraph === 2)!;
    expect(lead.signals.neighbour).toBe(exports.signals.sentence);
    expect(exports.signals.neighbour).toBe(lead.signals.sentence);
    expect(lead.signals.article).toBe(1);
  });
});
