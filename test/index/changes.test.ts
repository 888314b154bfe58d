import { describe, expect, it } from 'vitest';
import { articleRecord } from '../../src/index/changes.js';
import { makeArticle } from '../helpers.js';

describe('articleRecord', () => {
  const article = makeArticle('a.txt', ['One.', 'Two.'], {
    title: 'A headline long enough to be a slice',
    outlet: 'Wire',
    date: '2024-05-01',
  });
  const stamp = { size: 120, mtimeMs: 1700000000000 };

  it('is the article without its paragraphs, with their count and the stamp, fields in the order a spread gives', () => {
    const { paragraphs: _paragraphs, ...rest } = article;
    const expected = { ...rest, paragraphCount: 2, ...stamp };
    const record = articleRecord(article, stamp);
    expect(record).toStrictEqual(expected);
    expect(Object.keys(record)).toEqual(Object.keys(expected));
    expect(articleRecord(article)).toStrictEqual({ ...rest, paragraphCount: 2 });
  });

  it('copies a stored record with a new stamp', () => {
    const stored = articleRecord(article, stamp);
    const restamped = articleRecord(stored, { size: 130, mtimeMs: 5 });
    expect(restamped).toStrictEqual({ ...stored, size: 130, mtimeMs: 5 });
    expect(Object.keys(restamped)).toEqual(Object.keys(stored));
    expect(stored.size).toBe(120);
  });
});
