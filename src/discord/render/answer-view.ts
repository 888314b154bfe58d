/**
 * An answer as Discord shows it: each result a block-quoted verbatim quote with its matching words in
 * bold and its source line (headline, outlet, date, paragraph, link), packed fairly into one embed; or
 * an honest "no confident match" with the closest articles. Also the short notices of the bot.
 */
import type { APIEmbed } from 'discord.js';
import { bold, hyperlink, quote as quoteLine } from 'discord.js';
import { quoteWithSpeaker } from '../../retrieval/attribution.js';
import type { Span } from '../../model.js';
import type { Answer, AnswerResult, ArticleRef, ConfidenceBand, MetadataFact } from '../../retrieval/answer.js';
import { escapeText } from './escape.js';
import { DISCORD_LIMITS, type ButtonSpec, type Draft } from './fit.js';
import { clipMarkdown, clipPlain, fairShares, longestFitting, oneLine, safeUrl } from './text.js';

const BAND_COLOURS: Record<ConfidenceBand | 'none', number> = {
  high: 0x2e9e5b,
  medium: 0xd4a017,
  low: 0x8a8f98,
  none: 0x8a8f98,
};

/** A result block is never squeezed below this; results that do not fit are left out and counted. */
const MIN_RESULT_CHARS = 320;

const MAX_TITLE_IN_SOURCE = 180;
/** Bylines can be a whole sentence of names and roles; the source line keeps the first of it. */
export const MAX_BYLINE_IN_SOURCE = 60;

export interface AnswerView {
  /** Replaces the question as the embed title (e.g. "Sources for this message"). */
  title?: string;
  rows?: ButtonSpec[][];
}

/** An answer: each result as a block-quoted verbatim quote with its source, or an honest "no match". */
export function renderAnswer(answer: Answer, view: AnswerView = {}): Draft {
  const content = answer.notice ? `⚠️ ${answer.notice}` : undefined;
  if (answer.results.length === 0) {
    return { content: content ?? 'Nothing in the indexed articles matches this question.', rows: view.rows };
  }
  const title = view.title ?? answer.question;
  const intro = answer.answered
    ? answer.fact
      ? factBlock(answer.fact)
      : ''
    : 'No confident match: nothing in the indexed articles answers this confidently. The closest articles:\n\n';
  const blocks = answer.results.map((result) =>
    answer.answered ? (budget: number) => resultBlock(result, budget) : (budget: number) => closestBlock(result, budget),
  );
  const description = intro + packBlocks(blocks, DISCORD_LIMITS.embedDescription - intro.length);
  const top = answer.answered ? (answer.results[0]?.confidence ?? 'none') : 'none';
  const embed: APIEmbed = {
    title: clipMarkdown(escapeText(oneLine(title)), DISCORD_LIMITS.embedTitle),
    // Author names are plain text (no Markdown): the question it follows, so the reader sees how it was read.
    ...(answer.follows ? { author: { name: clipPlain(`↪ following: ${oneLine(answer.follows)}`, DISCORD_LIMITS.authorName) } } : {}),
    description,
    color: BAND_COLOURS[top],
    footer: {
      text: `${answer.mode} retrieval · quotes are verbatim from the articles${answer.results.some((result) => result.speaker) ? '; [names] in brackets are added from the article' : ''}`,
    },
  };
  return { content, embeds: [embed], rows: view.rows };
}

/** "**Written by Jane Doe.**" over the article it is read from, before the passages that support it. */
function factBlock(fact: MetadataFact): string {
  const { article } = fact;
  const parts = [article.outlet ? escapeText(oneLine(article.outlet)) : 'unknown outlet', article.date ?? 'undated'];
  const link = safeUrl(article.url);
  if (link) parts.push(hyperlink('link', link));
  const source = `${escapeText(clipPlain(oneLine(article.title), MAX_TITLE_IN_SOURCE))} — ${parts.join(', ')}`;
  return `${bold(escapeText(clipPlain(oneLine(fact.text), 300)))}\n${source}\n\nFrom the article:\n`;
}

/** Joins result blocks, sharing the budget fairly and leaving out (and counting) what cannot fit. */
function packBlocks(blocks: Array<(budget: number) => string>, budget: number): string {
  const separator = '\n\n';
  const omittedNote = (count: number) => `${separator}…and ${count} more result${count === 1 ? '' : 's'} not shown.`;
  const reserve = omittedNote(999).length;
  const capacity = Math.max(1, Math.floor((budget - reserve) / (MIN_RESULT_CHARS + separator.length)));
  const shown = blocks.slice(0, capacity);
  const omitted = blocks.length - shown.length;
  const available = budget - (omitted > 0 ? reserve : 0) - separator.length * (shown.length - 1);
  const allowance = fairShares(
    shown.map((block) => block(Number.MAX_SAFE_INTEGER).length),
    available,
  );
  const text = shown.map((block, index) => block(allowance[index]!)).join(separator);
  return omitted > 0 ? text + omittedNote(omitted) : text;
}

function resultBlock(result: AnswerResult, budget: number): string {
  const source = `${sourceLine(result, result.rank)} · confidence: ${bold(result.confidence)}`;
  const corroboration = result.corroboratedBy.length
    ? `\nAlso reported by ${result.corroboratedBy.map((other) => `${escapeText(oneLine(other.outlet ?? other.title))} (¶${other.paragraph})`).join(', ')}`
    : '';
  const fullTail = `\n${source}${corroboration}`;
  const shown = quoteWithSpeaker(result.quote, result.highlights, result.speaker);
  const fullQuote = renderQuote(shown.text, shown.highlights);
  if (fullQuote.length + fullTail.length <= budget) return fullQuote + fullTail;
  // Squeezed: the quote keeps at least half the room, the source line the rest (never under 80).
  const tail = clipMarkdown(fullTail, Math.max(80, budget - Math.min(fullQuote.length, Math.floor(budget / 2))));
  return `${fitQuote(shown.text, shown.highlights, budget - tail.length)}${tail}`;
}

function closestBlock(result: AnswerResult, budget: number): string {
  return clipMarkdown(sourceLine(result, result.rank), budget);
}

/** "**1.** Headline — Outlet, 2017-12-22, ¶7, [link](…)" */
function sourceLine(result: Pick<AnswerResult, 'article' | 'paragraph'> & { link?: string | null }, rank: number): string {
  const article: ArticleRef = result.article;
  const parts = [article.outlet ? escapeText(oneLine(article.outlet)) : 'unknown outlet'];
  if (article.byline) parts.push(`by ${escapeText(clipPlain(oneLine(article.byline), MAX_BYLINE_IN_SOURCE))}`);
  parts.push(article.date ? `${article.date}${article.age ? ` (${article.age})` : ''}` : 'undated', `¶${result.paragraph}`);
  // The link opens the page at the quote where it can; an address too long for Discord falls back to the page.
  const link = safeUrl(result.link) ?? safeUrl(article.url);
  if (link) parts.push(hyperlink('link', link));
  return `${bold(`${rank}.`)} ${escapeText(clipPlain(oneLine(article.title), MAX_TITLE_IN_SOURCE))} — ${parts.join(', ')}`;
}

/** The quote as a block quote (every line), escaped, with its matching words in bold. */
export function renderQuote(quote: string, highlights: Span[]): string {
  const spans = mergeSpans(highlights, quote);
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    out += escapeText(quote.slice(cursor, span.start));
    out += bold(escapeText(quote.slice(span.start, span.end)));
    cursor = span.end;
  }
  out += escapeText(quote.slice(cursor));
  return out
    .split(/\r?\n/)
    .map((line) => quoteLine(line))
    .join('\n');
}

/** renderQuote cut at a word, with "…", to at most `budget` characters. */
export function fitQuote(quote: string, highlights: Span[], budget: number): string {
  const full = renderQuote(quote, highlights);
  if (full.length <= budget) return full;
  return longestFitting(quote, budget, renderQuote('…', []), (cut) =>
    renderQuote(
      `${cut}…`,
      highlights.filter((span) => span.end <= cut.length),
    ),
  );
}

/**
 * Sorted, clipped, non-overlapping spans. Spans that touch or are only whitespace apart merge, so bold
 * markers never abut and "**US troops**" reads as one phrase.
 */
function mergeSpans(spans: Span[], text: string): Span[] {
  const sorted = spans
    .map((span) => ({ start: Math.max(0, span.start), end: Math.min(text.length, span.end) }))
    .filter((span) => span.end > span.start)
    .sort((a, b) => a.start - b.start);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && (span.start <= last.end || /^[^\S\n]+$/.test(text.slice(last.end, span.start)))) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** A short sentence of ours (an error, a refusal, a confirmation). User text inside must be escaped first. */
export function renderNotice(text: string): Draft {
  return { content: text };
}

/** Echoes user-typed text inside a notice: one line, escaped, shortened. */
export function quoteUserText(text: string, max = 80): string {
  return `“${escapeText(clipPlain(oneLine(text), max))}”`;
}
