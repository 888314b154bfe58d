/**
 * Fetching a page or a feed from a link someone pasted, the way a server that cannot trust the link must:
 * one deadline for the whole fetch, a size cap (also after decompression), a redirect cap with loop
 * detection, content types checked, and the address policy (./address-policy.ts) applied to the address
 * actually connected to, after DNS, on every hop. Each way it can fail has its own sentence.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { pipeline, type Readable, type Transform } from 'node:stream';
import { Agent, request } from 'undici';
import { CitebotError } from '../errors.js';
import { classifyAddress, ipLiteral, type AddressVerdict } from './address-policy.js';

export type FetchFailure =
  | 'bad-url'
  | 'credentials'
  | 'not-public'
  | 'dns'
  | 'network'
  | 'timeout'
  | 'http-status'
  | 'not-html'
  | 'too-large'
  | 'redirect-loop'
  | 'too-many-redirects';

/** A fetch that did not bring back what was asked for; the message names the link (without credentials) and why. */
export class FetchFailed extends CitebotError {
  constructor(
    readonly failure: FetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super('FetchFailed', message);
  }
}

export interface FetchLimits {
  /** One deadline for everything: connecting, every redirect, reading the body. */
  timeoutMs: number;
  /** Bytes of the (decompressed) body. */
  maxBytes: number;
  maxRedirects: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { timeoutMs: 15_000, maxBytes: 5 * 1024 * 1024, maxRedirects: 5 };

export interface FetchOptions extends Partial<FetchLimits> {
  /** `page`: only HTML is accepted. `feed`: any type; the feed parser decides. */
  expect: 'page' | 'feed';
  /** Let loopback and private addresses through (a bot on a private network, the tests). */
  allowPrivateAddresses?: boolean;
  /** Validators from the last fetch, for a conditional GET. */
  etag?: string;
  lastModified?: string;
  signal?: AbortSignal;
  /** Replaces the public-address policy (tests). */
  addressPolicy?: (address: string) => AddressVerdict;
}

export interface Fetched {
  /** The address the body came from, after redirects. */
  url: string;
  status: number;
  /** True for a 304 answer to a conditional GET: `bytes` is empty, nothing changed. */
  notModified: boolean;
  contentType?: string;
  /** The charset the server declared, for decoding. */
  charset?: string;
  bytes: Buffer;
  etag?: string;
  lastModified?: string;
}

const USER_AGENT = 'citebot/0.1 (a Discord bot that quotes news articles)';
const PAGE_TYPES = ['text/html', 'application/xhtml+xml'];
const ACCEPT = {
  page: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1',
  feed: 'application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,text/xml;q=0.9,application/json;q=0.8,*/*;q=0.1',
};

/** A link as messages show it: never its user name or password, and not endlessly long. */
export function displayUrl(raw: string): string {
  let shown = raw;
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    shown = url.href;
  } catch {
    // Not a URL: shown as typed, cut short, but never with what looks like `user:password@` after a scheme.
    shown = raw.replace(/^([a-z][a-z0-9+.-]*:\/*)[^/?#]*@/i, '$1');
  }
  return shown.length > 200 ? `${shown.slice(0, 199)}…` : shown;
}

/** A link citebot may try: http(s), no credentials. Throws FetchFailed saying what is wrong with it. */
export function checkLink(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new FetchFailed('bad-url', `${displayUrl(raw)} is not a link (expected an address such as https://example.com/story).`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new FetchFailed(
      'bad-url',
      `${displayUrl(raw)}: only http and https links can be added (this one is ${url.protocol.replace(/:$/, '')}).`,
    );
  if (url.username !== '' || url.password !== '')
    throw new FetchFailed(
      'credentials',
      `${displayUrl(raw)}: the link has a user name or password in it; citebot sends no credentials, so it was not fetched.`,
    );
  return url;
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}

/** The address policy applied where the connection is made: to every address DNS gives for the host. */
function guardedLookup(policy: (address: string) => AddressVerdict): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      // One refused address refuses the host: the connection could go to any of them.
      for (const { address } of addresses) {
        const verdict = policy(address);
        if (!verdict.public) return callback(new NotPublic(hostname, address, verdict.why), '', 0);
      }
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      const first = addresses[0]!;
      callback(null, first.address, first.family);
    });
  };
}

class NotPublic extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly why: string,
  ) {
    super(`${host} resolves to ${why}, ${address}`);
  }
}

function findCause<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    if (current instanceof type) return current;
  }
  return undefined;
}

function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR_ABORTED')) return code;
  }
  return undefined;
}

function networkFailure(error: unknown, link: string, host: string, timeoutMs: number, timedOut: boolean): FetchFailed {
  const notPublic = findCause(error, NotPublic);
  if (notPublic)
    return new FetchFailed(
      'not-public',
      `${link}: ${notPublic.message}; citebot fetches only public addresses (ALLOW_PRIVATE_URLS=true lets private ones through).`,
    );
  if (timedOut) return new FetchFailed('timeout', `${link} did not answer within ${duration(timeoutMs)}.`);
  const code = errorCode(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new FetchFailed('dns', `${link}: the host ${host} was not found (DNS ${code}); check the address.`);
  if (code === 'ECONNREFUSED') return new FetchFailed('network', `${link}: ${host} refused the connection.`);
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return new FetchFailed('network', `${link}: ${host} closed the connection.`);
  if (code?.startsWith('UND_ERR_') && /TIMEOUT/.test(code))
    return new FetchFailed('timeout', `${link} did not answer within ${duration(timeoutMs)}.`);
  if (code && /CERT|SSL|TLS/.test(code)) return new FetchFailed('network', `${link}: the site's TLS certificate was refused (${code}).`);
  return new FetchFailed('network', `${link} could not be fetched (${code ?? (error as Error).message}).`);
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.max(1, Math.round(ms))} ms` : `${Math.round(ms / 100) / 10} s`;
}

function statusFailure(link: string, status: number): FetchFailed {
  const why =
    status === 404 || status === 410
      ? 'was not found'
      : status === 401 || status === 403
        ? 'refused access (the page may need a login, or the site blocks bots)'
        : status === 429
          ? 'asked citebot to slow down; try again later'
          : status >= 500
            ? 'had a server error; try again later'
            : 'did not return the page';
  return new FetchFailed('http-status', `${link} ${why} (HTTP ${status}).`, status);
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decompressed(body: Readable, encoding: string | undefined): Readable {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return decoding(body, createGunzip());
    case 'deflate':
      return decoding(body, createInflate());
    case 'br':
      return decoding(body, createBrotliDecompress());
    default:
      return body;
  }
}

/** pipeline, not pipe: an error of the body (the deadline's abort, a reset) must end the decoder the reader waits on. */
function decoding(body: Readable, decoder: Transform): Readable {
  return pipeline(body, decoder, () => undefined);
}

/** Reads at most `maxBytes`; more is a FetchFailed, and the connection is dropped rather than drained. */
async function readCapped(body: Readable, maxBytes: number, link: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      discard(body);
      throw new FetchFailed('too-large', `${link} is larger than ${megabytes(maxBytes)}; it was not saved.`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Drops a body unread; the error a destroyed body emits is expected, not a crash. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function looksLikeHtml(bytes: Buffer): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<!--)/i.test(bytes.subarray(0, 512).toString('latin1'));
}

/**
 * GETs `raw` following at most `maxRedirects` redirects, each hop checked against the address policy.
 * Resolves to the body (or a 304), throws FetchFailed otherwise.
 */
export async function fetchLink(raw: string, options: FetchOptions): Promise<Fetched> {
  const limits = { ...DEFAULT_FETCH_LIMITS, ...options };
  const policy = options.allowPrivateAddresses ? (): AddressVerdict => ({ public: true }) : (options.addressPolicy ?? classifyAddress);
  const deadline = AbortSignal.timeout(limits.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const agent = new Agent({ connect: { lookup: guardedLookup(policy), timeout: limits.timeoutMs } });
  const visited: string[] = [];
  let url = checkLink(raw);
  const first = displayUrl(url.href);
  try {
    for (;;) {
      const link = displayUrl(url.href);
      if (visited.includes(url.href))
        throw new FetchFailed('redirect-loop', `${first} redirects in a loop (${[...visited, url.href].map(displayUrl).join(' → ')}).`);
      if (visited.length > limits.maxRedirects)
        throw new FetchFailed(
          'too-many-redirects',
          `${first} redirects more than ${limits.maxRedirects} times; it was not followed further.`,
        );
      visited.push(url.href);
      // An address in the link itself is never looked up, so it is checked here.
      const literal = ipLiteral(url.hostname);
      const verdict = literal ? policy(literal) : { public: true as const };
      if (!verdict.public)
        throw new FetchFailed(
          'not-public',
          `${link}: ${url.hostname} is ${verdict.why}; citebot fetches only public addresses (ALLOW_PRIVATE_URLS=true lets private ones through).`,
        );

      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(url, {
          dispatcher: agent,
          method: 'GET',
          signal,
          headers: {
            'user-agent': USER_AGENT,
            accept: ACCEPT[options.expect],
            'accept-encoding': 'gzip, deflate, br',
            ...(options.etag ? { 'if-none-match': options.etag } : {}),
            ...(options.lastModified ? { 'if-modified-since': options.lastModified } : {}),
          },
          headersTimeout: limits.timeoutMs,
          bodyTimeout: limits.timeoutMs,
        });
      } catch (error) {
        if (error instanceof FetchFailed) throw error;
        throw networkFailure(error, link, url.hostname, limits.timeoutMs, deadline.aborted);
      }
      const { statusCode, headers, body } = response;
      const location = header(headers, 'location');
      if (statusCode >= 300 && statusCode < 400 && statusCode !== 304 && location) {
        discard(body);
        try {
          url = checkLink(new URL(location, url).href);
        } catch (error) {
          throw new FetchFailed('bad-url', `${first} redirects to a link that cannot be followed: ${(error as Error).message}`);
        }
        continue;
      }
      const etag = header(headers, 'etag');
      const lastModified = header(headers, 'last-modified');
      if (statusCode === 304) {
        discard(body);
        return {
          url: url.href,
          status: 304,
          notModified: true,
          bytes: Buffer.alloc(0),
          etag: etag ?? options.etag,
          lastModified: lastModified ?? options.lastModified,
        };
      }
      if (statusCode < 200 || statusCode >= 300) {
        discard(body);
        throw statusFailure(link, statusCode);
      }
      const contentType = header(headers, 'content-type');
      const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
      const charset = contentType?.match(/charset\s*=\s*"?([\w.:-]+)/i)?.[1];
      const declaredLength = Number(header(headers, 'content-length'));
      if (Number.isFinite(declaredLength) && declaredLength > limits.maxBytes) {
        discard(body);
        throw new FetchFailed(
          'too-large',
          `${link} is ${megabytes(declaredLength)}, more than the ${megabytes(limits.maxBytes)} citebot reads; it was not saved.`,
        );
      }
      if (options.expect === 'page' && mediaType && !PAGE_TYPES.includes(mediaType)) {
        discard(body);
        const feedHint = /rss|atom|feed|xml/.test(mediaType) ? ' It looks like a news feed: put it in FEEDS to follow it.' : '';
        throw new FetchFailed(
          'not-html',
          `${link} is not a web page (its content type is ${mediaType}); only HTML pages can be added.${feedHint}`,
        );
      }
      let bytes: Buffer;
      try {
        bytes = await readCapped(decompressed(body, header(headers, 'content-encoding')), limits.maxBytes, link);
      } catch (error) {
        if (error instanceof FetchFailed) throw error;
        throw networkFailure(error, link, url.hostname, limits.timeoutMs, deadline.aborted);
      }
      if (options.expect === 'page' && !mediaType && !looksLikeHtml(bytes))
        throw new FetchFailed('not-html', `${link} sent no content type and does not look like a web page; only HTML pages can be added.`);
      return { url: url.href, status: statusCode, notModified: false, contentType: mediaType, charset, bytes, etag, lastModified };
    }
  } finally {
    void agent.destroy().catch(() => undefined);
  }
}
