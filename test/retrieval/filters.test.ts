import { describe, expect, it } from 'vitest';
import { acceptsArticle, ageOf, describeFilter, filterDay, parseArticleFilter } from '../../src/retrieval/filters.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { makeArticle } from '../helpers.js';

describe('filterDay', () => {
  it.each([
    ['2019', 'since', '2019-01-01'],
    ['2019', 'until', '2019-12-31'],
    ['2020-02', 'until', '2020-02-29'],
    ['2019-02', 'until', '2019-02-28'],
    [' 2019-03-14 ', 'since', '2019-03-14'],
  ] as const)('reads %j as %s %s', (text, end, day) => {
    expect(filterDay(text, end)).toBe(day);
  });

  it.each(['2019-13', '2019-02-30', 'yesterday', '19', '2019/03/14', ''])('refuses %j', (text) => {
    expect(filterDay(text, 'since')).toBeNull();
  });
});

describe('parseArticleFilter', () => {
  it('takes outlet and dates, and says what is wrong with a bad one', () => {
    expect(parseArticleFilter({ outlet: ' Press TV ', since: '2019', until: null })).toEqual({
      ok: true,
      filter: { outlet: 'Press TV', since: '2019-01-01' },
    });
    const bad = parseArticleFilter({ since: 'last tuesday' });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.reason).toMatch(/not a date for since.*2019-03-14/);
    expect(parseArticleFilter({ since: '2020', until: '2019' })).toMatchObject({ ok: false, reason: expect.stringMatching(/after until/) });
    expect(parseArticleFilter({ outlet: 'x'.repeat(101) }).ok).toBe(false);
  });
});

describe('acceptsArticle and ageOf', () => {
  const dated = { outlet: 'Newsweek', url: 'https://www.newsweek.com/a', date: '2017-12-22' };
  it('matches the outlet by name or site, and leaves undated articles out of a date range', () => {
    expect(acceptsArticle({ outlet: 'newsweek' }, dated)).toBe(true);
    expect(acceptsArticle({ outlet: 'Press TV' }, dated)).toBe(false);
    expect(acceptsArticle({ since: '2017-12-22', until: '2017-12-22' }, dated)).toBe(true);
    expect(acceptsArticle({ since: '2018-01-01' }, dated)).toBe(false);
    expect(acceptsArticle({ until: '2018-01-01' }, { outlet: 'Press TV' })).toBe(false);
    expect(describeFilter({ outlet: 'Newsweek', since: '2017-01-01' })).toBe('from Newsweek, published 2017-01-01 or later');
  });

  it('says how old an article is in words', () => {
    const today = new Date('2026-12-04T10:00:00Z');
    expect(ageOf('2026-12-04', today)).toBe('today');
    expect(ageOf('2026-12-03', today)).toBe('yesterday');
    expect(ageOf('2026-11-30', today)).toBe('4 days ago');
    expect(ageOf('2026-10-01', today)).toBe('2 months ago');
    expect(ageOf('2017-12-22', today)).toBe('8 years ago');
    expect(ageOf('2027-01-01', today)).toBe('dated in the future');
    expect(ageOf(null, today)).toBeNull();
    expect(ageOf('not a date', today)).toBeNull();
  });
});

describe('answers with a filter', () => {
  const articles = [
    makeArticle('old.txt', ['Around 2,000 troops are deployed in the region.'], { outlet: 'Newsweek', date: '2017-12-22' }),
    makeArticle('new.txt', ['Around 900 troops are deployed in the region now.'], { outlet: 'Press TV', date: '2019-03-01' }),
    makeArticle('undated.txt', ['Troops are deployed in the region, officials say.'], { outlet: 'Press TV' }),
  ];
  const today = new Date('2026-12-04T00:00:00Z');

  it('answers only from the articles the filter lets through, says so, and shows their age', async () => {
    const index = await buildMemoryIndex(articles, null);
    const answer = await answerQuestion('how many troops are deployed in the region?', {
      index,
      embedder: null,
      k: 3,
      filter: { since: '2019-01-01' },
      today,
    });
    expect(answer.results.map((result) => result.article.file)).toEqual(['new.txt']);
    expect(answer.results[0]!.article.age).toBe('7 years ago');
    expect(answer.notice).toBe('Answering from 1 of the 3 indexed articles that are published 2019-01-01 or later.');
    const byOutlet = await answerQuestion('how many troops are deployed in the region?', {
      index,
      embedder: null,
      k: 3,
      filter: { outlet: 'newsweek' },
      today,
    });
    expect(new Set(byOutlet.results.map((result) => result.article.file))).toEqual(new Set(['old.txt']));
  });

  it('says plainly when no article passes the filter', async () => {
    const index = await buildMemoryIndex(articles, null);
    const answer = await answerQuestion('how many troops?', { index, embedder: null, filter: { outlet: 'BBC' }, today });
    expect(answer).toMatchObject({ answered: false, results: [], notice: 'None of the 3 indexed articles is from BBC.' });
  });
});
