/**
 * Turns a saved web page into an Article: Readability finds the story in the page (menus, scripts, related
 * stories and comments fall away), and this module reads the headline, byline, outlet, date, link and
 * language, and splits the story into paragraphs, list items and block quotes. What Readability keeps
 * but a reader would not call story (captions, share bars, newsletter boxes, "Related:" links) is dropped.
 */
import { TextDecoder as WhatwgTextDecoder } from '@exodus/bytes/encoding.js';
import { Readability } from '@mozilla/readability';
import htmlEncodingSniffer from 'html-encoding-sniffer';
import { parseHTML } from 'linkedom';
import type { Article, Paragraph } from '../model.js';
import { absoluteUrl, hostOf } from '../text/urls.js';
import { isFurniture, looksLikeHeading, MAX_FILE_BYTES, outletFromUrl, parseDate, UnreadableArticle } from './article.js';

export const HTML_EXTENSIONS = ['.html', '.htm', '.xhtml'];

/** The few DOM members this module uses (the project compiles without the DOM library's types). */
interface DomNode {
  nodeType: number;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
  parentNode: DomNode | null;
}
interface DomElement extends DomNode {
  tagName: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}
interface DomDocument {
  documentElement: DomElement | null;
  querySelector(selector: string): DomElement | null;
  querySelectorAll(selector: string): ArrayLike<DomElement>;
}

const TEXT_NODE = 3;
const ELEMENT_NODE = 1;

/**
 * Decodes a page's bytes with the charset it declares (byte order mark, then `<meta charset>`), as a
 * browser would. A page that declares nothing is read as UTF-8 when its bytes are valid UTF-8 (what saved
 * pages are today), otherwise as windows-1252, the web's fallback. `declared` is a charset from outside
 * the bytes, such as an HTTP Content-Type header.
 */
export function decodeHtmlBytes(file: string, bytes: Uint8Array, declared?: string): string {
  if (bytes.length === 0) throw new UnreadableArticle(file, 'the page is empty');
  if (bytes.length > MAX_FILE_BYTES) {
    throw new UnreadableArticle(file, `the page is ${bytes.length} bytes; pages over ${MAX_FILE_BYTES} bytes are skipped`);
  }
  const fallback = isValidUtf8(bytes) ? 'UTF-8' : 'windows-1252';
  let encoding: string;
  try {
    encoding = htmlEncodingSniffer(bytes, { transportLayerEncodingLabel: declared, defaultEncoding: fallback });
  } catch {
    encoding = fallback;
  }
  let text: string;
  try {
    // Node's own TextDecoder reads windows-1252 as Latin-1 (curly quotes become control characters).
    text = new WhatwgTextDecoder(encoding).decode(bytes);
  } catch {
    // A charset without a decoder: read it as the fallback rather than not at all.
    text = new WhatwgTextDecoder(fallback).decode(bytes);
  }
  const nulShare = (text.split('\u0000').length - 1) / text.length;
  if (nulShare > 0.01) throw new UnreadableArticle(file, 'the file is binary, not a web page (it contains NUL bytes)');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we look for
  const controls = text.match(/[\u0000-\u0008\u000E-\u001F\u007F-\u009F\uFFFD]/g)?.length ?? 0;
  if (controls / text.length > 0.05)
    throw new UnreadableArticle(file, 'the file is binary, not a web page (it is full of control characters)');
  return text;
}

function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Block elements: each starts a new piece of text. */
const BLOCKS = new Set([
  'ADDRESS', 'ARTICLE', 'BLOCKQUOTE', 'DD', 'DIV', 'DL', 'DT', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'HEADER', 'HR', 'LI', 'MAIN',
  'OL', 'P', 'PRE', 'SECTION', 'TABLE', 'TBODY', 'TD', 'TH', 'THEAD', 'TR', 'UL',
]); // prettier-ignore
/** Elements whose text is never story: pictures and their captions, asides, forms, embedded code. */
const NEVER_STORY = new Set([
  'ASIDE', 'BUTTON', 'CANVAS', 'FIGCAPTION', 'FIGURE', 'FOOTER', 'FORM', 'IFRAME', 'INPUT', 'NAV', 'NOSCRIPT', 'OBJECT', 'PICTURE',
  'SCRIPT', 'SELECT', 'STYLE', 'SVG', 'TEMPLATE', 'TEXTAREA', 'VIDEO', 'AUDIO', 'LABEL',
]); // prettier-ignore
/** Classes and ids of the boxes that sit inside article bodies without being story. */
const FURNITURE_BOX =
  /(^|[\s_-])(newsletter|signup|sign-up|subscribe|share|sharing|social|related|promo|caption|advert|ad-slot|comments?)($|[\s_-])/i;
const HEADINGS = new Set(['H1', 'H2', 'H3', 'H4', 'H5', 'H6']);

/** A piece of the story's text: a paragraph, list item, quote or heading. */
interface Block {
  tag: string;
  text: string;
  /** The whole text is the text of links: a related story, a menu entry. */
  allLink: boolean;
}

/** Collapses whitespace the way a browser shows it. */
function collapse(text: string): string {
  return text.replace(/[\s\u00A0]+/g, ' ').trim();
}

function isHidden(element: DomElement): boolean {
  return element.getAttribute('hidden') !== null || element.getAttribute('aria-hidden') === 'true';
}

function isFurnitureBox(element: DomElement): boolean {
  return FURNITURE_BOX.test(element.getAttribute('class') ?? '') || FURNITURE_BOX.test(element.getAttribute('id') ?? '');
}

/** The story's text blocks in reading order. */
function textBlocks(root: DomNode): Block[] {
  const blocks: Block[] = [];
  let text = '';
  let linkText = '';
  let tag = 'P';
  const flush = () => {
    const collapsed = collapse(text);
    if (collapsed !== '') blocks.push({ tag, text: collapsed, allLink: collapse(linkText) === collapsed });
    text = '';
    linkText = '';
  };
  const walk = (node: DomNode, inLink: boolean) => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === TEXT_NODE) {
        text += child.textContent ?? '';
        if (inLink) linkText += child.textContent ?? '';
        continue;
      }
      if (child.nodeType !== ELEMENT_NODE) continue;
      const element = child as DomElement;
      const name = element.tagName.toUpperCase();
      if (NEVER_STORY.has(name) || isHidden(element) || isFurnitureBox(element)) continue;
      if (name === 'BR') {
        text += ' ';
        continue;
      }
      if (!BLOCKS.has(name)) {
        walk(element, inLink || name === 'A');
        continue;
      }
      flush();
      const outer = tag;
      if (name !== 'DIV' && name !== 'SECTION' && name !== 'ARTICLE' && name !== 'MAIN' && name !== 'HEADER') tag = name;
      walk(element, inLink);
      flush();
      tag = outer;
    }
  };
  walk(root, false);
  return blocks;
}

// Lines that sit inside article bodies without being story.
const BODY_FURNITURE = [
  /^related\s*:/i,
  /^(read|see) (more|also)\s*:/i,
  /^(sign up|subscribe)\b.*\b(newsletter|updates|alerts|email)/i,
  /^(follow|like) us\b/i,
  /^powered by\b/i,
  /^(share|share this|share on|share article)\b.{0,40}$/i,
  /^(click|tap) here\b/i,
  /^(this|the) (story|article) (was|has been) (updated|corrected)\b.{0,60}$/i,
  /^(first )?(published|posted|updated)\b.{0,80}\d{4}\b.{0,30}$/i,
  /\border reprints\b|\btoday[’']s paper\b/i,
  /^a version of this (article|story) appears in print\b/i,
];

/** A short label that ends in a colon ("Cookie Search:"): a widget title. */
function isLabel(text: string): boolean {
  return /:$/.test(text) && text.split(/\s+/).length <= 3;
}

/** A block that is nothing but a date (one or several times): the page's dateline, not story. */
function isOnlyDate(text: string): boolean {
  return (
    parseDate(text) !== undefined &&
    text.replace(/[\p{L}\p{N}]+/gu, (word) => (/\d/.test(word) ? '' : 'w')).replace(/[^w]/g, '').length <= 6
  );
}

function isStoryFurniture(block: Block): boolean {
  return (
    isFurniture(block.text) || BODY_FURNITURE.some((pattern) => pattern.test(block.text)) || isLabel(block.text) || isOnlyDate(block.text)
  );
}

/** A heading that is really a lead paragraph styled large: a long sentence. */
function isSentence(text: string): boolean {
  return !looksLikeHeading(text) && text.split(/\s+/).length >= 8;
}

/** Story blocks → numbered paragraphs, with the heading each sits under. */
function storyParagraphs(blocks: Block[]): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let section: string | undefined;
  let offset = 0;
  for (const block of blocks) {
    if (isStoryFurniture(block)) continue;
    const heading = HEADINGS.has(block.tag) && !isSentence(block.text);
    if (heading) {
      section = block.text;
      continue;
    }
    // A short line without an end, in a paragraph of its own: a link to another story, a caption left
    // behind, a name under a photo. List items keep their short entries unless they are only a link.
    if (block.tag !== 'LI' && block.tag !== 'TD' && block.tag !== 'DD' && looksLikeHeading(block.text)) continue;
    if (block.allLink && looksLikeHeading(block.text)) continue;
    paragraphs.push({ number: paragraphs.length + 1, text: block.text, start: offset, end: offset + block.text.length, section });
    offset += block.text.length + 2;
  }
  return paragraphs;
}

const META_DATE_SELECTORS = [
  'meta[property="article:published_time"]',
  'meta[property="og:published_time"]',
  'meta[itemprop="datePublished"]',
  'meta[name="date"]',
  'meta[name="pubdate"]',
  'meta[name="publishdate"]',
  'meta[name="publish-date"]',
  'meta[name="DC.date.issued"]',
  'meta[name="dcterms.created"]',
  'meta[name="sailthru.date"]',
  'meta[name="parsely-pub-date"]',
];
/** Other metadata that names a date without naming which one: taken after the ones above, never a modification date. */
const DATED_META = /date|time/i;
const NOT_PUBLICATION = /modif|updat|expir|revis|viewport/i;

/** YYYY-MM-DD from a date as metadata writes it: ISO, "March 13, 2015", or "Fri Mar 13 21:30:09 EST 2015". */
function metadataDate(value: string | null | undefined): string | undefined {
  if (!value) return undefined;
  const date = parseDate(value) ?? unixDate(value);
  if (date) return date;
  const time = Date.parse(value);
  if (Number.isNaN(time)) return undefined;
  const year = new Date(time).getUTCFullYear();
  return year > 1990 && year < 2200 ? new Date(time).toISOString().slice(0, 10) : undefined;
}

/** "Fri Mar 13 21:30:09 EST 2015", the `date` command's format: the day as written, not shifted to UTC. */
function unixDate(value: string): string | undefined {
  const match = value.match(/\b([A-Za-z]{3,9})\s+(\d{1,2})\s+\d{1,2}:\d{2}(?::\d{2})?\s+(?:[A-Z]{2,5}\s+)?(\d{4})\b/);
  return match ? parseDate(`${match[1]} ${match[2]}, ${match[3]}`) : undefined;
}

/** The page's own date, from its metadata or its `<time>` elements: YYYY-MM-DD. */
function pageDate(document: DomDocument): string | undefined {
  const candidates: Array<string | null | undefined> = [];
  for (const selector of META_DATE_SELECTORS) candidates.push(document.querySelector(selector)?.getAttribute('content'));
  candidates.push(document.querySelector('[itemprop="datePublished"]')?.getAttribute('datetime'));
  candidates.push(document.querySelector('time[pubdate]')?.getAttribute('datetime'));
  for (const meta of Array.from(document.querySelectorAll('meta[content]'))) {
    const key = meta.getAttribute('name') ?? meta.getAttribute('property') ?? meta.getAttribute('itemprop') ?? '';
    if (DATED_META.test(key) && !NOT_PUBLICATION.test(key)) candidates.push(meta.getAttribute('content'));
  }
  candidates.push(document.querySelector('time[datetime]')?.getAttribute('datetime'));
  for (const candidate of candidates) {
    const date = metadataDate(candidate);
    if (date) return date;
  }
  return undefined;
}

/** News sites put the date in the article's address: /2015/03/18/. */
function urlDate(url: string | undefined): string | undefined {
  const match = url?.match(/\/((?:19|20)\d{2})\/(\d{2})\/(\d{2})(?:\/|$)/);
  return match ? parseDate(`${match[1]}-${match[2]}-${match[3]}`) : undefined;
}

/** Chrome and Internet Explorer mark a saved page with the address it came from; `add` does the same. */
const SAVED_FROM = /<!--\s*saved from url=\(\d+\)\s*(\S+?)\s*-->/i;

/** The comment that records where a saved page came from, in the form browsers write. */
export function savedFromComment(url: string): string {
  return `<!-- saved from url=(${String(url.length).padStart(4, '0')})${url} -->`;
}

/** The page's own address: its canonical link, its Open Graph URL, or the address it was saved from. */
function pageUrl(document: DomDocument, html: string): string | undefined {
  const savedFrom = absoluteUrl(html.slice(0, 4096).match(SAVED_FROM)?.[1], undefined);
  return (
    absoluteUrl(document.querySelector('link[rel="canonical"]')?.getAttribute('href'), savedFrom) ??
    absoluteUrl(document.querySelector('meta[property="og:url"]')?.getAttribute('content'), savedFrom) ??
    savedFrom
  );
}

/** The outlet: the page's site name (a bare address becomes its host), else what the address tells. */
function pageOutlet(siteName: string | null | undefined, url: string | undefined): string | undefined {
  const name = siteName ? collapse(siteName) : '';
  if (name !== '' && !/^(https?:\/\/|www\.)/i.test(name)) return name;
  const address = name !== '' ? (/^https?:/i.test(name) ? name : `https://${name}`) : url;
  if (!address) return undefined;
  return outletFromUrl(address) ?? hostOf(address)?.replace(/^www\./, '');
}

/**
 * A byline as pages print it → the names: "By GILLIAN MOHNEY\n March 11, 2015 3:46 PM" → "Gillian Mohney",
 * "by Lucas Nolan22 Dec 2016651" → "Lucas Nolan".
 */
export function cleanByline(raw: string | null | undefined): string | undefined {
  if (!raw) return undefined;
  const firstLine = raw.split(/\n/).find((line) => line.trim() !== '') ?? '';
  let byline = collapse(firstLine)
    .replace(/^(by|written by|words by|von|par|por)\s*[:|-]?\s+/i, '')
    .replace(/\d.*$/, '')
    .replace(/\s*[|,;–—-]+\s*$/, '')
    .trim();
  if (byline === '' || byline.length > 120) return undefined;
  if (byline === byline.toUpperCase() && /\p{Lu}{2}/u.test(byline)) {
    byline = byline
      .toLowerCase()
      .replace(/(^|[\s'’-])(\p{L})/gu, (_match, before: string, letter: string) => before + letter.toUpperCase());
  }
  return byline;
}

/**
 * Parses a saved web page. Throws UnreadableArticle when the page holds no article (Readability finds
 * none, or nothing of it is story once the furniture is gone).
 */
export function parseHtmlArticle(file: string, html: string, hash: string): Article {
  // A fragment (a page body without <html> and <body>) parses into a document with no body, which Readability cannot read.
  const whole = /<body[\s>]/i.test(html) ? html : `<!doctype html><html><body>${html}</body></html>`;
  const { document } = parseHTML(whole) as unknown as { document: DomDocument };
  // Read the page's own fields first: Readability takes the document apart as it works.
  const url = pageUrl(document, html);
  const lang = document.documentElement?.getAttribute('lang') ?? undefined;
  const metaDate = pageDate(document);
  let result: ReturnType<Readability<DomNode>['parse']>;
  try {
    // Classes are kept so that the furniture boxes Readability leaves in (a newsletter sign-up) can be told.
    result = new Readability<DomNode>(document as never, { keepClasses: true, serializer: (node) => node as unknown as DomNode }).parse();
  } catch (error) {
    throw new UnreadableArticle(file, `the page could not be read as an article (${(error as Error).message})`);
  }
  if (!result?.content)
    throw new UnreadableArticle(file, 'no article was found on the page (it looks like an index or a form, not a story)');
  const paragraphs = storyParagraphs(textBlocks(result.content));
  if (paragraphs.length === 0) throw new UnreadableArticle(file, 'no paragraph of story text was found on the page');
  const title = result.title ? collapse(result.title) : '';
  return {
    file,
    hash,
    title: title !== '' ? title : paragraphs[0]!.text.slice(0, 110),
    titleSource: title !== '' ? 'page' : 'lead',
    outlet: pageOutlet(result.siteName, url),
    byline: cleanByline(result.byline),
    date: metadataDate(result.publishedTime) ?? metaDate ?? bylineDate(result.byline) ?? urlDate(url),
    url,
    lang: result.lang ?? lang,
    paragraphs,
  };
}

function bylineDate(byline: string | null | undefined): string | undefined {
  return byline ? parseDate(byline) : undefined;
}
