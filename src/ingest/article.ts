/**
 * Turns one seed file into an Article: headline, outlet, byline, date and link when the page shows them,
 * and the body paragraphs with their character offsets. Seeds are raw page dumps, so most of the work
 * is telling page furniture (crumbs, captions, share buttons, ads, footers) from the story.
 */
import type { Article, Paragraph } from '../model.js';
import { hostOf } from '../text/urls.js';

/** Why a file was not turned into an article. */
export class UnreadableArticle extends Error {
  override readonly name = 'UnreadableArticle';
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Larger files are skipped unread: no news article is this long, and reading one could exhaust memory. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;

/**
 * Bumped whenever parsing changes what an article yields (paragraphs, headline, metadata); an index built
 * by another parser version is rebuilt, since the files' hashes alone would call it current.
 */
export const PARSER_VERSION = 3;

/** Decodes a seed file's bytes, refusing what is not text: empty, binary, non-UTF-8 or oversized. */
export function decodeArticleBytes(file: string, bytes: Uint8Array): string {
  if (bytes.length === 0) throw new UnreadableArticle(file, 'the file is empty');
  if (bytes.length > MAX_FILE_BYTES) {
    throw new UnreadableArticle(file, `the file is ${bytes.length} bytes; articles over ${MAX_FILE_BYTES} bytes are skipped`);
  }
  const utf16 = utf16Order(bytes);
  if (!utf16 && bytes.includes(0)) throw new UnreadableArticle(file, 'the file is binary (it contains NUL bytes)');
  let text: string;
  try {
    text = new TextDecoder(utf16 ?? 'utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UnreadableArticle(
      file,
      utf16 ? 'the file looks like UTF-16 text but does not decode as such' : 'the file is not valid UTF-8 text; save it as UTF-8',
    );
  }
  text = text.replace(/^\uFEFF/, '');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  const controls = text.match(/[\u0000-\u0008\u000E-\u001F\u007F]/g)?.length ?? 0;
  if (controls > 0 && controls / text.length > 0.01) {
    throw new UnreadableArticle(file, 'the file looks binary (it is full of control characters)');
  }
  if (text.trim() === '') throw new UnreadableArticle(file, 'the file has no text, only whitespace');
  return text;
}

/**
 * UTF-16 text (what some Windows editors save): a byte order mark, or without one, NUL bytes in every
 * other position, as ASCII text has in UTF-16. Undefined for anything else.
 */
function utf16Order(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  if (bytes.length < 4 || bytes.length % 2 !== 0) return undefined;
  let evenNul = 0;
  let oddNul = 0;
  const sample = Math.min(bytes.length, 4096);
  for (let i = 0; i < sample; i += 2) {
    if (bytes[i] === 0) evenNul++;
    if (bytes[i + 1] === 0) oddNul++;
  }
  const pairs = sample / 2;
  if (oddNul / pairs > 0.3 && evenNul / pairs < 0.05) return 'utf-16le';
  if (evenNul / pairs > 0.3 && oddNul / pairs < 0.05) return 'utf-16be';
  return undefined;
}

interface Line {
  text: string;
  start: number;
  end: number;
}

/** Non-empty lines with their offsets; `blankBefore` tells paragraphs apart in hard-wrapped text. */
function splitLines(text: string): Array<Line & { blankBefore: boolean }> {
  const lines: Array<Line & { blankBefore: boolean }> = [];
  let offset = 0;
  let blankBefore = true;
  for (const raw of text.split('\n')) {
    const lineStart = offset;
    offset += raw.length + 1;
    const withoutCr = raw.replace(/\r$/, '');
    const trimmedStart = withoutCr.length - withoutCr.trimStart().length;
    const trimmed = withoutCr.trim();
    if (trimmed === '') {
      blankBefore = true;
      continue;
    }
    lines.push({ text: trimmed, start: lineStart + trimmedStart, end: lineStart + trimmedStart + trimmed.length, blankBefore });
    blankBefore = false;
  }
  return lines;
}

/** Most words capitalised: a headline, even when it is long. */
function isTitleCase(text: string): boolean {
  const words = text.split(/\s+/).filter((word) => /^\p{L}{4,}/u.test(word));
  return words.length > 0 && words.filter((word) => /^\p{Lu}/u.test(word)).length / words.length >= 0.6;
}

/** Shortest line that can be a hard-wrapped piece of prose rather than a heading or a label. */
const WRAPPED_LINE_CHARS = 50;

/**
 * Joins hard-wrapped lines (Markdown notes, e-mail text): a line of wrap width that stops mid-sentence
 * and is followed directly by more text continues on that line. Headlines (title case), bylines and page
 * furniture are never joined.
 */
function unwrapLines(lines: Array<Line & { blankBefore: boolean }>): Array<Line & { blankBefore: boolean }> {
  const joined: Array<Line & { blankBefore: boolean; lastLength: number }> = [];
  for (const line of lines) {
    const previous = joined.at(-1);
    const continues =
      previous !== undefined &&
      !line.blankBefore &&
      previous.lastLength >= WRAPPED_LINE_CHARS &&
      !endsLikeSentence(previous.text) &&
      !isTitleCase(previous.text) &&
      !isFurniture(line.text) &&
      !BYLINE.test(line.text) &&
      !FOOTER_START.some((pattern) => pattern.test(line.text));
    if (continues) {
      previous.text = `${previous.text} ${line.text}`;
      previous.end = line.end;
      previous.lastLength = line.text.length;
    } else {
      joined.push({ ...line, lastLength: line.text.length });
    }
  }
  return joined.map(({ lastLength: _lastLength, ...line }) => line);
}

// Lines that end the story: everything from the first of them on is page footer.
const FOOTER_START = [
  /^share this article$/i,
  /^subscribe to our newsletter/i,
  /website can also be accessed at/i,
  /^copyright\b|^©|^\(c\)\s/i,
  /^<<\s*back to/i,
  /^related (articles|stories|news)\b/i,
  /^(read more|more stories|recommended)\s*:?$/i,
];

// Page furniture that can sit anywhere.
const FURNITURE = [
  /^[-–—\s]*advertisement[-–—\s]*$/i,
  /^(share|tweet|email|print|comments?)(\s*[|/·•]\s*(share|tweet|email|print|comments?))*$/i,
  /^[|/·•\-–—_=*#\s]*$/, // lone separators such as "|"
  /^(https?:\/\/|www\.)\S+$/i,
  /\((photo|image|picture|video|file photo|credit)\b[^)]*\)\s*$/i, // photo captions
  /^(photo|image|picture|credit)\s*:/i,
  /^sign up here to get/i,
  /^(tags?|topics?|filed under)\s*:/i,
];

// "News / Syria" style crumbs and "international /" tag trails.
const CRUMB = /^[\p{L}\p{N} .&'-]{1,40}(\s+\/\s+[\p{L}\p{N} .&'-]{1,40})+$|^[\p{L}\p{N} .&'-]{1,40}\s+\/$/u;

const OUTLET_WORDS =
  /\b(news|network|times|post|press|tv|agency|daily|herald|journal|tribune|guardian|gazette|media|wire|report|telegraph|chronicle|observer|radio|broadcasting|newsweek|reuters|bbc|cnn)\b/i;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** Reads a date written the way news pages write them; returns YYYY-MM-DD or undefined. */
export function parseDate(text: string): string | undefined {
  const iso = text.match(/\b(\d{4})-(\d{2})-(\d{2})(?!\d)/);
  const pad = (n: number) => String(n).padStart(2, '0');
  const valid = (y: number, m: number, d: number) => {
    const date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d && y > 1900 && y < 2200;
  };
  if (iso) {
    const [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    return valid(y, m, d) ? `${y}-${pad(m)}-${pad(d)}` : undefined;
  }
  const monthName = '(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\\.?';
  const monthFirst = text.match(new RegExp(`\\b${monthName}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, 'i'));
  const dayFirst = text.match(new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+${monthName},?\\s+(\\d{4})\\b`, 'i'));
  let parts: [number, number, number] | undefined;
  if (monthFirst) parts = [Number(monthFirst[3]), MONTHS.indexOf(monthFirst[1]!.toLowerCase().slice(0, 3)) + 1, Number(monthFirst[2])];
  else if (dayFirst) parts = [Number(dayFirst[3]), MONTHS.indexOf(dayFirst[2]!.toLowerCase().slice(0, 3)) + 1, Number(dayFirst[1])];
  if (!parts) return undefined;
  const [y, m, d] = parts;
  return valid(y, m, d) ? `${y}-${pad(m)}-${pad(d)}` : undefined;
}

const KNOWN_HOSTS: Record<string, string> = {
  'newsweek.com': 'Newsweek',
  'presstv.ir': 'Press TV',
  'presstv.co.uk': 'Press TV',
  'presstv.com': 'Press TV',
  'reuters.com': 'Reuters',
  'apnews.com': 'Associated Press',
  'bbc.co.uk': 'BBC',
  'bbc.com': 'BBC',
  'nytimes.com': 'The New York Times',
  'washingtonpost.com': 'The Washington Post',
  'theguardian.com': 'The Guardian',
  'aljazeera.com': 'Al Jazeera',
  'cnn.com': 'CNN',
  'rt.com': 'RT',
  'tass.com': 'TASS',
};

export function outletFromUrl(url: string): string | undefined {
  const host = hostOf(url);
  if (!host) return undefined;
  const known = Object.entries(KNOWN_HOSTS).find(([suffix]) => host === suffix || host.endsWith(`.${suffix}`));
  return known?.[1];
}

function endsLikeSentence(text: string): boolean {
  return /[.!?…:;]["'”’)\]]*$/.test(text);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** A short line without closing punctuation: a headline or a section heading, not a paragraph. */
export function looksLikeHeading(text: string): boolean {
  return wordCount(text) <= 16 && text.length <= 160 && !endsLikeSentence(text);
}

export function isFurniture(text: string): boolean {
  return FURNITURE.some((pattern) => pattern.test(text)) || CRUMB.test(text);
}

interface FrontMatter {
  fields: Record<string, string>;
  bodyStart: number;
}

/** `---`-fenced `key: value` lines at the top of a file, the way Markdown notes carry metadata. */
function readFrontMatter(text: string): FrontMatter {
  const match = text.match(/^---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/);
  if (!match) return { fields: {}, bodyStart: 0 };
  const fields: Record<string, string> = {};
  for (const line of match[1]!.split(/\r?\n/)) {
    const field = line.match(/^\s*([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$/);
    if (field) fields[field[1]!.toLowerCase()] = field[2]!.replace(/^["']|["']$/g, '');
  }
  return { fields, bodyStart: match[0].length };
}

/** Strips the Markdown that would otherwise show up in quotes: heading hashes, quote markers, emphasis, links. */
function plainMarkdown(text: string): string {
  return text
    .replace(/^#{1,6}\s+/, '')
    .replace(/^>\s?/, '')
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(.+?)\1/g, '$2')
    .replace(/(^|[^\p{L}\p{N}*_])([*_])(\S(?:.*?\S)?)\2(?![\p{L}\p{N}])/gu, '$1$3')
    .trim();
}

const BYLINE = /^by\s+(.+)$/i;

interface Byline {
  byline?: string;
  outlet?: string;
  date?: string;
}

/** "by John Haltiwanger via jaxie - Newsweek Friday, Dec 22 2017, 2:02am" → name, outlet, date. */
function readByline(text: string): Byline {
  const match = text.match(BYLINE);
  if (!match) return {};
  const rest = match[1]!;
  const date = parseDate(rest);
  const [namePart, ...afterDash] = rest.split(/\s+[-–—|]\s+/);
  const byline = namePart?.replace(/\s+via\s+.*$/i, '').trim();
  let outlet: string | undefined;
  if (afterDash.length > 0) {
    outlet = afterDash
      .join(' - ')
      .replace(/\b(mon|tues?|wed(nes)?|thu(rs)?|fri|sat(ur)?|sun)(day)?\b.*$/i, '')
      .replace(/,?\s*\d.*$/, '')
      .trim();
  }
  return { byline: byline || undefined, outlet: outlet || undefined, date };
}

/** The lead's first clause, for pages that print no headline. */
function headlineFromLead(lead: string): string {
  const withoutDateline = lead.replace(/^[\p{Lu}][\p{L} ,.]{1,40}?\s*(\([^)]{1,20}\))?\s*[-–—]\s*/u, '');
  const firstSentence = withoutDateline.match(/^.+?[.!?](?=\s|$)/)?.[0] ?? withoutDateline;
  if (firstSentence.length <= 110) return firstSentence.replace(/[.]$/, '');
  const clause = firstSentence.slice(0, 110);
  const cut = Math.max(clause.lastIndexOf(', '), clause.lastIndexOf('; '));
  return cut > 40 ? clause.slice(0, cut) : `${clause.slice(0, clause.lastIndexOf(' '))}…`;
}

function titleFromFileName(file: string): string {
  return file
    .replace(/\.[^.]+$/, '')
    .replace(/[_-]+/g, ' ')
    .trim();
}

/**
 * Parses the decoded text of one seed file. Throws UnreadableArticle when no paragraph of story is left
 * once the page furniture is removed.
 */
export function parseArticle(file: string, text: string, hash: string): Article {
  const frontMatter = readFrontMatter(text);
  const lines = unwrapLines(splitLines(text).filter((line) => line.start >= frontMatter.bodyStart));
  const meta: { title?: string; outlet?: string; byline?: string; date?: string; url?: string } = {
    title: frontMatter.fields.title || frontMatter.fields.headline,
    outlet: frontMatter.fields.outlet || frontMatter.fields.source || frontMatter.fields.publisher,
    byline: frontMatter.fields.author || frontMatter.fields.byline,
    date: frontMatter.fields.date ? parseDate(frontMatter.fields.date) : undefined,
    url: frontMatter.fields.url || frontMatter.fields.link,
  };
  const titleSource: Article['titleSource'] = meta.title ? 'front-matter' : 'page';

  const footerIndex = lines.findIndex((line, index) => index > 0 && FOOTER_START.some((pattern) => pattern.test(line.text)));
  const story = footerIndex === -1 ? lines : lines.slice(0, footerIndex);
  const footer = footerIndex === -1 ? [] : lines.slice(footerIndex);

  for (const line of footer) {
    const site = line.text.match(/^(.{2,40}?)[’']s website\b/i);
    if (site && !meta.outlet) meta.outlet = site[1]!.trim();
  }
  for (const line of lines) {
    const url = line.text.match(/^(https?:\/\/\S+)$/i)?.[1];
    // A URL with a path is the article's own link; a bare host is only the outlet's home page.
    if (url && !meta.url && (hostOf(url) ?? '') !== '' && new URL(url).pathname.length > 1) meta.url = url;
  }

  const paragraphs: Paragraph[] = [];
  let section: string | undefined;
  let seenBody = false;
  let pending: Line | undefined;
  const flush = () => {
    if (!pending) return;
    paragraphs.push({ number: paragraphs.length + 1, text: pending.text, start: pending.start, end: pending.end, section });
    pending = undefined;
  };

  for (const [index, line] of story.entries()) {
    const content = plainMarkdown(line.text);
    if (content === '' || isFurniture(content)) {
      flush();
      continue;
    }
    if (!seenBody) {
      const byline = readByline(content);
      if (byline.byline || byline.outlet) {
        meta.byline ??= byline.byline;
        meta.outlet ??= byline.outlet;
        meta.date ??= byline.date;
        continue;
      }
      const dated = content.match(/^(published|updated|posted|date)\b\s*:?\s*(.+)$/i);
      if (dated && parseDate(dated[2]!)) {
        meta.date ??= parseDate(dated[2]!);
        continue;
      }
      if (index === 0 && wordCount(content) <= 5 && !endsLikeSentence(content) && OUTLET_WORDS.test(content)) {
        meta.outlet ??= content;
        continue;
      }
      if (looksLikeHeading(content)) {
        if (!meta.title) meta.title = content;
        continue;
      }
    } else if (looksLikeHeading(content) && wordCount(content) >= 2) {
      flush();
      section = content.replace(/^['‘"“]|['’"”]$/g, '');
      continue;
    } else if (looksLikeHeading(content)) {
      // A lone word between paragraphs is a tag or a widget label, not story.
      flush();
      continue;
    }
    seenBody = true;
    flush();
    pending = { text: content, start: line.start, end: line.end };
  }
  flush();

  if (paragraphs.length === 0) {
    throw new UnreadableArticle(file, 'no paragraph of story text was found (only headings, links or page furniture)');
  }
  if (!meta.outlet && meta.url) meta.outlet = outletFromUrl(meta.url);
  const title = meta.title ?? headlineFromLead(paragraphs[0]!.text) ?? titleFromFileName(file);
  return {
    file,
    hash,
    title,
    titleSource: meta.title ? titleSource : 'lead',
    outlet: meta.outlet,
    byline: meta.byline,
    date: meta.date,
    url: meta.url,
    paragraphs,
  };
}
