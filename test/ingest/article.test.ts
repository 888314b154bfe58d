import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/hash.js';
import { decodeArticleBytes, parseArticle, parseDate, UnreadableArticle } from '../../src/ingest/article.js';
import { SEED_FILES, SEEDS_DIR } from '../helpers.js';
import type { Article } from '../../src/model.js';

function loadSeed(file: string): { text: string; article: Article } {
  const bytes = readFileSync(path.join(SEEDS_DIR, file));
  const text = decodeArticleBytes(file, bytes);
  return { text, article: parseArticle(file, text, sha256(bytes)) };
}

/** The error a function throws, so its class and message can both be checked. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}

const encode = (text: string) => new TextEncoder().encode(text);

describe('the five seeds', () => {
  const expected: Record<(typeof SEED_FILES)[number], { title: string; titleSource: Article['titleSource']; outlet?: string }> = {
    '000_9269c2b80335e754.txt': {
      title: 'Russian Foreign Minister Sergei Lavrov says the US has no intention of leaving Syrian soil',
      titleSource: 'lead',
      outlet: 'Araweelo News Network',
    },
    '001_b22a2843e4ff1581.txt': {
      title: 'Russian foreign minister says American forces must leave Syria',
      titleSource: 'page',
      outlet: 'Press TV',
    },
    '002_1a36095a4a9b4698.txt': {
      title: 'Russia: All foreign troops to leave Syria soon as situation stabilizes',
      titleSource: 'page',
      outlet: 'Press TV',
    },
    '003_fe676a83808ddfd6.txt': {
      title: 'Moscow Slams US For Not Taking Concrete Steps to Withdraw Occupying Troops in Syria',
      titleSource: 'page',
    },
    '004_c6458dd0e0f282a6.txt': { title: 'Russia Tells U.S. Military to Get Out of Syria', titleSource: 'page', outlet: 'Newsweek' },
  };

  it.each(SEED_FILES)('%s has the right headline and outlet', (file) => {
    const { article } = loadSeed(file);
    const want = expected[file];
    expect(article.file).toBe(file);
    expect(article.title).toBe(want.title);
    expect(article.titleSource).toBe(want.titleSource);
    expect(article.outlet).toBe(want.outlet);
    expect(article.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('000 takes its headline from the lead, without the "Moscow(ANN)-" dateline', () => {
    const { article } = loadSeed('000_9269c2b80335e754.txt');
    expect(article.paragraphs[0]!.text.startsWith('Moscow(ANN)-Russian Foreign Minister')).toBe(true);
    expect(article.title.startsWith('Russian Foreign Minister')).toBe(true);
    // The outlet line is metadata, not story.
    expect(article.paragraphs.some((p) => p.text === 'Araweelo News Network')).toBe(false);
  });

  it('003 names no outlet and no date, byline or link', () => {
    const { article } = loadSeed('003_fe676a83808ddfd6.txt');
    expect(article.outlet).toBeUndefined();
    expect(article.byline).toBeUndefined();
    expect(article.date).toBeUndefined();
    expect(article.url).toBeUndefined();
  });

  it('004 has byline, date and the Newsweek link', () => {
    const { article } = loadSeed('004_c6458dd0e0f282a6.txt');
    expect(article.byline).toBe('John Haltiwanger');
    expect(article.date).toBe('2017-12-22');
    expect(article.url).toBe('http://www.newsweek.com/russia-tells-us-military-get-out-syria-756463');
    expect(article.paragraphs).toHaveLength(3);
    expect(article.paragraphs[0]!.text.startsWith('Russia ramped up its calls')).toBe(true);
  });

  it('001 and 002 keep their section headings apart from the story', () => {
    const first = loadSeed('001_b22a2843e4ff1581.txt').article;
    expect(first.paragraphs.some((p) => p.text.includes('US copters airlift'))).toBe(false);
    expect(first.paragraphs.find((p) => p.text.startsWith('In another development'))?.section).toBe(
      'US copters airlift Daesh ringleaders in Syria',
    );
    const second = loadSeed('002_1a36095a4a9b4698.txt').article;
    expect(second.paragraphs.find((p) => p.text.startsWith('On Friday, US Acting'))?.section).toBe('US says won’t leave Syria');
  });

  const BOILERPLATE = [
    'SHARE THIS ARTICLE',
    'Advertisement',
    'Subscribe to our newsletter',
    'Sign up here',
    'website can also be accessed',
    'Copyright applies',
    '<< back to stories',
    '(Photo by AFP)',
    'News \u00a0 / \u00a0 Syria',
    'www.presstv.co.uk',
    'Press TV News Roku',
    'http',
  ];

  it.each(SEED_FILES)('%s: no paragraph is page furniture', (file) => {
    const { article } = loadSeed(file);
    expect(article.paragraphs.length).toBeGreaterThan(0);
    for (const paragraph of article.paragraphs) {
      for (const junk of BOILERPLATE) expect(paragraph.text, `¶${paragraph.number} holds "${junk}"`).not.toContain(junk);
      // The crumb as printed (with no-break spaces) or as typed ("News   /   Syria").
      expect(paragraph.text).not.toMatch(/News\s*\/\s*Syria/);
      expect(paragraph.text.trim()).not.toBe('|');
      expect(paragraph.text).not.toMatch(/^(international|prose|post) \/?$/);
    }
  });

  it.each(SEED_FILES)('%s: paragraph offsets point at the paragraph text, numbered 1..n in order', (file) => {
    const { text, article } = loadSeed(file);
    article.paragraphs.forEach((paragraph, i) => {
      expect(paragraph.number).toBe(i + 1);
      expect(text.slice(paragraph.start, paragraph.end)).toBe(paragraph.text);
      if (i > 0) expect(paragraph.start).toBeGreaterThan(article.paragraphs[i - 1]!.end);
    });
  });

  it('keeps the story sentences that carry the troop numbers', () => {
    const texts = (file: string) => loadSeed(file).article.paragraphs.map((p) => p.text);
    expect(texts('000_9269c2b80335e754.txt')).toContain('Washington has deployed around 2,000 troops to Syria.');
    expect(
      texts('001_b22a2843e4ff1581.txt').some((t) => t.startsWith('The Pentagon has also said there are about 2,000 troops in Syria.')),
    ).toBe(true);
    expect(texts('004_c6458dd0e0f282a6.txt').some((t) => t.includes('nearly 2,000 U.S. troops in Syria'))).toBe(true);
  });
});

describe('decodeArticleBytes', () => {
  it('returns the text of a UTF-8 file', () => {
    expect(decodeArticleBytes('a.txt', encode('Zakharová said “no”.\n'))).toBe('Zakharová said “no”.\n');
  });

  it('refuses an empty file', () => {
    const error = thrown(() => decodeArticleBytes('empty.txt', new Uint8Array()));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toMatch(/^empty\.txt: .*empty/);
  });

  it('refuses a whitespace-only file', () => {
    const error = thrown(() => decodeArticleBytes('blank.txt', encode('  \n\t\r\n   \n')));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toContain('whitespace');
  });

  it('refuses a binary file (NUL bytes)', () => {
    const error = thrown(() => decodeArticleBytes('image.txt', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x0d, 0x0a])));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toMatch(/^image\.txt: .*binary/);
  });

  it('reads UTF-16 text, with a byte order mark or without one (little- and big-endian)', () => {
    const text = 'Zakharov said “no” to Brüssel.\n';
    const le = Buffer.from(text, 'utf16le');
    const be = Buffer.from(le).swap16();
    expect(decodeArticleBytes('bom.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), le]))).toBe(text);
    expect(decodeArticleBytes('bom-be.txt', Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe(text);
    expect(decodeArticleBytes('le.txt', le)).toBe(text);
    expect(decodeArticleBytes('be.txt', be)).toBe(text);
  });

  it('refuses text full of control characters', () => {
    const bytes = encode(`${'\u0001\u0002\u0003'.repeat(20)}some words`);
    expect(thrown(() => decodeArticleBytes('ctl.txt', bytes)).message).toContain('binary');
  });

  it('refuses invalid UTF-8 (a Latin-1 file) and says to save as UTF-8', () => {
    const latin1 = new Uint8Array([...encode('Zakharov'), 0xe1, ...encode(' said no.')]);
    const error = thrown(() => decodeArticleBytes('latin1.txt', latin1));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toContain('UTF-8');
  });

  it('strips a byte-order mark', () => {
    const text = decodeArticleBytes('bom.txt', new Uint8Array([0xef, 0xbb, 0xbf, ...encode('Headline here\n')]));
    expect(text).toBe('Headline here\n');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
  });

  it('refuses an oversized file with its size in the message', () => {
    const big = new Uint8Array(5 * 1024 * 1024 + 1).fill(0x61);
    const error = thrown(() => decodeArticleBytes('huge.txt', big));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toContain(String(big.length));
  });

  it('reads a CRLF file whose paragraphs keep exact offsets and no carriage returns', () => {
    const source = [
      'Troops Stay in Syria',
      '',
      'The Pentagon said on Tuesday that about 2,000 US troops remain in Syria for now.',
      '',
      'Russia said again that the American presence there is unlawful and must end soon.',
      '',
    ].join('\r\n');
    const text = decodeArticleBytes('crlf.txt', encode(source));
    const article = parseArticle('crlf.txt', text, 'h');
    expect(article.title).toBe('Troops Stay in Syria');
    expect(article.paragraphs.map((p) => p.text)).toEqual([
      'The Pentagon said on Tuesday that about 2,000 US troops remain in Syria for now.',
      'Russia said again that the American presence there is unlawful and must end soon.',
    ]);
    for (const p of article.paragraphs) {
      expect(p.text).not.toContain('\r');
      expect(text.slice(p.start, p.end)).toBe(p.text);
    }
  });
});

describe('parseArticle on Markdown', () => {
  const note = [
    '---',
    'title: "US Troops Remain in Syria"',
    'outlet: Example Times',
    'date: January 16, 2019',
    'url: https://example.com/world/us-troops-syria',
    '---',
    '',
    '# US Troops Remain in Syria',
    '',
    'The **Pentagon** said on Tuesday that about 2,000 US troops remain in Syria, according to a [statement](https://example.com/statement) read to reporters.',
    '',
    '## Reaction in Moscow',
    '',
    '> Russian officials called the presence unlawful and said that every foreign soldier must leave the country.',
    '',
  ].join('\n');

  it('reads title, outlet, date and url from front matter', () => {
    const article = parseArticle('note.md', note, 'h');
    expect(article.title).toBe('US Troops Remain in Syria');
    expect(article.titleSource).toBe('front-matter');
    expect(article.outlet).toBe('Example Times');
    expect(article.date).toBe('2019-01-16');
    expect(article.url).toBe('https://example.com/world/us-troops-syria');
  });

  it('strips heading hashes, emphasis markers, links and quote markers from paragraphs', () => {
    const article = parseArticle('note.md', note, 'h');
    expect(article.paragraphs.map((p) => p.text)).toEqual([
      'The Pentagon said on Tuesday that about 2,000 US troops remain in Syria, according to a statement read to reporters.',
      'Russian officials called the presence unlawful and said that every foreign soldier must leave the country.',
    ]);
    expect(article.paragraphs[1]!.section).toBe('Reaction in Moscow');
    for (const p of article.paragraphs) expect(p.text).not.toMatch(/[#*[\]()>]|https?:/);
    // The front matter is not story either.
    expect(article.paragraphs.some((p) => p.text.includes('Example Times'))).toBe(false);
  });

  it('joins hard-wrapped lines of one paragraph and keeps the blank-line break between paragraphs', () => {
    const wrapped = [
      'The Pentagon said on Tuesday that about two thousand American troops are still stationed in eastern Syria,',
      'where they back Kurdish militias that fought the Islamic State group over the past four years and more,',
      'according to officials who spoke to reporters.',
      '',
      'Russia said the American presence in the country was unlawful and that all foreign forces must leave soon.',
    ].join('\n');
    const article = parseArticle('wrapped.md', `---\ntitle: Wrapped\n---\n${wrapped}\n`, 'h');
    expect(article.paragraphs.map((p) => p.text)).toEqual([
      'The Pentagon said on Tuesday that about two thousand American troops are still stationed in eastern Syria, where they back Kurdish militias that fought the Islamic State group over the past four years and more, according to officials who spoke to reporters.',
      'Russia said the American presence in the country was unlawful and that all foreign forces must leave soon.',
    ]);
  });

  it('refuses a file that holds only page furniture', () => {
    const furniture = [
      'News / Syria',
      '',
      'SHARE THIS ARTICLE',
      'Advertisement',
      '|',
      'https://example.com/',
      'Tweet | Email | Print',
    ].join('\n');
    const error = thrown(() => parseArticle('furniture.txt', furniture, 'h'));
    expect(error).toBeInstanceOf(UnreadableArticle);
    expect(error.message).toMatch(/^furniture\.txt: no paragraph/);
  });

  it('refuses a file of headings only', () => {
    expect(() => parseArticle('headings.md', '# One heading\n\n## Another heading\n', 'h')).toThrow(UnreadableArticle);
  });
});

describe('parseDate', () => {
  it.each([
    ['2017-12-22', '2017-12-22'],
    ['Published on 2019-01-16', '2019-01-16'],
    ['Dec 22 2017', '2017-12-22'],
    ['December 22, 2017', '2017-12-22'],
    ['22 December 2017', '2017-12-22'],
    ['Friday, Dec 22 2017, 2:02am', '2017-12-22'],
    ['Sept. 3, 2020', '2020-09-03'],
    ['3rd March 2021', '2021-03-03'],
    ['Feb 29, 2020', '2020-02-29'],
  ])('reads %j as %s', (input, want) => {
    expect(parseDate(input)).toBe(want);
  });

  it.each(['2017-02-30', '2017-13-01', 'February 29, 2019', '31 April 2020', '1899-01-01', 'hello', '', 'Dec 2017'])(
    'refuses %j',
    (input) => {
      expect(parseDate(input)).toBeUndefined();
    },
  );
});
