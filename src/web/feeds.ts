/**
 * News feeds (RSS, Atom, RDF, JSON Feed, read by feedsmith): which items are new since the last poll,
 * asked with a conditional GET so an unchanged feed costs one short answer. Each feed is polled on its
 * own; one that fails is reported and the others go on. What was seen is kept in a small JSON state file.
 */
import { readFile, rename } from 'node:fs/promises';
import { parseFeed } from 'feedsmith';
import writeFileAtomic from 'write-file-atomic';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CitebotError } from '../errors.js';
import { absoluteUrl } from '../text/urls.js';
import { displayUrl, type Fetched } from './fetch.js';
import type { AddOutcome } from './add-pages.js';

export interface FeedItem {
  /** The item's stable id (guid or id), else its link. */
  id: string;
  link: string;
  title?: string;
}

/** A feed that could not be read as one; the message names the feed. */
export class FeedUnreadable extends CitebotError {
  constructor(message: string) {
    super('FetchFailed', message);
  }
}

type Feed = ReturnType<typeof parseFeed>;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (value && typeof value === 'object' && 'value' in value) return text((value as { value: unknown }).value);
  return undefined;
}

function itemsOf(parsed: Feed, feedUrl: string): FeedItem[] {
  const found: FeedItem[] = [];
  const push = (id: string | undefined, href: string | undefined, title: string | undefined) => {
    const link = absoluteUrl(href, feedUrl);
    if (link) found.push({ id: id ?? link, link, ...(title ? { title } : {}) });
  };
  switch (parsed.format) {
    case 'rss':
      for (const item of parsed.feed.items ?? []) push(text(item.guid), item.link, text(item.title));
      break;
    case 'rdf':
      for (const item of parsed.feed.items ?? []) push(undefined, item.link, text(item.title));
      break;
    case 'atom':
      for (const entry of parsed.feed.entries ?? []) {
        const links = entry.links ?? [];
        const alternate = links.find((link) => !link.rel || link.rel === 'alternate') ?? links[0];
        push(text(entry.id), alternate?.href, text(entry.title));
      }
      break;
    case 'json':
      for (const item of parsed.feed.items ?? []) push(text(item.id), item.url ?? item.external_url, text(item.title));
      break;
  }
  return found;
}

/** The feed a web page advertises (`<link rel="alternate" type="application/rss+xml" href>`), if any. */
function advertisedFeed(html: string, pageUrl: string): string | undefined {
  for (const tag of html.match(/<link\b[^>]*>/gi) ?? []) {
    if (!/rel\s*=\s*["']?alternate/i.test(tag) || !/type\s*=\s*["']?application\/(rss|atom|feed)\+(xml|json)/i.test(tag)) continue;
    const href = tag.match(/href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i);
    const found = absoluteUrl(href?.[1] ?? href?.[2] ?? href?.[3], pageUrl);
    if (found) return found;
  }
  return undefined;
}

/** The items of a fetched feed, in the feed's order (newest first in nearly every feed). */
export function readFeedItems(fetched: Pick<Fetched, 'url' | 'bytes' | 'contentType'>, feedLink: string): FeedItem[] {
  const shown = displayUrl(feedLink);
  const body = new TextDecoder('utf-8').decode(fetched.bytes).replace(/^\uFEFF/, '');
  if (body.trim() === '') throw new FeedUnreadable(`${shown}: the feed is empty (the server sent nothing).`);
  let parsed: Feed;
  try {
    parsed = parseFeed(body);
  } catch (error) {
    if (fetched.contentType === 'text/html' || /^\s*(<!doctype html|<html)/i.test(body)) {
      const feed = advertisedFeed(body, fetched.url);
      throw new FeedUnreadable(
        `${shown} is a web page, not a feed (RSS, Atom or JSON Feed).${feed ? ` The page names its feed: ${displayUrl(feed)}` : " Add the page itself with `add`, or find the site's feed link."}`,
      );
    }
    throw new FeedUnreadable(`${shown} is not a feed citebot can read (${(error as Error).message}).`);
  }
  return itemsOf(parsed, fetched.url);
}

/** What is remembered of a feed between polls. */
const feedRecordSchema = z.object({
  etag: z.string().optional(),
  lastModified: z.string().optional(),
  /** Ids of the items handled (added, already indexed, or refused for good), newest last. */
  seen: z.array(z.string()),
  checkedAt: z.string().optional(),
});
const feedStateSchema = z.object({ version: z.literal(1), feeds: z.record(z.string(), feedRecordSchema) });
export type FeedState = z.infer<typeof feedStateSchema>;
type FeedRecord = z.infer<typeof feedRecordSchema>;

/** Ids kept per feed: far more than any feed lists at once, so an old item never comes back as new. */
const SEEN_PER_FEED = 2000;

/**
 * Reads the state file. A missing file is a first poll; a damaged one is set aside (renamed, never
 * deleted) with a warning, and polling starts afresh, which re-reads items the index already has.
 */
export async function readFeedState(file: string, warn: (message: string) => void): Promise<FeedState> {
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, feeds: {} };
    throw new FeedUnreadable(`The feed state file ${file} cannot be read (${(error as NodeJS.ErrnoException).code}).`);
  }
  try {
    return feedStateSchema.parse(JSON.parse(raw));
  } catch {
    const aside = `${file}.damaged-${Date.now()}`;
    await rename(file, aside).catch(() => undefined);
    warn(`The feed state file ${file} is damaged; it was moved to ${aside} and feeds are read afresh.`);
    return { version: 1, feeds: {} };
  }
}

export async function writeFeedState(file: string, state: FeedState): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(state, null, 1)}\n`);
}

export interface FeedPollReport {
  feed: string;
  status: 'new-items' | 'nothing-new' | 'unchanged' | 'failed';
  /** Items in the feed. */
  items: number;
  outcomes: AddOutcome[];
  reason?: string;
}

export interface PollOptions {
  /** GETs a feed (fetchLink with `expect: 'feed'` and the configured limits), conditionally. */
  fetchFeed: (link: string, validators: { etag?: string; lastModified?: string }) => Promise<Fetched>;
  /** Fetches, reads and saves pages (addLinks bound to the seeds folder and the index). */
  addLinks: (links: string[]) => Promise<AddOutcome[]>;
  /** New items fetched per feed and poll, newest first; the rest wait for the next poll. */
  maxItemsPerPoll?: number;
  now?: () => Date;
}

/** A failed page worth trying again at the next poll (the site was down), as opposed to one that never will be an article. */
function worthRetrying(outcome: AddOutcome): boolean {
  if (outcome.status !== 'failed') return false;
  return (
    outcome.failure === 'timeout' || outcome.failure === 'network' || outcome.failure === 'dns' || /HTTP (429|5\d\d)/.test(outcome.reason)
  );
}

/** Polls every feed once, updating `state` in place; the caller saves it and updates the index. */
export async function pollFeeds(feeds: readonly string[], state: FeedState, options: PollOptions): Promise<FeedPollReport[]> {
  const reports: FeedPollReport[] = [];
  const now = options.now ?? (() => new Date());
  for (const feed of feeds) {
    const shown = displayUrl(feed);
    const record: FeedRecord = state.feeds[feed] ?? { seen: [] };
    try {
      const fetched = await options.fetchFeed(feed, { etag: record.etag, lastModified: record.lastModified });
      record.checkedAt = now().toISOString();
      if (fetched.notModified) {
        state.feeds[feed] = record;
        reports.push({ feed: shown, status: 'unchanged', items: 0, outcomes: [] });
        continue;
      }
      const items = readFeedItems(fetched, feed);
      const seen = new Set(record.seen);
      const fresh = items.filter((item) => !seen.has(item.id)).slice(0, options.maxItemsPerPoll ?? 20);
      const outcomes = fresh.length > 0 ? await options.addLinks(fresh.map((item) => item.link)) : [];
      fresh.forEach((item, position) => {
        const outcome = outcomes[position];
        if (outcome && !worthRetrying(outcome)) record.seen.push(item.id);
      });
      // Never fewer ids than the feed lists now, or the ones forgotten would come back as new next poll.
      record.seen = record.seen.slice(-Math.max(SEEN_PER_FEED, items.length));
      // Validators are kept only once every item is handled: a feed with items left for later is fetched in full again.
      const leftOver = items.some((item) => !record.seen.includes(item.id));
      record.etag = leftOver ? undefined : fetched.etag;
      record.lastModified = leftOver ? undefined : fetched.lastModified;
      state.feeds[feed] = record;
      reports.push({ feed: shown, status: fresh.length > 0 ? 'new-items' : 'nothing-new', items: items.length, outcomes });
    } catch (error) {
      reports.push({
        feed: shown,
        status: 'failed',
        items: 0,
        outcomes: [],
        reason: error instanceof CitebotError ? error.message : `${shown} could not be polled (${(error as Error).message}).`,
      });
    }
  }
  return reports;
}
