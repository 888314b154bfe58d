import { describe, expect, it } from 'vitest';
import type { ArticleRecord, IndexedPassage } from '../../src/model.js';
import { corpusParts, readCorpus, writeCorpus } from '../../src/storage/codec.js';

const ARTICLES: ArticleRecord[] = [
  {
    file: 'a.txt',
    hash: 'h1',
    title: 'Troops “leave” Syria',
    titleSource: 'page',
    outlet: 'Wire',
    paragraphCount: 3,
    size: 10,
    mtimeMs: 1,
  },
  { file: 'b.md', hash: 'h2', title: 'Oil', titleSource: 'lead', paragraphCount: 1 },
];

/** Passages enough for several pieces on both sides, with the characters JSON escapes or widens. */
function passages(count: number): IndexedPassage[] {
  return Array.from({ length: count }, (_, label) => {
    const text = `Passage ${label}: “quoted”, β, a line\nbreak, a tab\t, a backslash \\ and "quotes". `.repeat(16);
    return {
      label,
      id: `${label % 2 === 0 ? 'a.txt' : 'b.md'}#${label}`,
      file: label % 2 === 0 ? 'a.txt' : 'b.md',
      paragraph: label,
      text,
      start: label * 10,
      end: label * 10 + text.length,
      sentences: [
        { start: 0, end: 12 },
        { start: 13, end: text.length },
      ],
      ...(label % 3 === 0 ? { section: 'World' } : {}),
    };
  });
}

describe('the corpus file', () => {
  it('round-trips articles and passages, many megabytes of them, and one passage longer than a piece', () => {
    const many = passages(6000);
    const long = 'x'.repeat(600_000) + ' “end”';
    many.push({ ...many[0]!, label: 6000, id: 'a.txt#6000', text: long, end: long.length });
    const parts = [...corpusParts(ARTICLES, many)];
    expect(parts.length).toBeGreaterThan(8);
    for (const part of parts.slice(0, -1)) expect(part.byteLength).toBeLessThanOrEqual(2 * long.length);
    const read = readCorpus(Buffer.concat(parts));
    expect(read.articles).toEqual(ARTICLES);
    expect(read.passages).toEqual(many);
    // One string per file name, shared by its passages.
    expect(read.passages[2]!.file).toBe(read.articles[0]!.file);
  });

  it('is one JSON document, which earlier versions read as it is', () => {
    const bytes = writeCorpus(ARTICLES, passages(3));
    const document = JSON.parse(bytes.toString('utf8')) as { articles: unknown[]; passages: unknown[][] };
    expect(document.articles).toEqual(ARTICLES);
    expect(document.passages.map((row) => row[0])).toEqual([0, 1, 2]);
  });

  it('reads the one-line layout earlier versions wrote', () => {
    const written = writeCorpus(ARTICLES, passages(5));
    const oneLine = Buffer.from(JSON.stringify(JSON.parse(written.toString('utf8'))));
    expect(oneLine.includes(0x0a)).toBe(false);
    expect(readCorpus(oneLine)).toEqual(readCorpus(written));
    expect(readCorpus(oneLine).passages).toEqual(passages(5));
  });

  it('round-trips an empty corpus', () => {
    expect(readCorpus(writeCorpus([], []))).toEqual({ articles: [], passages: [] });
    expect(readCorpus(Buffer.from('{"articles":[],"passages":[]}'))).toEqual({ articles: [], passages: [] });
  });

  it('refuses a file cut short or that is no corpus', () => {
    const bytes = writeCorpus(ARTICLES, passages(50));
    expect(() => readCorpus(bytes.subarray(0, bytes.length - 1))).toThrow(Error);
    expect(() => readCorpus(bytes.subarray(0, Math.floor(bytes.length / 2)))).toThrow(Error);
    expect(() => readCorpus(Buffer.from('{"articles":[\nnot json\n],"passages":[\n]}'))).toThrow(Error);
    expect(() => readCorpus(Buffer.from('{"articles": 1, "passages": []}'))).toThrow(/lacks articles/);
  });
});
