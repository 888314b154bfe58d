/**
 * Adding articles from links: each page is fetched (./fetch.ts), read as an article, compared with what
 * the index already holds, and saved into the seeds folder with the address it came from (the
 * `saved from url=` comment browsers write), where the next index update reads it like any saved page.
 * Every link gets its own outcome; one bad link never stops the others.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CitebotError } from '../errors.js';
import { UnreadableArticle } from '../ingest/article.js';
import { decodeHtmlBytes, parseHtmlArticle, savedFromComment } from '../ingest/html.js';
import type { Article } from '../model.js';
import { pageKey } from '../text/urls.js';
import { displayUrl, type Fetched } from './fetch.js';

/** Where added pages are saved, below the seeds folder: `web/<host>/<name>.html`. */
export const WEB_FOLDER = 'web';

export type AddOutcome =
  | { link: string; status: 'added'; file: string; article: Omit<Article, 'paragraphs' | 'hash'>; paragraphs: number }
  | { link: string; status: 'already-indexed'; file: string; title: string }
  | { link: string; status: 'failed'; reason: string; failure?: string };

/** An outcome once the index is updated: how many passages the added page gave. */
export type AddedLink = AddOutcome & { passages?: number };

/** What an article already in the index is known by. */
export interface KnownArticle {
  file: string;
  title: string;
  url?: string;
}

export interface AddOptions {
  seedsDir: string;
  /** GETs a page (fetchLink with the configured limits and address policy). */
  fetchPage: (link: string) => Promise<Fetched>;
  /** The articles indexed now, to tell a page that is already there. */
  known: Iterable<KnownArticle>;
}

/** A file name for a page from its address: the host's folder and the path's last words. */
export function fileForPage(url: string): string {
  const parsed = new URL(url);
  const host =
    parsed.hostname
      .toLowerCase()
      .replace(/^www\./, '')
      .replace(/[^a-z0-9.-]/g, '-') || 'site';
  const words = decodeURIComponentSafe(parsed.pathname)
    .toLowerCase()
    .replace(/\.(s?html?|php|aspx?)$/, '')
    .split('/')
    .filter((part) => part !== '')
    .slice(-2)
    .join('-')
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return `${WEB_FOLDER}/${host}/${words || 'index'}.html`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** `name.html`, else `name-2.html`, `name-3.html`…: never over a file that is there. */
async function freeName(seedsDir: string, file: string): Promise<string> {
  const base = file.replace(/\.html$/, '');
  for (let attempt = 1; ; attempt += 1) {
    const candidate = attempt === 1 ? file : `${base}-${attempt}.html`;
    const exists = await stat(path.join(seedsDir, candidate)).then(
      () => true,
      () => false,
    );
    if (!exists) return candidate;
  }
}

/** The bytes saved for a page: UTF-8 with a byte order mark (which outranks any charset the page declares), its address first. */
function savedPage(html: string, url: string): Buffer {
  return Buffer.from(`\uFEFF${savedFromComment(url)}\n${html}`, 'utf8');
}

/** Fetches, reads and saves each link; the caller updates the index afterwards. */
export async function addLinks(links: readonly string[], options: AddOptions): Promise<AddOutcome[]> {
  const byKey = new Map<string, KnownArticle>();
  for (const article of options.known) {
    const key = pageKey(article.url);
    if (key) byKey.set(key, article);
  }
  const outcomes: AddOutcome[] = [];
  for (const link of links) {
    const shown = displayUrl(link);
    try {
      const fetched = await options.fetchPage(link);
      const known = [link, fetched.url].map(pageKey).find((key) => key !== undefined && byKey.has(key));
      if (known) {
        const article = byKey.get(known)!;
        outcomes.push({ link: shown, status: 'already-indexed', file: article.file, title: article.title });
        continue;
      }
      const provisional = fileForPage(fetched.url);
      const html = decodeHtmlBytes(provisional, fetched.bytes, fetched.charset);
      // Read before saving: a page with no article is not kept.
      const article = parseHtmlArticle(provisional, `${savedFromComment(fetched.url)}\n${html}`, '');
      const canonical = pageKey(article.url);
      if (canonical && byKey.has(canonical)) {
        const existing = byKey.get(canonical)!;
        outcomes.push({ link: shown, status: 'already-indexed', file: existing.file, title: existing.title });
        continue;
      }
      const file = await freeName(options.seedsDir, provisional);
      await mkdir(path.dirname(path.join(options.seedsDir, file)), { recursive: true });
      // `wx`: two additions racing for one name never overwrite each other; the loser fails with its message.
      await writeFile(path.join(options.seedsDir, file), savedPage(html, fetched.url), { flag: 'wx' });
      const { paragraphs, hash: _hash, ...fields } = article;
      outcomes.push({ link: shown, status: 'added', file, article: { ...fields, file }, paragraphs: paragraphs.length });
      for (const key of [canonical, pageKey(fetched.url), pageKey(link)])
        if (key) byKey.set(key, { file, title: article.title, url: article.url });
    } catch (error) {
      if (error instanceof UnreadableArticle)
        outcomes.push({
          link: shown,
          status: 'failed',
          failure: 'no-article',
          reason: `${shown}: ${error.message.replace(`${error.file}: `, '')}.`,
        });
      else if (error instanceof CitebotError)
        outcomes.push({ link: shown, status: 'failed', failure: (error as { failure?: string }).failure, reason: error.message });
      else outcomes.push({ link: shown, status: 'failed', reason: `${shown} could not be added (${(error as Error).message}).` });
    }
  }
  return outcomes;
}
