/**
 * News feeds: reading the items of RSS, Atom, RDF and JSON Feed; telling a web page or garbage from a
 * feed; polling (what is new, what waits, what is tried again, one failed feed never stops the others);
 * and the state file kept between polls. No network: fetching and adding are fakes.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AddOutcome } from '../../src/web/add-pages.js';
import { FetchFailed, type Fetched } from '../../src/web/fetch.js';
import {
  FeedUnreadable,
  pollFeeds,
  readFeedItems,
  readFeedState,
  writeFeedState,
  type FeedState,
  type PollOptions,
} from '../../src/web/feeds.js';

const FEED_URL = 'https://news.example/feeds/world.xml';

function fetched(body: string, options: Partial<Fetched> = {}): Fetched {
  return { url: FEED_URL, status: 200, notModified: false, bytes: Buffer.from(body), ...options };
}

const read = (body: string, contentType?: string) => readFeedItems(fetched(body, { contentType }), FEED_URL);

/** The FeedUnreadable a read ends in. */
function unreadable(body: string, contentType?: string): FeedUnreadable {
  try {
    read(body, contentType);
  } catch (error) {
    expect(error).toBeInstanceOf(FeedUnreadable);
    return error as FeedUnreadable;
  }
  throw new Error('the body was read as a feed');
}

const RSS = `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>World</title><link>https://news.example/</link><description>World news</description>
<item><title>Harbour reopens</title><link>/news/harbour</link><guid isPermaLink="false">harbour-2026</guid></item>
<item><title>Bridge vote</title><link>bridge</link></item>
<item><title>Script</title><link>javascript:alert(1)</link><guid>script</guid></item>
</channel></rss>`;

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>World</title><id>urn:world</id><updated>2026-12-01T00:00:00Z</updated>
<entry><title>Harbour reopens</title><id>urn:harbour</id><updated>2026-12-01T00:00:00Z</updated>
  <link rel="self" href="https://news.example/api/harbour.xml"/><link rel="alternate" type="text/html" href="/news/harbour"/></entry>
<entry><title type="text">Bridge vote</title><id>urn:bridge</id><updated>2026-12-01T00:00:00Z</updated><link href="https://news.example/news/bridge"/></entry>
</feed>`;

const JSON_FEED = JSON.stringify({
  version: 'https://jsonfeed.org/version/1.1',
  title: 'World',
  items: [
    { id: 'j-harbour', url: '/news/harbour', title: 'Harbour reopens', content_text: 'The harbour reopened.' },
    { id: 'j-elsewhere', external_url: 'https://other.example/story', content_text: 'Elsewhere.' },
  ],
});

const RDF = `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="https://news.example/"><title>World</title><link>https://news.example/</link><description>World news</description></channel>
<item rdf:about="https://news.example/news/harbour"><title>Harbour reopens</title><link>https://news.example/news/harbour</link></item>
</rdf:RDF>`;

describe('reading feed items', () => {
  it('reads RSS 2.0: guid as the id (else the link), links resolved against the feed, non-http links dropped', () => {
    expect(read(RSS)).toEqual([
      { id: 'harbour-2026', link: 'https://news.example/news/harbour', title: 'Harbour reopens' },
      { id: 'https://news.example/feeds/bridge', link: 'https://news.example/feeds/bridge', title: 'Bridge vote' },
    ]);
  });

  it('reads Atom, taking the alternate link rather than the self link', () => {
    expect(read(ATOM)).toEqual([
      { id: 'urn:harbour', link: 'https://news.example/news/harbour', title: 'Harbour reopens' },
      { id: 'urn:bridge', link: 'https://news.example/news/bridge', title: 'Bridge vote' },
    ]);
  });

  it('reads JSON Feed 1.1, with external_url when an item has no url', () => {
    expect(read(JSON_FEED, 'application/feed+json')).toEqual([
      { id: 'j-harbour', link: 'https://news.example/news/harbour', title: 'Harbour reopens' },
      { id: 'j-elsewhere', link: 'https://other.example/story' },
    ]);
  });

  it('reads RDF (RSS 1.0), the link being the id', () => {
    expect(read(RDF)).toEqual([
      { id: 'https://news.example/news/harbour', link: 'https://news.example/news/harbour', title: 'Harbour reopens' },
    ]);
  });

  it('resolves relative links against where the feed came from after redirects', () => {
    const items = readFeedItems(fetched(RSS, { url: 'https://moved.example/rss/all' }), FEED_URL);
    expect(items.map((item) => item.link)).toEqual(['https://moved.example/news/harbour', 'https://moved.example/rss/bridge']);
  });

  it('reads a feed that starts with a byte-order mark', () => {
    expect(read(`\uFEFF${RSS}`)).toHaveLength(2);
  });

  it('says a feed is empty when the server sent nothing', () => {
    expect(unreadable('').message).toBe(`${FEED_URL}: the feed is empty (the server sent nothing).`);
    expect(unreadable(' \n\t').message).toMatch(/the feed is empty/);
  });

  it('tells a web page from a feed, and names the feed the page advertises', () => {
    const page = `<!doctype html><html><head><title>World</title>
      <link rel="stylesheet" href="/style.css">
      <link rel="alternate" type="application/rss+xml" title="World" href="/feed.xml"></head><body><p>News</p></body></html>`;
    const error = unreadable(page, 'text/html');
    expect(error.message).toContain(`${FEED_URL} is a web page, not a feed`);
    expect(error.message).toContain('The page names its feed: https://news.example/feed.xml');
  });

  it('tells a web page without a feed link, by its content type or by how it starts', () => {
    const plain = unreadable('<!DOCTYPE html><html><body><p>News</p></body></html>');
    expect(plain.message).toContain('is a web page, not a feed');
    expect(plain.message).toContain('Add the page itself with `add`');
    expect(unreadable('<div><p>News</p></div>', 'text/html').message).toContain('is a web page, not a feed');
  });

  it('refuses garbage as not a feed', () => {
    const error = unreadable('hello, this is not a feed', 'text/plain');
    expect(error.message).toMatch(new RegExp(`^${FEED_URL.replace(/[.]/g, '\\.')} is not a feed citebot can read \\(.+\\)\\.$`));
  });

  it('never shows the credentials of a feed link', () => {
    try {
      readFeedItems(fetched(''), 'https://alice:hunter2@news.example/feed.xml');
      throw new Error('read');
    } catch (error) {
      expect((error as Error).message).toContain('https://news.example/feed.xml');
      expect((error as Error).message).not.toMatch(/alice|hunter2/);
    }
  });
});

/** An RSS feed listing `ids`, each at https://news.example/news/<id>. */
function rss(ids: readonly string[]): string {
  const items = ids.map((id) => `<item><title>Story ${id}</title><link>/news/${id}</link><guid>${id}</guid></item>`).join('\n');
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://news.example/</link><description>d</description>${items}</channel></rss>`;
}

const linkOf = (id: string) => `https://news.example/news/${id}`;
const idOf = (link: string) => link.slice(link.lastIndexOf('/') + 1);

/** Fake fetchFeed and addLinks: feeds answer what `answers` says; every link is added unless `fail` says otherwise. */
function fakes(answers: Record<string, () => Fetched>, fail: Record<string, { failure?: string; reason: string }> = {}) {
  const fetches: Array<{ link: string; etag?: string; lastModified?: string }> = [];
  const added: string[][] = [];
  const options: PollOptions = {
    fetchFeed: async (link, validators) => {
      fetches.push({ link, ...validators });
      const answer = answers[link];
      if (!answer) throw new Error(`no answer for ${link}`);
      return answer();
    },
    addLinks: async (links) => {
      added.push(links);
      return links.map((link): AddOutcome => {
        const failed = fail[idOf(link)];
        return failed
          ? { link, status: 'failed', ...failed }
          : { link, status: 'already-indexed', file: `web/${idOf(link)}.html`, title: idOf(link) };
      });
    },
    now: () => new Date('2026-12-01T12:00:00Z'),
  };
  return { options, fetches, added };
}

const emptyState = (): FeedState => ({ version: 1, feeds: {} });

describe('polling feeds', () => {
  it('adds the new items, a few a poll, and nothing once every item is handled', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const { options, added, fetches } = fakes({
      [FEED_URL]: () => fetched(rss(ids), { etag: '"e1"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' }),
    });
    const state = emptyState();

    const [first] = await pollFeeds([FEED_URL], state, { ...options, maxItemsPerPoll: 3 });
    expect(first).toMatchObject({ feed: FEED_URL, status: 'new-items', items: 5 });
    expect(first?.outcomes.map((outcome) => outcome.link)).toEqual(['a', 'b', 'c'].map(linkOf));
    expect(added).toEqual([['a', 'b', 'c'].map(linkOf)]);
    expect(state.feeds[FEED_URL]?.seen).toEqual(['a', 'b', 'c']);
    expect(state.feeds[FEED_URL]?.checkedAt).toBe('2026-12-01T12:00:00.000Z');
    // Items are left for later, so the next poll must fetch the feed in full: no validators kept.
    expect(state.feeds[FEED_URL]?.etag).toBeUndefined();

    const [second] = await pollFeeds([FEED_URL], state, { ...options, maxItemsPerPoll: 3 });
    expect(second?.status).toBe('new-items');
    expect(added[1]).toEqual(['d', 'e'].map(linkOf));
    expect(fetches[1]).toEqual({ link: FEED_URL, etag: undefined, lastModified: undefined });
    expect(state.feeds[FEED_URL]?.etag).toBe('"e1"');

    const [third] = await pollFeeds([FEED_URL], state, { ...options, maxItemsPerPoll: 3 });
    expect(third).toMatchObject({ status: 'nothing-new', items: 5, outcomes: [] });
    expect(added).toHaveLength(2);
    // Every item handled: the validators of the last fetch go with the next one.
    expect(fetches[2]).toEqual({ link: FEED_URL, etag: '"e1"', lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT' });
  });

  it('takes 20 new items a poll unless told otherwise', async () => {
    const ids = Array.from({ length: 25 }, (_, index) => `item-${index}`);
    const { options, added } = fakes({ [FEED_URL]: () => fetched(rss(ids)) });
    await pollFeeds([FEED_URL], emptyState(), options);
    expect(added[0]).toEqual(ids.slice(0, 20).map(linkOf));
  });

  it('reports an unchanged feed (304) without reading or adding anything, keeping its validators', async () => {
    const { options, added, fetches } = fakes({
      [FEED_URL]: () => fetched('', { status: 304, notModified: true, etag: '"e1"' }),
    });
    const state: FeedState = {
      version: 1,
      feeds: { [FEED_URL]: { etag: '"e1"', lastModified: 'Mon, 30 Nov 2026 08:00:00 GMT', seen: ['a'] } },
    };
    const reports = await pollFeeds([FEED_URL], state, options);
    expect(reports).toEqual([{ feed: FEED_URL, status: 'unchanged', items: 0, outcomes: [] }]);
    expect(fetches).toEqual([{ link: FEED_URL, etag: '"e1"', lastModified: 'Mon, 30 Nov 2026 08:00:00 GMT' }]);
    expect(added).toEqual([]);
    expect(state.feeds[FEED_URL]).toEqual({
      etag: '"e1"',
      lastModified: 'Mon, 30 Nov 2026 08:00:00 GMT',
      seen: ['a'],
      checkedAt: '2026-12-01T12:00:00.000Z',
    });
  });

  it('tries a page again next poll when the site was down, but not one that is no article', async () => {
    const ids = ['slow', 'offline', 'busy', 'not-article', 'missing', 'fine'];
    const { options, added } = fakes(
      { [FEED_URL]: () => fetched(rss(ids), { etag: '"e1"' }) },
      {
        slow: { failure: 'timeout', reason: 'did not answer within 15 s.' },
        offline: { failure: 'network', reason: 'refused the connection.' },
        busy: { failure: 'http-status', reason: 'had a server error; try again later (HTTP 503).' },
        'not-article': { failure: 'no-article', reason: 'is not an article.' },
        missing: { failure: 'http-status', reason: 'was not found (HTTP 404).' },
      },
    );
    const state = emptyState();
    const [first] = await pollFeeds([FEED_URL], state, options);
    expect(first?.status).toBe('new-items');
    expect(state.feeds[FEED_URL]?.seen).toEqual(['not-article', 'missing', 'fine']);
    // Some items wait for another try, so the feed is fetched in full next time.
    expect(state.feeds[FEED_URL]?.etag).toBeUndefined();

    await pollFeeds([FEED_URL], state, options);
    expect(added[1]).toEqual(['slow', 'offline', 'busy'].map(linkOf));
  });

  it('reports a feed that fails and goes on with the next one', async () => {
    const other = 'https://other.example/rss';
    const garbage = 'https://garbage.example/rss';
    const { options, fetches, added } = fakes({
      [FEED_URL]: () => {
        throw new FetchFailed('timeout', `${FEED_URL} did not answer within 15 s.`);
      },
      [garbage]: () => fetched('not a feed at all', { url: garbage, contentType: 'text/plain' }),
      [other]: () => fetched(rss(['x']), { url: other }),
    });
    const state = emptyState();
    const reports = await pollFeeds([FEED_URL, 'https://nowhere.example/feed', garbage, other], state, options);
    expect(reports.map((report) => report.status)).toEqual(['failed', 'failed', 'failed', 'new-items']);
    expect(reports[0]?.reason).toBe(`${FEED_URL} did not answer within 15 s.`);
    // An error that is not citebot's own is said with the feed's address.
    expect(reports[1]?.reason).toBe('https://nowhere.example/feed could not be polled (no answer for https://nowhere.example/feed).');
    expect(reports[2]?.reason).toMatch(/^https:\/\/garbage\.example\/rss is not a feed citebot can read/);
    expect(fetches.map((fetch) => fetch.link)).toEqual([FEED_URL, 'https://nowhere.example/feed', garbage, other]);
    expect(added).toEqual([['https://other.example/news/x']]);
    // A failed feed leaves no record: its next poll is a first poll.
    expect(Object.keys(state.feeds)).toEqual([other]);
  });

  it('keeps at most 2000 seen ids a feed, dropping the oldest', async () => {
    const old = Array.from({ length: 2000 }, (_, index) => `old-${index}`);
    const { options } = fakes({ [FEED_URL]: () => fetched(rss(['n1', 'n2', 'n3', 'n4', 'n5'])) });
    const state: FeedState = { version: 1, feeds: { [FEED_URL]: { seen: [...old] } } };
    await pollFeeds([FEED_URL], state, options);
    const seen = state.feeds[FEED_URL]?.seen ?? [];
    expect(seen).toHaveLength(2000);
    expect(seen.slice(-5)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(seen[0]).toBe('old-5');
  });

  it('keeps every id the feed still lists, even above 2000, so none comes back as new', async () => {
    const ids = Array.from({ length: 2100 }, (_, index) => `i${index}`);
    const { options, added } = fakes({ [FEED_URL]: () => fetched(rss(ids)) });
    const state = emptyState();
    await pollFeeds([FEED_URL], state, { ...options, maxItemsPerPoll: 2100 });
    expect(added[0]).toHaveLength(2100);
    expect(state.feeds[FEED_URL]?.seen).toHaveLength(2100);
    const again = await pollFeeds([FEED_URL], state, { ...options, maxItemsPerPoll: 2100 });
    expect(again[0]?.status).toBe('nothing-new');
    expect(added).toHaveLength(1);
  });
});

describe('the feed state file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'citebot-feeds-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const warnings: string[] = [];
  const warn = (message: string) => void warnings.push(message);
  beforeEach(() => void warnings.splice(0));

  it('starts empty when there is no file yet', async () => {
    expect(await readFeedState(path.join(dir, 'feeds.json'), warn)).toEqual({ version: 1, feeds: {} });
    expect(warnings).toEqual([]);
  });

  it('reads back what was written, creating the folder', async () => {
    const file = path.join(dir, 'state', 'nested', 'feeds.json');
    const state: FeedState = {
      version: 1,
      feeds: {
        [FEED_URL]: {
          etag: '"e1"',
          lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT',
          seen: ['a', 'b'],
          checkedAt: '2026-12-01T12:00:00.000Z',
        },
        'https://other.example/rss': { seen: [] },
      },
    };
    await writeFeedState(file, state);
    expect(await readFeedState(file, warn)).toEqual(state);
    expect(warnings).toEqual([]);
  });

  it.each([
    ['not JSON', '{"version": 1, "feeds": {'],
    ['another version', '{"version": 2, "feeds": {}}'],
    ['the wrong shape', '{"version": 1, "feeds": {"https://news.example/rss": {"seen": "a"}}}'],
  ])('sets a damaged file (%s) aside, warns, and starts afresh', async (_kind, content) => {
    const file = path.join(dir, 'feeds.json');
    await writeFile(file, content);
    expect(await readFeedState(file, warn)).toEqual({ version: 1, feeds: {} });

    const files = await readdir(dir);
    expect(files).not.toContain('feeds.json');
    const aside = files.find((name) => name.startsWith('feeds.json.damaged-'));
    expect(aside).toBeDefined();
    expect(await readFile(path.join(dir, aside ?? ''), 'utf8')).toBe(content);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`The feed state file ${file} is damaged`);
    expect(warnings[0]).toContain(path.join(dir, aside ?? ''));
  });

  it('refuses a state file it cannot read, rather than starting afresh', async () => {
    await expect(readFeedState(dir, warn)).rejects.toThrow(FeedUnreadable);
    await expect(readFeedState(dir, warn)).rejects.toThrow(/cannot be read \(EISDIR\)/);
  });

  it('carries what was seen from one run to the next', async () => {
    const file = path.join(dir, 'feeds.json');
    const { options, added } = fakes({ [FEED_URL]: () => fetched(rss(['a', 'b']), { etag: '"e1"' }) });
    const state = await readFeedState(file, warn);
    await pollFeeds([FEED_URL], state, options);
    await writeFeedState(file, state);

    const again = await readFeedState(file, warn);
    const [report] = await pollFeeds([FEED_URL], again, options);
    expect(report?.status).toBe('nothing-new');
    expect(added).toHaveLength(1);
  });
});
