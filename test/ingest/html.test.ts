import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseHTML } from 'linkedom';
import { describe, expect, it } from 'vitest';
import { UnreadableArticle } from '../../src/ingest/article.js';
import { cleanByline, decodeHtmlBytes, parseHtmlArticle, savedFromComment } from '../../src/ingest/html.js';
import { articlePassages } from '../../src/ingest/passages.js';
import { parseArticleFile } from '../../src/ingest/seed-files.js';
import type { Article } from '../../src/model.js';
import { REPO_ROOT } from '../helpers.js';

const NEWS_WEB = path.resolve(REPO_ROOT, '../shared/eval/news-web-dev');
const hasNewsWeb = existsSync(path.join(NEWS_WEB, 'pages'));

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

function page(body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ministers agree on the budget</title>${head}</head><body><article>${body}</article></body></html>`;
}

const STORY = [
  'The finance ministers of the eurozone agreed on Tuesday to a budget that keeps spending flat for a second year, officials said.',
  'The agreement, reached after twelve hours of talks in Brussels, sets aside money for a new fund to help regions hit by floods.',
  'Critics said the deal did little for the unemployed, and several governments asked for the rules to be looked at again next year.',
]
  .map((text) => `<p>${text}</p>`)
  .join('\n');

function parse(html: string, file = 'page.html'): Article {
  return parseHtmlArticle(file, html, 'hash');
}

describe('web pages as articles', () => {
  it('reads the headline, byline, date, canonical link and language of the page', () => {
    const article = parse(
      page(
        `<h1>Ministers agree on the budget</h1><p class="byline">By Ana Ruiz</p>${STORY}`,
        `<meta property="og:site_name" content="Daily Ledger"><link rel="canonical" href="/2024/05/07/budget">
         <meta name="author" content="Ana Ruiz"><meta property="article:published_time" content="2024-05-07T09:30:00Z">
         <!-- saved from url=(0032)https://ledger.example/print/123 -->`,
      ),
    );
    expect(article.title).toBe('Ministers agree on the budget');
    expect(article.byline).toBe('Ana Ruiz');
    expect(article.outlet).toBe('Daily Ledger');
    expect(article.date).toBe('2024-05-07');
    expect(article.lang).toBe('en');
    expect(article.paragraphs.map((paragraph) => paragraph.text)[0]).toMatch(/^The finance ministers/);
  });

  it('keeps the address a page was saved from, in the form browsers write it', () => {
    const html = `${savedFromComment('https://news.example/a/b?c=1')}\n${page(STORY)}`;
    expect(html.startsWith('<!-- saved from url=(0028)https://news.example/a/b?c=1 -->')).toBe(true);
    expect(parse(html).url).toBe('https://news.example/a/b?c=1');
  });

  it('resolves a relative canonical link against the saved address, and reads the date in the address', () => {
    const html = `${savedFromComment('https://news.example/print/9')}${page(STORY, '<link rel="canonical" href="/2019/04/30/neon/">')}`;
    const article = parse(html);
    expect(article.url).toBe('https://news.example/2019/04/30/neon/');
    expect(article.date).toBe('2019-04-30');
  });

  it('takes the date from JSON-LD and from a date as the `date` command writes it, without shifting the day', () => {
    const jsonLd = `<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsArticle","headline":"Ministers agree on the budget","datePublished":"2021-11-02T23:30:00-05:00"}</script>`;
    expect(parse(page(STORY, jsonLd)).date).toBe('2021-11-02');
    expect(parse(page(STORY, '<meta name="article:publicationdate" content="Fri Mar 13 21:30:09 EST 2015">')).date).toBe('2015-03-13');
  });

  it('an outlet that is only an address becomes its host; a known host its name', () => {
    expect(parse(page(STORY, '<meta property="og:site_name" content="http://www.tmz.com">')).outlet).toBe('tmz.com');
    expect(parse(page(STORY, '<link rel="canonical" href="https://www.nytimes.com/2016/07/30/x.html">')).outlet).toBe('The New York Times');
  });

  it('keeps list items and block quotes; drops captions, asides, forms, share bars, newsletter boxes and related links', () => {
    const article = parse(
      page(`
        ${STORY}
        <figure><img src="x.jpg"><figcaption>Ministers arrive in Brussels on Tuesday. (Photo: Reuters)</figcaption></figure>
        <blockquote><p>“This budget protects the regions that need it most,” the commission’s president said.</p></blockquote>
        <ul><li>Flood fund: 2 billion euros</li><li>Spending: flat</li></ul>
        <div class="share-bar"><p>Share this on Twitter</p><p>Share on Facebook</p></div>
        <section class="c-newsletter"><h2>Keep up with the Daily Ledger newsletter.</h2><label>The best way to follow issues.</label></section>
        <aside><p>Most read today: a long aside about something else that is not the story at all, honestly.</p></aside>
        <p><a href="/other">Ministers clash over fishing quotas</a></p>
        <p>Related: Ministers clash over fishing quotas</p>
        <p>- Advertisement -</p>
        <form><p>Leave a comment about what you think of this article in the box below, please.</p></form>
      `),
    );
    const texts = article.paragraphs.map((paragraph) => paragraph.text);
    expect(texts).toContain('“This budget protects the regions that need it most,” the commission’s president said.');
    expect(texts).toContain('Flood fund: 2 billion euros');
    expect(texts.join('\n')).not.toMatch(/Photo|Share this|newsletter|best way|Most read|fishing quotas|Advertisement|Leave a comment/);
  });

  it('a heading above paragraphs names their section; a heading that is a whole sentence is a paragraph', () => {
    const article = parse(
      page(
        `<h2>The president of the commission said on Tuesday that the budget would protect the regions hardest hit by the floods.</h2>${STORY}<h2>What comes next</h2><p>The parliament votes on the budget in June, and a majority is expected to back it.</p>`,
      ),
    );
    expect(article.paragraphs[0]!.text).toMatch(/^The president of the commission/);
    expect(article.paragraphs.at(-1)!.section).toBe('What comes next');
  });

  it('decodes the charset the page declares, and reads undeclared UTF-8 as UTF-8', () => {
    // "—", "“" and "”" are 0x97, 0x93 and 0x94 in windows-1252, "ç" is 0xE7.
    const [before, after] = page(STORY).replace('utf-8', 'windows-1252').split('Brussels');
    const bytes = Buffer.concat([
      Buffer.from(before!, 'latin1'),
      Buffer.from([0x42, 0x72, 0x75, 0x78, 0x65, 0x6c, 0x6c, 0x65, 0x73, 0x20, 0x97, 0x20, 0x93, 0xe7, 0x61, 0x94]),
      Buffer.from(after!, 'latin1'),
    ]);
    expect(decodeHtmlBytes('a.html', bytes)).toContain('Bruxelles — “ça”');
    const undeclared = Buffer.from(page(STORY.replace('Brussels', 'Brüssel')).replace('<meta charset="utf-8">', ''), 'utf8');
    expect(decodeHtmlBytes('b.html', undeclared)).toContain('Brüssel');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(page(STORY.replace('Brussels', 'Brüssel')), 'utf16le')]);
    expect(decodeHtmlBytes('c.html', utf16)).toContain('Brüssel');
  });

  it('refuses, with a reason, what is not an article: empty, binary, a page with no story', () => {
    expect(() => decodeHtmlBytes('e.html', new Uint8Array())).toThrow(/e\.html: the page is empty/);
    expect(() => decodeHtmlBytes('b.html', new Uint8Array(4000))).toThrow(/binary/);
    expect(() => parse('<html><body><nav><a href="/">Home</a></nav><form><input name="q"></form></body></html>', 'index.html')).toThrow(
      UnreadableArticle,
    );
    expect(() => parse('<html><body><p>Hi</p></body></html>', 'short.html')).toThrow(/short\.html: no /);
    expect(() => parse('not html at all \u0000\u0001', 'junk.html')).toThrow(UnreadableArticle);
  });

  it('reads a page body saved without <html> and <body>, and calls random bytes binary', () => {
    const fragment = STORY.split('\n').slice(0, 2).join('\n');
    expect(parse(fragment, 'fragment.html').paragraphs).toHaveLength(2);
    const noise = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919 + 13) % 256);
    expect(() => decodeHtmlBytes('noise.html', noise)).toThrow(/noise\.html: the file is binary/);
  });

  it('scripts, styles and templates never become text', () => {
    const article = parse(page(`${STORY}<script>var story = "The finance ministers said nothing";</script><style>p{}</style>`));
    expect(article.paragraphs.map((paragraph) => paragraph.text).join(' ')).not.toMatch(/var story|p\{\}/);
  });

  it('cleans bylines the way pages print them', () => {
    expect(cleanByline('By GILLIAN MOHNEY\n                March 11, 2015 3:46 PM')).toBe('Gillian Mohney');
    expect(cleanByline('by Lucas Nolan22 Dec 2016651')).toBe('Lucas Nolan');
    expect(cleanByline('By Kelli  Miller\n   WebMD Health News')).toBe('Kelli Miller');
    expect(cleanByline("JOE O'HILDEBRAND")).toBe("Joe O'Hildebrand");
    expect(cleanByline('Nelson D. Schwartz')).toBe('Nelson D. Schwartz');
    expect(cleanByline('  ')).toBeUndefined();
    expect(cleanByline(null)).toBeUndefined();
  });

  it('seeds of both kinds go through the one entry point', () => {
    expect(parseArticleFile('x/Page.HTM', Buffer.from(page(STORY)), 'h').paragraphs.length).toBe(3);
  });
});

interface PageMetadata {
  file: string;
  title: string;
  byline: string | null;
  siteName: string | null;
  publishedTime: string | null;
}
interface WebQuestion {
  id: string;
  expect: Array<[string, string]>;
}

const readJsonl = <T>(file: string): T[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);

// Page furniture, as a reader would name it: none of it may become a passage.
const FURNITURE = [
  /^(share|tweet|email|print)\b/i,
  /\bnewsletter\b/i,
  /^(related|read more|see also|more from)\b/i,
  /^(sign up|subscribe|follow us)\b/i,
  /advertisement/i,
  /^©|copyright/i,
  /\border reprints\b|today’s paper/i,
  /^\s*(comments?|\d+ comments?)\s*$/i,
];

describe.skipIf(!hasNewsWeb)('the real news pages of ../shared/eval/news-web-dev', () => {
  const metadata = hasNewsWeb ? readJsonl<PageMetadata>(path.join(NEWS_WEB, 'metadata.jsonl')) : [];
  const questions = hasNewsWeb ? readJsonl<WebQuestion>(path.join(NEWS_WEB, 'questions.jsonl')) : [];
  const articles = new Map<string, Article>();
  const captions = new Map<string, string[]>();
  for (const file of hasNewsWeb ? readdirSync(path.join(NEWS_WEB, 'pages')) : []) {
    const bytes = readFileSync(path.join(NEWS_WEB, 'pages', file));
    articles.set(file, parseArticleFile(file, bytes, 'hash'));
    const { document } = parseHTML(bytes.toString('utf8')) as unknown as {
      document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
    };
    captions.set(
      file,
      Array.from(document.querySelectorAll('figcaption, .caption, [class*="caption"]'))
        .map((element) => collapse(element.textContent ?? ''))
        .filter((text) => text.length >= 20),
    );
  }

  it('every page is an article', () => {
    expect([...articles.keys()].sort()).toEqual(metadata.map((page) => page.file).sort());
  });

  it.each(metadata.map((page) => [page.file, page] as const))('%s: headline, byline, outlet and date match the page', (file, expected) => {
    const article = articles.get(file)!;
    expect(article.title).toBe(collapse(expected.title));
    if (expected.byline) expect(collapse(expected.byline).toLowerCase()).toContain(article.byline!.toLowerCase());
    else expect(article.byline).toBeUndefined();
    if (expected.siteName && !/^https?:/.test(expected.siteName)) expect(article.outlet).toBe(expected.siteName);
    if (expected.publishedTime) expect(article.date).toBe(expected.publishedTime.slice(0, 10));
  });

  it('every question’s key phrase is inside some passage: extraction loses no answer', () => {
    const passages = [...articles.values()].flatMap((article) => articlePassages(article));
    const missing = questions.filter(
      (question) =>
        !question.expect.some(([file, phrase]) =>
          passages.some((passage) => passage.file === file && collapse(passage.text).includes(phrase)),
        ),
    );
    expect(missing.map((question) => question.id)).toEqual([]);
  });

  it('no passage is page furniture or a photo caption', () => {
    const offending: string[] = [];
    for (const [file, article] of articles) {
      for (const paragraph of article.paragraphs) {
        if (FURNITURE.some((pattern) => pattern.test(paragraph.text))) offending.push(`${file}: ${paragraph.text.slice(0, 80)}`);
        if (captions.get(file)!.some((caption) => paragraph.text.includes(caption)))
          offending.push(`${file} caption: ${paragraph.text.slice(0, 80)}`);
      }
    }
    expect(offending).toEqual([]);
  });

  it('every page but one states a date, and every page with an address has one', () => {
    const undated = [...articles.values()].filter((article) => !article.date).map((article) => article.file);
    expect(undated).toEqual(['webmd-2.html']);
    expect([...articles.values()].filter((article) => article.url && !article.date)).toEqual([]);
  });
});
