/**
 * A local HTTP server for the tests of links and feeds: each path answers what the test says (a page, a
 * feed, a redirect, an error, silence), on 127.0.0.1 at a free port. The code under test reaches it with
 * ALLOW_PRIVATE_URLS (allowPrivateAddresses), as a bot on a private network would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route =
  | { status?: number; headers?: Record<string, string>; body?: string | Buffer }
  | ((request: IncomingMessage, response: ServerResponse) => void);

export interface WebServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  url(path: string): string;
  /** Sets (or replaces) what a path answers. */
  route(path: string, route: Route): void;
  /** Requests received, in order: method, path and the headers that matter to conditional GETs. */
  requests: Array<{ method: string; path: string; ifNoneMatch?: string; ifModifiedSince?: string }>;
  close(): Promise<void>;
}

export async function startWebServer(routes: Record<string, Route> = {}, host = '127.0.0.1'): Promise<WebServer> {
  const table = new Map(Object.entries(routes));
  const requests: WebServer['requests'] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '/';
    requests.push({
      method: request.method ?? 'GET',
      path,
      ifNoneMatch: request.headers['if-none-match'],
      ifModifiedSince: request.headers['if-modified-since'],
    });
    const route = table.get(path);
    if (!route) {
      response.writeHead(404, { 'content-type': 'text/html' }).end('<html><body><p>Not found</p></body></html>');
      return;
    }
    if (typeof route === 'function') return route(request, response);
    response.writeHead(route.status ?? 200, { 'content-type': 'text/html; charset=utf-8', ...route.headers }).end(route.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (path) => `${origin}${path}`,
    route: (path, route) => void table.set(path, route),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A small news page Readability reads as an article: headline, byline, date, canonical link, paragraphs. */
export function newsPage(options: {
  title: string;
  paragraphs: string[];
  canonical?: string;
  byline?: string;
  date?: string;
  site?: string;
}): string {
  const meta = [
    options.canonical ? `<link rel="canonical" href="${options.canonical}">` : '',
    options.date ? `<meta property="article:published_time" content="${options.date}">` : '',
    options.site ? `<meta property="og:site_name" content="${options.site}">` : '',
  ].join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${options.title}</title>${meta}</head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<article><h1>${options.title}</h1>${options.byline ? `<p class="byline">By ${options.byline}</p>` : ''}
${options.paragraphs.map((text) => `<p>${text}</p>`).join('\n')}
</article><footer><p>© 2026 The Example Times</p></footer></body></html>`;
}
