/**
 * Everything citebot sends to Discord is built here: answers, notices, article listings, autocomplete
 * choices and buttons. One place knows Discord's limits, escapes quoted text so it can neither ping nor
 * break the Markdown, and sets `allowedMentions: { parse: [] }`. Adapters only pick a `for…` function
 * for the kind of send they make.
 */
import { ButtonStyle, ComponentType, MessageFlags, escapeMarkdown } from 'discord.js';
import type {
  APIActionRowComponent,
  APIApplicationCommandOptionChoice,
  APIButtonComponentWithCustomId,
  APIEmbed,
  APIEmbedField,
  InteractionEditReplyOptions,
  InteractionReplyOptions,
  MessageReplyOptions,
} from 'discord.js';
import type { Answer, AnswerResult, ArticleRef, ConfidenceBand } from '../../retrieval/answer.js';
import type { Span } from '../../model.js';
import { hostOf } from '../../text/urls.js';

/** Discord's documented limits, in UTF-16 code units (never more than Discord's own count). */
export const DISCORD_LIMITS = {
  content: 2000,
  embedsPerMessage: 10,
  embedTitle: 256,
  embedDescription: 4096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footerText: 2048,
  authorName: 256,
  /** Content plus every embed's title, description, fields, footer and author. */
  messageTotal: 6000,
  actionRows: 5,
  buttonsPerRow: 5,
  buttonLabel: 80,
  customId: 100,
  choices: 25,
  choiceName: 100,
  choiceValue: 100,
} as const;

// ---------------------------------------------------------------------------
// Drafts: what renderers produce before the limits are applied
// ---------------------------------------------------------------------------

export interface ButtonSpec {
  customId: string;
  label: string;
  emoji?: string;
  style?: 'primary' | 'secondary' | 'success' | 'danger';
  disabled?: boolean;
}

export interface Draft {
  content?: string;
  embeds?: APIEmbed[];
  /** Rows of buttons, top to bottom. */
  rows?: ButtonSpec[][];
}

type ButtonRow = APIActionRowComponent<APIButtonComponentWithCustomId>;

/** A draft with every limit applied. */
export interface FittedMessage {
  content?: string;
  embeds: APIEmbed[];
  components: ButtonRow[];
}

const NO_MENTIONS = { parse: [] as never[] };

// ---------------------------------------------------------------------------
// The outputs: one per kind of send
// ---------------------------------------------------------------------------

/** A reply to a user's message: pings nobody, not even the author, and survives the message's deletion. */
export function forReply(draft: Draft): MessageReplyOptions {
  return { ...fit(draft), allowedMentions: { ...NO_MENTIONS, repliedUser: false }, failIfNotExists: false };
}

/** The first response to an interaction (reply). */
export function forInteraction(draft: Draft, options: { ephemeral?: boolean } = {}): InteractionReplyOptions {
  return { ...fit(draft), allowedMentions: NO_MENTIONS, ...(options.ephemeral ? { flags: MessageFlags.Ephemeral } : {}) };
}

/**
 * Replaces a message: editReply after deferReply, or update() from a button. Content is always set so
 * that nothing of the previous message survives.
 */
export function forEdit(draft: Draft): InteractionEditReplyOptions & { content: string } {
  const fitted = fit(draft);
  return { ...fitted, content: fitted.content ?? '', allowedMentions: NO_MENTIONS };
}

/** Autocomplete choices: at most 25, names of 1–100 characters, values that fit. Plain text, no Markdown. */
export function forChoices(choices: Array<{ name: string; value: string }>): APIApplicationCommandOptionChoice<string>[] {
  return choices
    .filter((choice) => choice.value.length >= 1 && choice.value.length <= DISCORD_LIMITS.choiceValue)
    .slice(0, DISCORD_LIMITS.choices)
    .map((choice) => ({ name: clipPlain(oneLine(choice.name) || choice.value, DISCORD_LIMITS.choiceName), value: choice.value }));
}

// ---------------------------------------------------------------------------
// Escaping
// ---------------------------------------------------------------------------

/**
 * Makes text from articles or users render literally: every Markdown marker escaped (including the
 * ones discord.js leaves alone by default: headings, lists, masked links, block quotes and subtext)
 * and mentions neutralised.
 */
export function escapeText(text: string): string {
  const escaped = whitespaceChunks(text, ESCAPE_CHUNK)
    .map((chunk) => escapeMarkdown(chunk, { heading: true, bulletedList: true, numberedList: true, maskedLink: true }))
    .join('')
    // escapeMarkdown leaves line-leading ">" (block quote) and "-#" (subtext) alone.
    .replace(/^(\s*)(>|-#)/gm, '$1\\$2');
  return neutraliseMentions(escaped);
}

/**
 * escapeMarkdown's italic rule uses an unbounded lookbehind and takes quadratic time (150 ms for 12,000
 * characters), so long text is escaped in pieces. Pieces end just before whitespace: no Markdown marker
 * contains whitespace, so none is ever split; a piece start that looks like a line start only gets a
 * harmless extra backslash.
 */
const ESCAPE_CHUNK = 256;

function whitespaceChunks(text: string, size: number): string[] {
  const chunks: string[] = [];
  let start = 0;
  while (text.length - start > size) {
    let cut = -1;
    for (let index = start + size; index > start; index -= 1) {
      if (/\s/.test(text[index]!)) {
        cut = index;
        break;
      }
    }
    if (cut < 0) {
      const next = text.slice(start + size).search(/\s/);
      if (next < 0) break;
      cut = start + size + next;
    }
    chunks.push(text.slice(start, cut));
    start = cut;
  }
  chunks.push(text.slice(start));
  return chunks;
}

/**
 * Breaks @everyone, @here, <@user>, <@!user>, <@&role> and <#channel> with a zero-width space, so they
 * show as text instead of mentions even where allowedMentions does not apply (embeds render them).
 */
export function neutraliseMentions(text: string): string {
  return text.replace(/@(everyone|here)/gi, '@\u200b$1').replace(/<(@[!&]?|#)(?=\d)/g, '<$1\u200b');
}

// ---------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------

const BAND_COLOURS: Record<ConfidenceBand | 'none', number> = {
  high: 0x2e9e5b,
  medium: 0xd4a017,
  low: 0x8a8f98,
  none: 0x8a8f98,
};

/** A result block is never squeezed below this; results that do not fit are left out and counted. */
const MIN_RESULT_CHARS = 320;
const MAX_TITLE_IN_SOURCE = 180;

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
    ? ''
    : 'No confident match: nothing in the indexed articles answers this confidently. The closest articles:\n\n';
  const blocks = answer.results.map((result) =>
    answer.answered ? (budget: number) => resultBlock(result, budget) : (budget: number) => closestBlock(result, budget),
  );
  const description = intro + packBlocks(blocks, DISCORD_LIMITS.embedDescription - intro.length);
  const top = answer.answered ? (answer.results[0]?.confidence ?? 'none') : 'none';
  const embed: APIEmbed = {
    title: clipMarkdown(escapeText(oneLine(title)), DISCORD_LIMITS.embedTitle),
    description,
    color: BAND_COLOURS[top],
    footer: { text: `${answer.mode} retrieval · quotes are verbatim from the articles` },
  };
  return { content, embeds: [embed], rows: view.rows };
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
  const source = `${sourceLine(result, result.rank)} · confidence: **${result.confidence}**`;
  const corroboration = result.corroboratedBy.length
    ? `\nAlso reported by ${result.corroboratedBy.map((other) => `${escapeText(oneLine(other.outlet ?? other.title))} (¶${other.paragraph})`).join(', ')}`
    : '';
  const fullTail = `\n${source}${corroboration}`;
  const fullQuote = renderQuote(result.quote, result.highlights);
  if (fullQuote.length + fullTail.length <= budget) return fullQuote + fullTail;
  // Squeezed: the quote keeps at least half the room, the source line the rest (never under 80).
  const tail = clipMarkdown(fullTail, Math.max(80, budget - Math.min(fullQuote.length, Math.floor(budget / 2))));
  return `${fitQuote(result.quote, result.highlights, budget - tail.length)}${tail}`;
}

function closestBlock(result: AnswerResult, budget: number): string {
  return clipMarkdown(sourceLine(result, result.rank), budget);
}

/** "**1.** Headline — Outlet, 2017-12-22, ¶7, [link](…)" */
function sourceLine(result: Pick<AnswerResult, 'article' | 'paragraph'>, rank: number): string {
  const article: ArticleRef = result.article;
  const parts = [article.outlet ? escapeText(oneLine(article.outlet)) : 'unknown outlet', article.date ?? 'undated', `¶${result.paragraph}`];
  const link = safeUrl(article.url);
  if (link) parts.push(`[link](${link})`);
  return `**${rank}.** ${escapeText(clipPlain(oneLine(article.title), MAX_TITLE_IN_SOURCE))} — ${parts.join(', ')}`;
}

/** The quote as a block quote (every line), escaped, with its matching words in bold. */
export function renderQuote(quote: string, highlights: Span[]): string {
  const spans = mergeSpans(highlights, quote);
  let out = '';
  let cursor = 0;
  for (const span of spans) {
    out += escapeText(quote.slice(cursor, span.start));
    out += `**${escapeText(quote.slice(span.start, span.end))}**`;
    cursor = span.end;
  }
  out += escapeText(quote.slice(cursor));
  return out
    .split(/\r?\n/)
    .map((line) => `> ${line}`)
    .join('\n');
}

/** renderQuote cut at a word, with "…", to at most `budget` characters. */
function fitQuote(quote: string, highlights: Span[], budget: number): string {
  const full = renderQuote(quote, highlights);
  if (full.length <= budget) return full;
  // The rendered length grows with the raw length and is never shorter: find the longest cut that fits.
  let low = 0;
  let high = Math.min(quote.length, Math.max(0, budget));
  let best = renderQuote('…', []);
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const cut = cutWords(quote, middle);
    const rendered = renderQuote(`${cut}…`, highlights.filter((span) => span.end <= cut.length));
    if (rendered.length <= budget) {
      best = rendered;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
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

// ---------------------------------------------------------------------------
// Notices, sources, articles, context
// ---------------------------------------------------------------------------

/** A short sentence of ours (an error, a refusal, a confirmation). User text inside must be escaped first. */
export function renderNotice(text: string): Draft {
  return { content: text };
}

/** Echoes user-typed text inside a notice: one line, escaped, shortened. */
export function quoteUserText(text: string, max = 80): string {
  return `“${escapeText(clipPlain(oneLine(text), max))}”`;
}

export interface SourceEntry {
  file: string;
  title: string;
  outlet?: string;
  date?: string;
  url?: string;
  passages: number;
}

export interface SourcesView {
  page: number;
  pageSize: number;
  /** The custom id of the button that shows `page`. */
  pageId: (page: number) => string;
}

/** One page of the indexed articles, with Prev/Next buttons. `page` is clamped to the pages there are. */
export function renderSources(entries: SourceEntry[], view: SourcesView): Draft {
  const pageSize = Math.max(1, Math.min(DISCORD_LIMITS.embedFields, Math.floor(view.pageSize)));
  const pageCount = Math.max(1, Math.ceil(entries.length / pageSize));
  const page = Math.min(pageCount - 1, Math.max(0, Math.floor(view.page)));
  if (entries.length === 0) return renderNotice('No articles are indexed yet. Add files to the seeds folder and restart the bot.');
  const fields: APIEmbedField[] = entries.slice(page * pageSize, (page + 1) * pageSize).map((entry, offset) => {
    const details = [entry.outlet ? escapeText(oneLine(entry.outlet)) : 'unknown outlet', entry.date ?? 'undated', `${entry.passages} passage${entry.passages === 1 ? '' : 's'}`];
    const link = safeUrl(entry.url);
    if (link) details.push(`[link](${link})`);
    return {
      name: clipMarkdown(`${page * pageSize + offset + 1}. ${escapeText(oneLine(entry.title))}`, DISCORD_LIMITS.fieldName),
      value: clipMarkdown(details.join(' · '), DISCORD_LIMITS.fieldValue),
    };
  });
  return {
    embeds: [
      {
        title: `Indexed articles (${entries.length})`,
        fields,
        footer: { text: `Page ${page + 1} of ${pageCount} · /article shows one in full` },
      },
    ],
    rows: [
      [
        { customId: view.pageId(page - 1), label: 'Prev', emoji: '◀️', disabled: page === 0 },
        { customId: view.pageId(page + 1), label: 'Next', emoji: '▶️', disabled: page >= pageCount - 1 },
      ],
    ],
  };
}

export interface ArticleInfo {
  file: string;
  title: string;
  outlet?: string;
  byline?: string;
  date?: string;
  url?: string;
  paragraphCount: number;
}

export interface ParagraphText {
  number: number;
  text: string;
}

const OPENING_BUDGET = 1800;

/** Headline, outlet, date, link and the opening paragraphs of one article. */
export function renderArticle(article: ArticleInfo, opening: ParagraphText[]): Draft {
  const paragraphs = packParagraphs(opening, OPENING_BUDGET, null);
  const link = safeUrl(article.url);
  const fields: APIEmbedField[] = [
    { name: 'Outlet', value: article.outlet ? escapeText(oneLine(article.outlet)) : 'unknown', inline: true },
    { name: 'Date', value: article.date ?? 'undated', inline: true },
    { name: 'Paragraphs', value: String(article.paragraphCount), inline: true },
  ];
  if (article.byline) fields.push({ name: 'Byline', value: escapeText(oneLine(article.byline)), inline: true });
  fields.push({ name: 'Link', value: link ? `[${escapeText(hostOf(link) ?? 'link')}](${link})` : 'no link in the article', inline: true });
  return {
    embeds: [
      {
        title: clipMarkdown(escapeText(oneLine(article.title)), DISCORD_LIMITS.embedTitle),
        ...(link ? { url: link } : {}),
        description: paragraphs,
        fields,
        footer: { text: clipPlain(article.file, 200) },
      },
    ],
  };
}

/** The paragraphs around a quote; the quoted paragraph is set off as a block quote. */
export function renderContext(article: Pick<ArticleInfo, 'title' | 'outlet' | 'date' | 'url'>, paragraphs: ParagraphText[], focus: number): Draft {
  const link = safeUrl(article.url);
  return {
    embeds: [
      {
        title: clipMarkdown(escapeText(oneLine(article.title)), DISCORD_LIMITS.embedTitle),
        ...(link ? { url: link } : {}),
        description: packParagraphs(paragraphs, DISCORD_LIMITS.embedDescription, focus),
        footer: { text: clipPlain(`${article.outlet ?? 'unknown outlet'} · ${article.date ?? 'undated'} · ¶${focus} in context`, 200) },
      },
    ],
  };
}

function packParagraphs(paragraphs: ParagraphText[], budget: number, focus: number | null): string {
  if (paragraphs.length === 0) return '*No text for this part of the article.*';
  const separator = '\n\n';
  const render = (paragraph: ParagraphText, room: number) => {
    const label = `**¶${paragraph.number}** `;
    if (paragraph.number === focus) return fitQuote(paragraph.text, [], room - label.length).replace(/^> /, `> ${label}`);
    return fitParagraph(label, paragraph.text, room);
  };
  const shares = fairShares(
    paragraphs.map((paragraph) => render(paragraph, Number.MAX_SAFE_INTEGER).length),
    budget - separator.length * (paragraphs.length - 1),
  );
  return paragraphs.map((paragraph, index) => render(paragraph, shares[index]!)).join(separator);
}

/** Splits `budget` so that short items keep their whole length and long ones share what is left. */
function fairShares(lengths: number[], budget: number): number[] {
  const shares = new Array<number>(lengths.length).fill(0);
  let remaining = budget;
  const order = lengths.map((length, index) => ({ length, index })).sort((a, b) => a.length - b.length);
  order.forEach(({ length, index }, position) => {
    shares[index] = Math.min(length, Math.floor(remaining / (order.length - position)));
    remaining -= shares[index]!;
  });
  return shares;
}

function fitParagraph(label: string, text: string, budget: number): string {
  const full = `${label}${escapeText(text)}`;
  if (full.length <= budget) return full;
  let low = 0;
  let high = Math.min(text.length, Math.max(0, budget));
  let best = `${label}…`;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = `${label}${escapeText(cutWords(text, middle))}…`;
    if (candidate.length <= budget) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------
// Limits: the last word on every outgoing message
// ---------------------------------------------------------------------------

/** Applies every Discord limit to a draft and neutralises mentions everywhere. */
export function fit(draft: Draft): FittedMessage {
  let content = draft.content === undefined ? undefined : clipMarkdown(neutraliseMentions(draft.content), DISCORD_LIMITS.content);
  const embeds = (draft.embeds ?? []).slice(0, DISCORD_LIMITS.embedsPerMessage).map(fitEmbed);
  shrinkToTotal(embeds, content?.length ?? 0);
  const overflow = messageChars(content, embeds) - DISCORD_LIMITS.messageTotal;
  if (overflow > 0 && content !== undefined) content = clipMarkdown(content, Math.max(1, content.length - overflow));
  if ((content === undefined || content.trim() === '') && embeds.length === 0) content = '(nothing to show)';
  return { ...(content === undefined || content === '' ? {} : { content }), embeds, components: fitRows(draft.rows ?? []) };
}

function fitEmbed(embed: APIEmbed): APIEmbed {
  const fitted: APIEmbed = { ...embed };
  if (fitted.title !== undefined) fitted.title = clipMarkdown(neutraliseMentions(fitted.title), DISCORD_LIMITS.embedTitle);
  if (fitted.description !== undefined) fitted.description = clipMarkdown(neutraliseMentions(fitted.description), DISCORD_LIMITS.embedDescription);
  if (fitted.url !== undefined && !safeUrl(fitted.url)) delete fitted.url;
  if (fitted.footer) fitted.footer = { ...fitted.footer, text: clipPlain(neutraliseMentions(fitted.footer.text), DISCORD_LIMITS.footerText) || '\u200b' };
  if (fitted.author) fitted.author = { ...fitted.author, name: clipPlain(neutraliseMentions(fitted.author.name), DISCORD_LIMITS.authorName) || '\u200b' };
  if (fitted.fields) {
    fitted.fields = fitted.fields.slice(0, DISCORD_LIMITS.embedFields).map((field) => ({
      ...field,
      name: clipMarkdown(neutraliseMentions(field.name), DISCORD_LIMITS.fieldName) || '\u200b',
      value: clipMarkdown(neutraliseMentions(field.value), DISCORD_LIMITS.fieldValue) || '\u200b',
    }));
  }
  return fitted;
}

function embedChars(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.author?.name.length ?? 0) +
    (embed.fields ?? []).reduce((sum, field) => sum + field.name.length + field.value.length, 0)
  );
}

function messageChars(content: string | undefined, embeds: APIEmbed[]): number {
  return (content?.length ?? 0) + embeds.reduce((sum, embed) => sum + embedChars(embed), 0);
}

/** Keeps content plus embeds within the per-message total: last embeds' fields go first, then descriptions. */
function shrinkToTotal(embeds: APIEmbed[], contentChars: number): void {
  const over = () => contentChars + embeds.reduce((sum, embed) => sum + embedChars(embed), 0) - DISCORD_LIMITS.messageTotal;
  for (let index = embeds.length - 1; index >= 0 && over() > 0; index -= 1) {
    const embed = embeds[index]!;
    while (over() > 0 && embed.fields && embed.fields.length > 0) embed.fields = embed.fields.slice(0, -1);
    if (over() > 0 && embed.description) {
      const target = embed.description.length - over();
      if (target >= 1) embed.description = clipMarkdown(embed.description, target);
      else delete embed.description;
    }
    if (over() > 0 && index > 0) embeds.splice(index, 1);
  }
}

const BUTTON_STYLES = {
  primary: ButtonStyle.Primary,
  secondary: ButtonStyle.Secondary,
  success: ButtonStyle.Success,
  danger: ButtonStyle.Danger,
} as const;

function fitRows(rows: ButtonSpec[][]): ButtonRow[] {
  const seen = new Set<string>();
  const fitted: ButtonRow[] = [];
  for (const row of rows) {
    if (fitted.length >= DISCORD_LIMITS.actionRows) break;
    const buttons: APIButtonComponentWithCustomId[] = [];
    for (const spec of row) {
      if (buttons.length >= DISCORD_LIMITS.buttonsPerRow) break;
      // An over-long or repeated custom id would make Discord refuse the whole message.
      if (spec.customId.length === 0 || spec.customId.length > DISCORD_LIMITS.customId || seen.has(spec.customId)) continue;
      seen.add(spec.customId);
      const label = clipPlain(oneLine(spec.label), DISCORD_LIMITS.buttonLabel);
      buttons.push({
        type: ComponentType.Button,
        style: BUTTON_STYLES[spec.style ?? 'secondary'],
        custom_id: spec.customId,
        ...(label ? { label } : {}),
        ...(spec.emoji ? { emoji: { name: spec.emoji } } : {}),
        ...(spec.disabled ? { disabled: true } : {}),
      });
    }
    if (buttons.length > 0) fitted.push({ type: ComponentType.ActionRow, components: buttons });
  }
  return fitted;
}

// ---------------------------------------------------------------------------
// Small text helpers
// ---------------------------------------------------------------------------

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Cuts plain text (labels, footers, choices: no Markdown) to `max` with an ellipsis. */
export function clipPlain(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${dropBrokenSurrogate(text.slice(0, Math.max(0, max - 1))).trimEnd()}…`;
}

/**
 * Cuts Markdown to `max` with an ellipsis without leaving a dangling escape or an unclosed bold marker,
 * either of which would change how the rest renders.
 */
export function clipMarkdown(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = safeCut(text, max - 1);
  if (unescapedBoldMarkers(cut) % 2 === 1) cut = `${safeCut(cut, max - 3)}**`;
  return `${cut}…`;
}

function safeCut(text: string, length: number): string {
  let cut = dropBrokenSurrogate(text.slice(0, Math.max(0, length)));
  const backslashes = /\\+$/.exec(cut)?.[0].length ?? 0;
  if (backslashes % 2 === 1) cut = cut.slice(0, -1);
  return cut;
}

function unescapedBoldMarkers(text: string): number {
  return text.match(/(?<!\\)\*\*/g)?.length ?? 0;
}

function dropBrokenSurrogate(text: string): string {
  return /[\uD800-\uDBFF]$/.test(text) ? text.slice(0, -1) : text;
}

/** The longest prefix of at most `length` characters that ends at a word boundary when one is near. */
function cutWords(text: string, length: number): string {
  if (length >= text.length) return text;
  const cut = dropBrokenSurrogate(text.slice(0, length));
  const space = cut.lastIndexOf(' ');
  return (space > length * 0.6 ? cut.slice(0, space) : cut).trimEnd();
}

/** An http(s) URL safe inside a Markdown link, or undefined. */
function safeUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(/^https?:\/\//i.test(url) ? url : `https://${url}`);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    const href = parsed.href.replace(/\(/g, '%28').replace(/\)/g, '%29');
    return href.length <= 512 ? href : undefined;
  } catch {
    return undefined;
  }
}
