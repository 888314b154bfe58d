/**
 * Fetching a pasted link as a server that cannot trust it must: the address policy on every hop, one
 * deadline, size caps (also after decompression), redirect caps and loops, content types, credentials,
 * conditional GETs. Everything runs against local servers on 127.0.0.1 (and 127.0.0.2 for a second host).
 */
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressVerdict } from '../../src/web/address-policy.js';
import { checkLink, displayUrl, FetchFailed, fetchLink, type FetchOptions } from '../../src/web/fetch.js';
import { newsPage, startWebServer, type WebServer } from '../support/web-server.js';

const PAGE = newsPage({
  title: 'Harbour reopens after the storm',
  paragraphs: ['The harbour reopened on Friday, three days after the storm tore two cranes from their rails.'],
});
const MB = 1024 * 1024;
const BIG = Buffer.from(`<html><body>${'b'.repeat(2 * MB)}</body></html>`);

let web: WebServer;
/** A second host: 127.0.0.2 is loopback too, so only an address policy tells it apart from 127.0.0.1. */
let other: WebServer;
/** How many bytes the endless route had written when the client hung up. */
let streamed: Promise<number>;

const local = (options: Partial<FetchOptions> = {}): FetchOptions => ({ expect: 'page', allowPrivateAddresses: true, ...options });

/** The FetchFailed a fetch ends in (fails the test if it resolves or throws something else). */
async function failure(fetching: Promise<unknown>): Promise<FetchFailed> {
  const error = await fetching.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FetchFailed);
  return error as FetchFailed;
}

function redirect(location: string, status = 302) {
  return { status, headers: { location }, body: '' };
}

/** Writes 50 MB in 64 KB chunks, waiting for the client to read each one, until it has all gone or the client leaves. */
function endlessBody(onClose: (sent: number) => void) {
  return (_request: unknown, response: ServerResponse) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    response.on('error', () => undefined);
    response.on('close', () => onClose(sent));
    const pump = () => {
      while (sent < 50 * MB && !response.destroyed) {
        sent += chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  };
}

beforeAll(async () => {
  other = await startWebServer({ '/elsewhere': { body: PAGE } }, '127.0.0.2');
  let streamDone: (sent: number) => void = () => undefined;
  streamed = new Promise((resolve) => (streamDone = resolve));
  web = await startWebServer({
    '/news/harbour': { body: PAGE },
    '/latin1': { headers: { 'content-type': 'text/html; charset=ISO-8859-1' }, body: Buffer.from(PAGE, 'latin1') },
    '/quoted-charset': { headers: { 'content-type': 'text/html;charset="windows-1252"' }, body: PAGE },
    '/missing': { status: 404, body: '<html><body>Gone</body></html>' },
    '/broken': { status: 500, body: '<html><body>Oops</body></html>' },
    '/silent': () => undefined,
    '/data.json': { headers: { 'content-type': 'application/json' }, body: '{"a":1}' },
    '/feed.xml': { headers: { 'content-type': 'application/rss+xml' }, body: '<rss version="2.0"><channel></channel></rss>' },
    '/untyped-text': (_request, response) => void response.writeHead(200).end('just some words'),
    '/untyped-html': (_request, response) => void response.writeHead(200).end(PAGE),
    '/big': { headers: { 'content-length': String(BIG.length) }, body: BIG },
    '/endless': endlessBody((sent) => streamDone(sent)),
    '/gzip': { headers: { 'content-encoding': 'gzip' }, body: gzipSync(Buffer.from(PAGE)) },
    '/bomb': { headers: { 'content-encoding': 'gzip' }, body: gzipSync(Buffer.alloc(20 * MB, 'a')) },
    '/loop-a': redirect('/loop-b'),
    '/loop-b': redirect('/loop-a'),
    '/chain/0': redirect('/chain/1'),
    '/chain/1': redirect('/chain/2', 301),
    '/chain/2': redirect('/chain/3', 307),
    '/chain/3': redirect('/chain/4', 308),
    '/chain/4': { body: PAGE },
    '/dir/relative': redirect('../news/harbour'),
    '/to-other': redirect(`${other.origin}/elsewhere`),
    '/to-self': redirect('/news/harbour'),
    '/to-ftp': redirect('ftp://files.example.com/story'),
    '/conditional': (request, response) => {
      const headers = { etag: '"v1"', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT', 'content-type': 'text/html' };
      if (request.headers['if-none-match'] === '"v1"') return void response.writeHead(304, headers).end();
      response.writeHead(200, headers).end(PAGE);
    },
    '/since': (request, response) => {
      if (request.headers['if-modified-since'] === 'Tue, 01 Dec 2026 10:00:00 GMT') return void response.writeHead(304).end();
      response.writeHead(200, { 'content-type': 'text/html', 'last-modified': 'Tue, 01 Dec 2026 10:00:00 GMT' }).end(PAGE);
    },
  });
});
afterAll(async () => {
  await Promise.all([web?.close(), other?.close()]);
});

const pathsAsked = (server: WebServer) => server.requests.map((request) => request.path);

describe('fetching a page', () => {
  it('brings back the page with its address, status, content type and charset', async () => {
    const fetched = await fetchLink(web.url('/news/harbour'), local());
    expect(fetched.url).toBe(web.url('/news/harbour'));
    expect(fetched.status).toBe(200);
    expect(fetched.notModified).toBe(false);
    expect(fetched.contentType).toBe('text/html');
    expect(fetched.charset).toBe('utf-8');
    expect(fetched.bytes.toString('utf8')).toBe(PAGE);
  });

  it('returns the charset the server declared, quoted or not', async () => {
    const latin1 = await fetchLink(web.url('/latin1'), local());
    expect(latin1.charset).toBe('ISO-8859-1');
    expect(latin1.bytes.equals(Buffer.from(PAGE, 'latin1'))).toBe(true);
    expect((await fetchLink(web.url('/quoted-charset'), local())).charset).toBe('windows-1252');
  });

  it('decodes a gzip-encoded page', async () => {
    const fetched = await fetchLink(web.url('/gzip'), local());
    expect(fetched.bytes.toString('utf8')).toBe(PAGE);
  });

  it('accepts a page sent without a content type when it looks like HTML, and refuses one that does not', async () => {
    expect((await fetchLink(web.url('/untyped-html'), local())).bytes.toString('utf8')).toBe(PAGE);
    const refused = await failure(fetchLink(web.url('/untyped-text'), local()));
    expect(refused.failure).toBe('not-html');
    expect(refused.message).toMatch(/sent no content type and does not look like a web page/);
  });
});

describe('the address policy', () => {
  it('refuses a loopback address in the link unless private addresses are allowed', async () => {
    const before = web.requests.length;
    const refused = await failure(fetchLink(web.url('/news/harbour'), { expect: 'page' }));
    expect(refused.failure).toBe('not-public');
    expect(refused.message).toContain('127.0.0.1 is a loopback address');
    expect(refused.message).toContain('ALLOW_PRIVATE_URLS');
    // Refused before connecting: the server never saw the request.
    expect(web.requests.length).toBe(before);
  });

  it('refuses a host name once DNS says where it points', async () => {
    const link = web.url('/news/harbour').replace('127.0.0.1', 'localhost');
    const refused = await failure(fetchLink(link, { expect: 'page' }));
    expect(refused.failure).toBe('not-public');
    expect(refused.message).toMatch(/localhost resolves to a loopback address, (127\.0\.0\.1|::1)/);
  });

  it('checks every redirect hop again', async () => {
    const onlyFirstHost = (address: string): AddressVerdict =>
      address === '127.0.0.1' ? { public: true } : { public: false, why: 'not the test host' };
    // The policy does let the first host through, redirect and all.
    const allowed = await fetchLink(web.url('/to-self'), { expect: 'page', addressPolicy: onlyFirstHost });
    expect(allowed.url).toBe(web.url('/news/harbour'));

    const refused = await failure(fetchLink(web.url('/to-other'), { expect: 'page', addressPolicy: onlyFirstHost }));
    expect(refused.failure).toBe('not-public');
    expect(refused.message).toContain('127.0.0.2 is not the test host');
    expect(other.requests).toEqual([]);
  });

  it('lets allowPrivateAddresses follow a redirect to another private host', async () => {
    const fetched = await fetchLink(web.url('/to-other'), local());
    expect(fetched.url).toBe(`${other.origin}/elsewhere`);
    expect(pathsAsked(other)).toContain('/elsewhere');
  });
});

describe('what the server answers', () => {
  it('names a missing page', async () => {
    const refused = await failure(fetchLink(web.url('/missing'), local()));
    expect(refused.failure).toBe('http-status');
    expect(refused.status).toBe(404);
    expect(refused.message).toBe(`${web.url('/missing')} was not found (HTTP 404).`);
  });

  it('names a server error', async () => {
    const refused = await failure(fetchLink(web.url('/broken'), local()));
    expect(refused.failure).toBe('http-status');
    expect(refused.status).toBe(500);
    expect(refused.message).toMatch(/had a server error; try again later \(HTTP 500\)/);
  });

  it('gives up on a server that never answers when the deadline passes', async () => {
    const refused = await failure(fetchLink(web.url('/silent'), local({ timeoutMs: 500 })));
    expect(refused.failure).toBe('timeout');
    expect(refused.message).toMatch(/\/silent did not answer within \d+ ms\./);
  });

  it('says when nothing listens at the address', async () => {
    const gone = await startWebServer();
    await gone.close();
    const refused = await failure(fetchLink(gone.url('/'), local()));
    expect(refused.failure).toBe('network');
    expect(refused.message).toMatch(/refused the connection/);
  });

  it('refuses what is not a web page, and points a feed to FEEDS', async () => {
    const json = await failure(fetchLink(web.url('/data.json'), local()));
    expect(json.failure).toBe('not-html');
    expect(json.message).toContain('its content type is application/json');
    expect(json.message).not.toContain('FEEDS');

    const feed = await failure(fetchLink(web.url('/feed.xml'), local()));
    expect(feed.failure).toBe('not-html');
    expect(feed.message).toContain('put it in FEEDS');
  });

  it('takes any content type when a feed is expected', async () => {
    const fetched = await fetchLink(web.url('/data.json'), local({ expect: 'feed' }));
    expect(fetched.contentType).toBe('application/json');
    expect(fetched.bytes.toString('utf8')).toBe('{"a":1}');
  });
});

describe('size caps', () => {
  it('refuses a body whose Content-Length is over the cap', async () => {
    const refused = await failure(fetchLink(web.url('/big'), local({ maxBytes: MB })));
    expect(refused.failure).toBe('too-large');
    expect(refused.message).toMatch(/is 2 MB, more than the 1 MB citebot reads/);
    // The same body under a higher cap is fine: the cap, not the page, refused it.
    expect((await fetchLink(web.url('/big'), local({ maxBytes: 3 * MB }))).bytes.equals(BIG)).toBe(true);
  });

  it('stops reading a streamed body with no Content-Length once it passes the cap, and hangs up', async () => {
    const refused = await failure(fetchLink(web.url('/endless'), local({ maxBytes: MB })));
    expect(refused.failure).toBe('too-large');
    expect(refused.message).toMatch(/is larger than 1 MB; it was not saved/);
    // The connection was dropped, not drained: the server got nowhere near its 50 MB.
    expect(await streamed).toBeLessThan(20 * MB);
    // And fetching goes on as before.
    expect((await fetchLink(web.url('/news/harbour'), local())).status).toBe(200);
  });

  it('applies the cap after decompression, so a small gzip bomb is refused', async () => {
    const refused = await failure(fetchLink(web.url('/bomb'), local({ maxBytes: MB })));
    expect(refused.failure).toBe('too-large');
    expect(refused.message).toMatch(/is larger than 1 MB/);
  });

  // The body's error (the deadline's abort) must reach the decoder being read, or the read never ends.
  it('gives up on a compressed body that stops halfway when the deadline passes', async () => {
    web.route('/gzip-stall', (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
      response.write(gzipSync(Buffer.from(PAGE.repeat(50))).subarray(0, 200));
    });
    const refused = await failure(fetchLink(web.url('/gzip-stall'), local({ timeoutMs: 500 })));
    expect(refused.failure).toBe('timeout');
  }, 5000);
});

describe('redirects', () => {
  it('follows a relative Location against the address it came from', async () => {
    const fetched = await fetchLink(web.url('/dir/relative'), local());
    expect(fetched.url).toBe(web.url('/news/harbour'));
    expect(fetched.bytes.toString('utf8')).toBe(PAGE);
  });

  it('follows as many redirects as allowed, of every kind', async () => {
    const fetched = await fetchLink(web.url('/chain/0'), local({ maxRedirects: 4 }));
    expect(fetched.url).toBe(web.url('/chain/4'));
  });

  it('refuses a chain longer than allowed', async () => {
    const refused = await failure(fetchLink(web.url('/chain/0'), local({ maxRedirects: 3 })));
    expect(refused.failure).toBe('too-many-redirects');
    expect(refused.message).toBe(`${web.url('/chain/0')} redirects more than 3 times; it was not followed further.`);
  });

  it('names the hops of a redirect loop', async () => {
    const refused = await failure(fetchLink(web.url('/loop-a'), local({ maxRedirects: 10 })));
    expect(refused.failure).toBe('redirect-loop');
    expect(refused.message).toContain(`${web.url('/loop-a')} → ${web.url('/loop-b')} → ${web.url('/loop-a')}`);
  });

  it('refuses a redirect to a link that is not http(s)', async () => {
    const refused = await failure(fetchLink(web.url('/to-ftp'), local()));
    expect(refused.failure).toBe('bad-url');
    expect(refused.message).toMatch(/redirects to a link that cannot be followed: .*this one is ftp/);
  });
});

describe('links that are not tried', () => {
  it('refuses a link with a user name and password, and never shows them', async () => {
    const link = web.url('/news/harbour').replace('http://', 'http://alice:hunter2@');
    const before = web.requests.length;
    const refused = await failure(fetchLink(link, local()));
    expect(refused.failure).toBe('credentials');
    expect(refused.message).not.toContain('alice');
    expect(refused.message).not.toContain('hunter2');
    expect(refused.message).toContain(web.url('/news/harbour'));
    expect(web.requests.length).toBe(before);
  });

  it('refuses what is not an http(s) link', () => {
    const refusal = (raw: string) => {
      try {
        checkLink(raw);
      } catch (error) {
        return error as FetchFailed;
      }
      throw new Error(`${raw} was accepted`);
    };
    expect(refusal('ftp://files.example.com/story').failure).toBe('bad-url');
    expect(refusal('ftp://files.example.com/story').message).toContain('this one is ftp');
    expect(refusal('javascript:alert(1)').failure).toBe('bad-url');
    expect(refusal('not a link at all').failure).toBe('bad-url');
    expect(refusal('not a link at all').message).toMatch(/is not a link/);
    expect(checkLink('  https://example.com/story  ').href).toBe('https://example.com/story');
  });

  it('rejects the same links from fetchLink', async () => {
    expect((await failure(fetchLink('ftp://files.example.com/story', local()))).failure).toBe('bad-url');
    expect((await failure(fetchLink('%%garbage%%', local()))).failure).toBe('bad-url');
  });

  // An unparsable link is shown as typed, so its `user:password@` part is cut by hand.
  it('never shows the password of a link it cannot parse', () => {
    expect(() => checkLink('http://alice:hunter2@exa mple.com/x')).toThrow(FetchFailed);
    try {
      checkLink('http://alice:hunter2@exa mple.com/x');
    } catch (error) {
      expect((error as FetchFailed).failure).toBe('bad-url');
      expect((error as FetchFailed).message).not.toContain('hunter2');
    }
  });

  it('shows links without their user name and password, and cuts long ones short', () => {
    expect(displayUrl('https://alice:hunter2@example.com/a?b=1')).toBe('https://example.com/a?b=1');
    const long = displayUrl(`https://example.com/${'x'.repeat(300)}`);
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('conditional GET', () => {
  it('returns the validators, and a 304 when they still match, sending If-None-Match', async () => {
    const first = await fetchLink(web.url('/conditional'), local());
    expect(first.status).toBe(200);
    expect(first.etag).toBe('"v1"');
    expect(first.lastModified).toBe('Tue, 01 Dec 2026 10:00:00 GMT');

    const second = await fetchLink(web.url('/conditional'), local({ etag: first.etag }));
    expect(second.notModified).toBe(true);
    expect(second.status).toBe(304);
    expect(second.bytes.length).toBe(0);
    expect(second.etag).toBe('"v1"');
    const asked = web.requests.filter((request) => request.path === '/conditional');
    expect(asked.map((request) => request.ifNoneMatch)).toEqual([undefined, '"v1"']);
  });

  it('sends If-Modified-Since, and keeps the validators it was given when a 304 carries none', async () => {
    const second = await fetchLink(web.url('/since'), local({ lastModified: 'Tue, 01 Dec 2026 10:00:00 GMT', etag: '"old"' }));
    expect(second.notModified).toBe(true);
    expect(second.lastModified).toBe('Tue, 01 Dec 2026 10:00:00 GMT');
    expect(second.etag).toBe('"old"');
    expect(web.requests.filter((request) => request.path === '/since').at(-1)?.ifModifiedSince).toBe('Tue, 01 Dec 2026 10:00:00 GMT');
  });
});
