import { describe, expect, it } from 'vitest';
import { FOLLOW_UP_WEIGHT, followUpOf, MAX_EARLIER } from '../../src/retrieval/follow-up.js';
import { queryTerms } from '../../src/retrieval/question-terms.js';
import { termNeighboursOf, type SoftMatching } from '../../src/retrieval/soft-terms.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { search } from '../../src/retrieval/search.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import type { WordVectorTable } from '../../src/model.js';
import { createFakeEmbedder, makeArticle } from '../helpers.js';

const articles = [
  makeArticle(
    'stance.txt',
    [
      'Washington said its troops would stay in the region until the militants were defeated.',
      'Moscow said the foreign troops must leave the region at once.',
      'Moscow also said the harvest was the best in a decade.',
      'The Pentagon said the bridge near the border would reopen in spring.',
    ],
    { title: 'Capitals trade words over troops', byline: 'Jane Doe', outlet: 'Daily Example' },
  ),
  makeArticle('weather.txt', ['Heavy rain flooded the valley roads on Monday.', 'The troops of the scouts camped by the lake.'], {
    title: 'Rain floods valley',
  }),
];

/** Two capitals close to each other, the rest apart. */
function capitalsTable(): WordVectorTable {
  const rows: Array<[string, number[]]> = [
    ['washington', [10, 1, 0]],
    ['moscow', [9, 2, 0]],
    ['troops', [0, 10, 0]],
    ['region', [0, 0, 10]],
  ];
  return { words: rows.map(([word]) => word), dimension: 3, values: Int8Array.from(rows.flatMap(([, vector]) => vector)) };
}
const SETTINGS: SoftMatching = { threshold: 0.99, perWord: 1, credit: 0.5, frequentRows: 1000, maxDocumentFrequency: 0 };

describe('followUpOf', () => {
  it('gives the question followed the follow-up weight, and the one before it less', () => {
    expect(followUpOf({ question: 'how many troops?' })).toEqual([{ text: 'how many troops?', weight: FOLLOW_UP_WEIGHT }]);
    const chain = followUpOf({ question: 'and Moscow?', earlier: [{ text: 'what did Washington say?', weight: 0.3 }] }, 0.5);
    expect(chain).toEqual([
      { text: 'and Moscow?', weight: 0.5 },
      { text: 'what did Washington say?', weight: 0.15 },
    ]);
  });

  it('keeps at most the last two questions, and none for a weight of 0 or an empty question', () => {
    const long = followUpOf(
      {
        question: 'c',
        earlier: [
          { text: 'b', weight: 0.5 },
          { text: 'a', weight: 0.25 },
        ],
      },
      0.5,
    );
    expect(long.map((one) => one.text)).toEqual(['c', 'b']);
    expect(long).toHaveLength(MAX_EARLIER);
    expect(followUpOf({ question: 'how many troops?' }, 0)).toEqual([]);
    expect(followUpOf({ question: '   ' })).toEqual([]);
  });
});

describe('query terms of a follow-up', () => {
  it("adds the earlier question's words at their lower weight, without repeating the follow-up's own", async () => {
    const index = await buildMemoryIndex(articles, null);
    const alone = queryTerms('what did Moscow say about the troops?', index.lexical);
    const terms = queryTerms('what did Moscow say about the troops?', index.lexical, null, [
      { text: 'will the troops leave the region?', weight: 0.3 },
    ]);
    expect(terms.fromEarlier).toEqual(new Set(['leav', 'region'].filter((stem) => terms.stems.includes(stem))));
    expect(terms.fromEarlier.has('troop')).toBe(false);
    expect(terms.weights.get('troop')).toBe(alone.weights.get('troop'));
    const region = [...terms.fromEarlier][0]!;
    expect(terms.weights.get(region)).toBeCloseTo(index.lexical.idf(region) * 0.3);
    expect(terms.searched.get(region)).toBeCloseTo(0.3);
    expect(terms.total).toBeGreaterThan(alone.total);
  });

  it('drops an earlier word that a close word of the follow-up takes the place of (Moscow for Washington)', async () => {
    const index = await buildMemoryIndex(articles, null);
    const neighbours = termNeighboursOf(index.lexical, capitalsTable(), SETTINGS);
    const earlier = [{ text: 'what did Washington say about troops in the region?', weight: 0.3 }];
    const terms = queryTerms('and Moscow?', index.lexical, neighbours, earlier);
    expect(terms.fromEarlier.has('washington')).toBe(false);
    expect(terms.fromEarlier.has('troop')).toBe(true);
    // Without vectors nothing tells the capitals apart: Washington stays, at the lower weight.
    expect(queryTerms('and Moscow?', index.lexical, null, earlier).fromEarlier.has('washington')).toBe(true);
  });

  it("finds the follow-up's answer on the earlier question's matter, not the follow-up's words alone", async () => {
    const index = await buildMemoryIndex(articles, null);
    index.wordVectors = capitalsTable();
    const alone = await search('and what did Moscow say?', { index, embedder: null, k: 3 });
    // Alone, both of Moscow's statements match as well; the earlier question picks the one on troops.
    expect(
      alone.hits
        .map((hit) => hit.passage.paragraph)
        .slice(0, 2)
        .sort(),
    ).toEqual([2, 3]);
    const followed = await search('and what did Moscow say?', {
      index,
      embedder: null,
      k: 3,
      earlier: [{ text: 'what does Washington say about the troops in the region?', weight: 0.3 }],
    });
    expect(followed.hits[0]?.passage.text).toContain('foreign troops must leave');
  });

  it('moves the question vector toward the earlier question in hybrid search', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(articles, embedder);
    // "army" is in no passage: only the vectors find troops, and alone the plainest troop passage wins.
    const alone = await search('and the army?', { index, embedder, k: 2 });
    expect(alone.hits[0]?.passage.file).toBe('weather.txt');
    const followed = await search('and the army?', { index, embedder, k: 2, earlier: [{ text: 'what will Washington do?', weight: 0.3 }] });
    expect(followed.mode).toBe('hybrid');
    expect(followed.hits[0]?.passage.text).toContain('Washington said its troops');
    expect(followed.hits[0]?.signals.dense).toBeGreaterThan(0);
  });
});

describe('answers to follow-ups', () => {
  it('says which question the answer was read as following', async () => {
    const index = await buildMemoryIndex(articles, null);
    const answer = await answerQuestion('and what did Moscow say?', {
      index,
      embedder: null,
      earlier: followUpOf({ question: 'what does Washington say about the troops in the region?' }),
    });
    expect(answer.follows).toBe('what does Washington say about the troops in the region?');
    expect((await answerQuestion('and what did Moscow say?', { index, embedder: null })).follows).toBeUndefined();
  });

  it('answers "who wrote it?" about the article the earlier question found', async () => {
    const index = await buildMemoryIndex(articles, null);
    const alone = await answerQuestion('who wrote it?', { index, embedder: null });
    expect(alone.answered).toBe(false);
    expect(alone.notice).toMatch(/Which article do you mean/);
    const followed = await answerQuestion('who wrote it?', {
      index,
      embedder: null,
      earlier: followUpOf({ question: 'what did Moscow say about foreign troops leaving?' }),
    });
    expect(followed.fact?.value).toBe('Jane Doe');
    expect(followed.fact?.article.file).toBe('stance.txt');
    expect(followed.follows).toBe('what did Moscow say about foreign troops leaving?');
  });

  it('ignores an earlier question that cannot be searched', async () => {
    const index = await buildMemoryIndex(articles, null);
    const answer = await answerQuestion('when will the bridge reopen?', {
      index,
      embedder: null,
      earlier: [{ text: '🙂🙂', weight: 0.3 }],
    });
    expect(answer.follows).toBeUndefined();
    expect(answer.results[0]?.quote).toContain('bridge');
  });
});
