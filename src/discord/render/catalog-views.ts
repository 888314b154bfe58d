/** Views of the library itself: the /sources listing, one article (/article), a quote in its context. */
import type { APIEmbedField } from 'discord.js';
import { bold, hyperlink } from 'discord.js';
import { hostOf } from '../../text/urls.js';
import type { AddedLink } from '../../web/add-pages.js';
import { fitQuote, MAX_BYLINE_IN_SOURCE, renderNotice } from './answer-view.js';
import { escapeText } from './escape.js';
import { DISCORD_LIMITS, type Draft } from './fit.js';
import { clipMarkdown, clipPlain, fairShares, longestFitting, oneLine, safeUrl } from './text.js';

export interface ListedArticle {
  file: string;
  title: string;
  outlet?: string;
  byline?: string;
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
export function renderSources(entries: ListedArticle[], view: SourcesView): Draft {
  const pageSize = Math.max(1, Math.min(DISCORD_LIMITS.embedFields, Math.floor(view.pageSize)));
  const pageCount = Math.max(1, Math.ceil(entries.length / pageSize));
  const page = Math.min(pageCount - 1, Math.max(0, Math.floor(view.page)));
  if (entries.length === 0) return renderNotice('No articles are indexed yet. Add pages with /add, or files to the seeds folder.');
  const fields: APIEmbedField[] = entries.slice(page * pageSize, (page + 1) * pageSize).map((entry, offset) => {
    const details = [entry.outlet ? escapeText(oneLine(entry.outlet)) : 'unknown outlet'];
    if (entry.byline) details.push(`by ${escapeText(clipPlain(oneLine(entry.byline), MAX_BYLINE_IN_SOURCE))}`);
    details.push(entry.date ?? 'undated', `${entry.passages} passage${entry.passages === 1 ? '' : 's'}`);
    const link = safeUrl(entry.url);
    if (link) details.push(hyperlink('link', link));
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
  fields.push({ name: 'Link', value: link ? hyperlink(escapeText(hostOf(link) ?? 'link'), link) : 'no link in the article', inline: true });
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
export function renderContext(
  article: Pick<ArticleInfo, 'title' | 'outlet' | 'date' | 'url'>,
  paragraphs: ParagraphText[],
  focus: number,
): Draft {
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
    const label = `${bold(`¶${paragraph.number}`)} `;
    if (paragraph.number === focus) return fitQuote(paragraph.text, [], room - label.length).replace(/^> /, `> ${label}`);
    return fitParagraph(label, paragraph.text, room);
  };
  const shares = fairShares(
    paragraphs.map((paragraph) => render(paragraph, Number.MAX_SAFE_INTEGER).length),
    budget - separator.length * (paragraphs.length - 1),
  );
  return paragraphs.map((paragraph, index) => render(paragraph, shares[index]!)).join(separator);
}

function fitParagraph(label: string, text: string, budget: number): string {
  const full = `${label}${escapeText(text)}`;
  if (full.length <= budget) return full;
  return longestFitting(text, budget, `${label}…`, (cut) => `${label}${escapeText(cut)}…`);
}

/** What /add did with each link: the article it indexed (headline, outlet, date, passages), or why not. */
export function renderAdditions(outcomes: readonly AddedLink[]): Draft {
  const fields: APIEmbedField[] = outcomes.slice(0, DISCORD_LIMITS.embedFields).map((outcome) => {
    if (outcome.status === 'added') {
      const { article } = outcome;
      const details = [article.outlet ? escapeText(oneLine(article.outlet)) : 'unknown outlet'];
      if (article.byline) details.push(`by ${escapeText(clipPlain(oneLine(article.byline), MAX_BYLINE_IN_SOURCE))}`);
      details.push(article.date ?? 'undated');
      if (outcome.passages !== undefined) details.push(`${outcome.passages} passage${outcome.passages === 1 ? '' : 's'}`);
      const link = safeUrl(article.url);
      if (link) details.push(hyperlink('link', link));
      return {
        name: clipMarkdown(`Added: ${escapeText(oneLine(article.title))}`, DISCORD_LIMITS.fieldName),
        value: clipMarkdown(details.join(' · '), DISCORD_LIMITS.fieldValue),
      };
    }
    if (outcome.status === 'already-indexed') {
      return {
        name: clipMarkdown(`Already indexed: ${escapeText(oneLine(outcome.title))}`, DISCORD_LIMITS.fieldName),
        value: clipMarkdown(
          `${escapeText(oneLine(outcome.link))} is in the library already (${escapeText(outcome.file)}).`,
          DISCORD_LIMITS.fieldValue,
        ),
      };
    }
    return {
      name: 'Not added',
      value: clipMarkdown(escapeText(oneLine(outcome.reason)), DISCORD_LIMITS.fieldValue),
    };
  });
  const added = outcomes.filter((outcome) => outcome.status === 'added').length;
  return {
    embeds: [
      {
        title: added > 0 ? `Indexed ${added} new article${added === 1 ? '' : 's'}` : 'Nothing new was indexed',
        fields,
        footer: { text: 'Ask about it with /ask; /sources lists every article.' },
      },
    ],
  };
}
