import { describe, expect, it } from 'vitest';
import { dateIntentOf, datePreference, describeDateIntent } from '../../src/retrieval/date-intent.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { DEFAULT_SEARCH, search } from '../../src/retrieval/search.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { makeArticle } from '../helpers.js';

describe('the time a question asks about', () => {
  it('reads a month with its year, and a year placed in time', () => {
    expect(dateIntentOf('what did Russia say in March 2019?')).toEqual({
      kind: 'period',
      since: '2019-03-01',
      until: '2019-03-31',
      words: 'March 2019',
    });
    expect(dateIntentOf('what happened in sept. 2017')).toMatchObject({ since: '2017-09-01', until: '2017-09-30' });
    expect(dateIntentOf('how many troops were there during 2018?')).toEqual({
      kind: 'period',
      since: '2018-01-01',
      until: '2018-12-31',
      words: '2018',
    });
    expect(dateIntentOf('has anything changed since 2016')).toMatchObject({ since: '2016-01-01' });
  });

  it('does not take a count for a year', () => {
    expect(dateIntentOf('are there 2000 troops in Syria?')).toBeNull();
    expect(dateIntentOf('how many of the 2,000 troops stayed?')).toBeNull();
    expect(dateIntentOf('were there more than 2019 casualties?')).toBeNull();
    expect(dateIntentOf('in 2,017 cases the courts agreed')).toBeNull();
  });

  it('reads a request for the newest news', () => {
    for (const question of [
      'what is the latest on the troops?',
      'most recent statement by Lavrov',
      'what did he say recently?',
      'any news today?',
    ])
      expect(dateIntentOf(question)?.kind).toBe('latest');
    expect(dateIntentOf('how many troops are in Syria?')).toBeNull();
  });

  it('prefers articles in the period, and newer ones for "latest"', () => {
    const period = dateIntentOf('in 2019')!;
    expect(datePreference(period, '2019-06-01', null)).toBe(1);
    expect(datePreference(period, '2018-12-31', null)).toBe(0);
    expect(datePreference(period, null, null)).toBe(0);
    const latest = dateIntentOf('latest')!;
    const dates = { oldest: '2017-01-01', newest: '2019-01-01' };
    expect(datePreference(latest, '2019-01-01', dates)).toBe(1);
    expect(datePreference(latest, '2017-01-01', dates)).toBe(0);
    expect(datePreference(latest, '2018-01-01', dates)).toBeCloseTo(0.5, 2);
    expect(datePreference(latest, '2018-01-01', { oldest: '2018-01-01', newest: '2018-01-01' })).toBe(1);
    expect(describeDateIntent(period)).toBe('Articles dated 2019 come first: the question says “2019”.');
  });
});

describe('date preference in search and answers', () => {
  // The same statement in three articles: without a time in the question, the first indexed comes first.
  const articles = [
    makeArticle('new.txt', ['The ministry said the border crossing would stay closed to all trucks.'], {
      title: 'Border still closed',
      date: '2019-05-20',
    }),
    makeArticle('undated.txt', ['The ministry said the border crossing would stay closed to trucks for now.'], { title: 'Border' }),
    makeArticle('old.txt', ['The ministry said the crossing at the border would stay closed to trucks, as before.'], {
      title: 'Border stays closed',
      date: '2017-03-02',
    }),
  ];

  it('ranks the article of the year asked about first, and the newest for "latest"', async () => {
    const index = await buildMemoryIndex(articles, null);
    const in2017 = await search('what did the ministry say about the border crossing in 2017?', { index, embedder: null, k: 3 });
    expect(in2017.hits[0]?.article.file).toBe('old.txt');
    expect(in2017.dateIntent?.kind).toBe('period');
    const latest = await search('what is the latest the ministry said about the border crossing?', { index, embedder: null, k: 3 });
    expect(latest.hits[0]?.article.file).toBe('new.txt');
    const off = await search('what did the ministry say about the border crossing in 2017?', {
      index,
      embedder: null,
      k: 3,
      parameters: { ...DEFAULT_SEARCH, dateBonus: 0 },
    });
    expect(off.hits[0]?.article.file).not.toBe('old.txt');
  });

  it('says how the time was read, and nothing when no article is of that year', async () => {
    const index = await buildMemoryIndex(articles, null);
    const answer = await answerQuestion('what did the ministry say about the border crossing in 2017?', { index, embedder: null });
    expect(answer.notice).toBe('Articles dated 2017 come first: the question says “2017”.');
    const story = await answerQuestion('what did the ministry say about the border crossing in 1991?', { index, embedder: null });
    expect(story.notice).toBeUndefined();
  });
});
