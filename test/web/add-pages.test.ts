/** Adding pages from links: what is saved where, what is refused, what is recognised as already indexed. */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseArticleFile } from '../../src/ingest/seed-files.js';
import { addLinks, fileForPage, type AddOutcome } from '../../src/web/add-pages.js';
import { fetchLink } from '../../src/web/fetch.js';
import { newsPage, startWebServer, type WebServer } from '../support/web-server.js';

const NEWS_WEB = path.resolve(import.meta.dirname, '../../../shared/eval/news-web-dev');
const hasNewsWeb = existsSync(path.join(NEWS_WEB, 'pages'));

const STORY = {
  title: 'Council votes to rebuild the old river bridge',
  byline: 'Ana Lopez',
  date: '2026-11-30T10:00:00Z',
  site: 'Example Times',
  canonical: 'https://example.org/news/bridge?utm_source=feed',
  paragraphs: [
    'The city council voted on Monday to rebuild the old river bridge, closed since the spring floods damaged its piers.',
    'The work will cost about 40 million euros — “a fair price,” the mayor said — and should take two years.',
  ],
};

let web: WebServer;
let seedsDir: string;
const fetchPage = (link: string) => fetchLink(link, { expect: 'page', allowPrivateAddresses: true });

beforeAll(async () => {
  web = await startWebServer({
    '/news/bridge': { body: newsPage(STORY) },
    '/news/bridge-copy': { body: newsPage(STORY) },
    '/latin1': {
      headers: { 'content-type': 'text/html; charset=windows-1252' },
      body: Buffer.from(
        newsPage({
          ...STORY,
          canonical: undefined,
          title: 'Caf\u00e9 owners protest new rules',
          paragraphs: ['The caf\u00e9 owners said the new rules on terraces would cost them dearly this winter season.'],
        }),
        'latin1',
      ),
    },
    '/form': { body: '<html><body><form><input name="q"></form></body></html>' },
  });
});
afterAll(() => web.close());
beforeEach(async () => {
  seedsDir = await mkdtemp(path.join(os.tmpdir(), 'citebot-add-'));
});
afterEach(() => rm(seedsDir, { recursive: true, force: true }));

const added = (outcome: AddOutcome | undefined) => {
  expect(outcome?.status).toBe('added');
  return outcome as Extract<AddOutcome, { status: 'added' }>;
};

describe('addLinks', () => {
  it('saves the page under web/<host>/ with its address, as a file the seeds folder reads back as the same article', async () => {
    const [outcome] = await addLinks([web.url('/news/bridge')], { seedsDir, fetchPage, known: [] });
    const result = added(outcome);
    expect(result.file).toBe('web/127.0.0.1/news-bridge.html');
    expect(result.article).toMatchObject({ title: STORY.title, byline: 'Ana Lopez', outlet: 'Example Times', date: '2026-11-30' });
    const bytes = await readFile(path.join(seedsDir, result.file));
    const text = bytes.toString('utf8');
    expect(
      text.startsWith(
        `\uFEFF<!-- saved from url=(${String(web.url('/news/bridge').length).padStart(4, '0')})${web.url('/news/bridge')} -->`,
      ),
    ).toBe(true);
    const reread = parseArticleFile(result.file, bytes, 'hash');
    expect(reread.title).toBe(STORY.title);
    expect(reread.url).toBe(STORY.canonical);
    expect(reread.paragraphs.map((paragraph) => paragraph.text)).toContain(STORY.paragraphs[1]);
  });

  it('keeps the charset the server declared: a windows-1252 page is saved as UTF-8 and reads back the same', async () => {
    const result = added((await addLinks([web.url('/latin1')], { seedsDir, fetchPage, known: [] }))[0]);
    const reread = parseArticleFile(result.file, await readFile(path.join(seedsDir, result.file)), 'hash');
    expect(reread.title).toBe('Caf\u00e9 owners protest new rules');
  });

  it('recognises a page already indexed by its canonical address, tracking parameters and www. aside, and saves nothing', async () => {
    const known = [{ file: 'bridge.html', title: 'The bridge story', url: 'https://www.example.org/news/bridge/' }];
    const [outcome] = await addLinks([web.url('/news/bridge-copy')], { seedsDir, fetchPage, known });
    expect(outcome).toEqual({
      link: web.url('/news/bridge-copy'),
      status: 'already-indexed',
      file: 'bridge.html',
      title: 'The bridge story',
    });
    expect(await readdir(seedsDir)).toEqual([]);
  });

  it('adds one story given twice in one call once', async () => {
    const outcomes = await addLinks([web.url('/news/bridge'), web.url('/news/bridge-copy')], { seedsDir, fetchPage, known: [] });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['added', 'already-indexed']);
  });

  it('never writes over a file: a second page with the same name gets -2', async () => {
    const first = added((await addLinks([web.url('/news/bridge')], { seedsDir, fetchPage, known: [] }))[0]);
    const second = added((await addLinks([web.url('/news/bridge')], { seedsDir, fetchPage, known: [] }))[0]);
    expect([first.file, second.file]).toEqual(['web/127.0.0.1/news-bridge.html', 'web/127.0.0.1/news-bridge-2.html']);
  });

  it('gives each bad link its own outcome and saves nothing for it; the good ones still go in', async () => {
    const outcomes = await addLinks([web.url('/form'), web.url('/missing'), 'not a link', web.url('/news/bridge')], {
      seedsDir,
      fetchPage,
      known: [],
    });
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['failed', 'failed', 'failed', 'added']);
    const reasons = outcomes.flatMap((outcome) => (outcome.status === 'failed' ? [outcome.reason] : []));
    expect(reasons[0]).toMatch(/\/form: no (article|paragraph of story text) was found on the page/);
    expect(reasons[1]).toMatch(/was not found \(HTTP 404\)/);
    expect(reasons[2]).toMatch(/is not a link/);
    expect(readdirSync(path.join(seedsDir, 'web/127.0.0.1'))).toEqual(['news-bridge.html']);
  });
});

describe('fileForPage', () => {
  it('names a page by its host and the last words of its path, in safe characters', () => {
    expect(fileForPage('https://www.Example.com/world/2026/12/03/Bridge-Vote.html?id=4')).toBe('web/example.com/03-bridge-vote.html');
    expect(fileForPage('https://news.example/')).toBe('web/news.example/index.html');
    expect(fileForPage('https://news.example/caf%C3%A9/%E2%80%AE..%2F..%2Fetc')).toMatch(/^web\/news\.example\/[a-z0-9-]+\.html$/);
    expect(fileForPage(`https://news.example/${'x'.repeat(300)}`).length).toBeLessThan(120);
  });
});

describe.skipIf(!hasNewsWeb)('the real news pages of ../shared/eval/news-web-dev, served over HTTP', () => {
  it('adds every page with the headline Readability expects', async () => {
    const metadata = readFileSync(path.join(NEWS_WEB, 'metadata.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { file: string; title: string });
    const pages = await startWebServer(
      Object.fromEntries(
        readdirSync(path.join(NEWS_WEB, 'pages')).map((file) => [
          `/${file}`,
          { headers: { 'content-type': 'text/html' }, body: readFileSync(path.join(NEWS_WEB, 'pages', file)) },
        ]),
      ),
    );
    try {
      const outcomes = await addLinks(
        metadata.map((entry) => pages.url(`/${entry.file}`)),
        { seedsDir, fetchPage, known: [] },
      );
      for (const [i, outcome] of outcomes.entries())
        expect(added(outcome).article.title, metadata[i]!.file).toBe(metadata[i]!.title.replace(/\s+/g, ' ').trim());
    } finally {
      await pages.close();
    }
  });
});
