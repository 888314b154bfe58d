import { describe, expect, it } from 'vitest';
import { sameCountry } from '../../src/text/places.js';
import { queryTerms } from '../../src/retrieval/question-terms.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { search } from '../../src/retrieval/search.js';
import { makeArticle } from '../helpers.js';

describe('sameCountry', () => {
  it.each([
    ['us', ['usa', 'america', 'american', 'washington']],
    ['syria', ['syrian', 'damascu']],
    ['moscow', ['russia', 'russian']],
    ['uk', ['gb', 'british', 'london']],
    ['iranian', ['iran', 'tehran']],
  ])('gives %j the other one-word names of its country', (stem, others) => {
    expect([...sameCountry(stem)].sort()).toEqual([...others].sort());
  });

  it('gives "Turkey" from the long form though the data names the country Türkiye', () => {
    expect(sameCountry('turkish')).toContain('turkei');
    expect(sameCountry('ankara')).toContain('turkei');
  });

  it('keeps a shared demonym with the UN member ("American" is the US, not a territory) and no two-letter code of a one-word country', () => {
    expect([...sameCountry('american')]).not.toContain('mp');
    expect(sameCountry('al').size).toBe(0);
    expect(sameCountry('in').size).toBe(0);
    expect(sameCountry('troop').size).toBe(0);
  });
});

describe('other names of a country in search', () => {
  it('counts "Washington" for a question that says "American", at less than the word itself', async () => {
    const index = await buildMemoryIndex(
      [
        makeArticle('a.txt', ['Washington has deployed around 2,000 troops to the region.']),
        makeArticle('b.txt', ['Farmers brought their troops of goats to the region.']),
      ],
      null,
    );
    const terms = queryTerms('how many american troops are there?', index.lexical);
    expect(terms.equivalents.get('american')?.get('washington')).toBeCloseTo(0.6);
    const { hits } = await search('how many american troops are there?', { index, embedder: null, k: 1 });
    expect(hits[0]?.passage.file).toBe('a.txt');
  });
});
