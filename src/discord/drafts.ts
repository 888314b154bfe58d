/**
 * Answers and listings with their buttons: what the buttons need is remembered here, so a click later
 * finds the answer it belongs to.
 */
import { MAX_RESULTS, type Answer } from '../retrieval/answer.js';
import type { BotContext } from './context.js';
import type { ArticleFilter } from '../retrieval/filters.js';
import type { EarlierQuestion } from '../retrieval/question-terms.js';
import { customId } from './custom-id.js';
import { renderAnswer } from './render/answer-view.js';
import { renderSources } from './render/catalog-views.js';
import type { ButtonSpec, Draft } from './render/fit.js';

/**
 * Renders an answer with its buttons, remembering what they need: More (when more results may
 * exist), 👍 / 👎, and one Context button per result.
 */
/** The title of the answer to "Find sources": it names no question. */
export const SOURCES_TITLE = 'Sources for this message';
const MORE_TITLE = 'More: ';

/** The title of a page of More results. */
export function moreTitle(question: string): string {
  return `${MORE_TITLE}${question}`;
}

/**
 * The question an answer's embed title shows (titles are the question, escaped for Markdown, clipped to
 * Discord's limit), for a reply to an answer the memory has forgotten; null when the title names none.
 */
export function questionOfTitle(title: string | null | undefined): string | null {
  if (!title || title === SOURCES_TITLE) return null;
  const question = (title.startsWith(MORE_TITLE) ? title.slice(MORE_TITLE.length) : title).replace(/\\(.)/g, '$1').trim();
  return question === '' ? null : question;
}

export interface AnswerDraftOptions {
  pageSize: number;
  shownBefore?: string[];
  title?: string;
  /** How the question was asked, for More and for follow-ups. */
  asked?: { earlier?: readonly EarlierQuestion[]; filter?: ArticleFilter; postedIn?: string };
}

export async function answerDraft(ctx: BotContext, answer: Answer, options: AnswerDraftOptions): Promise<Draft> {
  if (answer.results.length === 0) return renderAnswer(answer, { title: options.title });
  const shown = [...(options.shownBefore ?? []), ...answer.results.map((result) => result.passageId)];
  const first = answer.results[0];
  const key = ctx.memory.remember({
    question: answer.question,
    pageSize: options.pageSize,
    shown,
    mode: answer.mode,
    answered: answer.answered,
    top: first ? { file: first.article.file, paragraph: first.paragraph, quote: first.quote } : null,
    votes: new Map(),
    ...(options.asked?.earlier?.length ? { earlier: options.asked.earlier } : {}),
    ...(options.asked?.filter ? { filter: options.asked.filter } : {}),
    ...(options.asked?.postedIn ? { channelId: options.asked.postedIn } : {}),
  });
  const actions: ButtonSpec[] = [];
  const mayHaveMore = answer.answered && answer.results.length >= options.pageSize && shown.length < MAX_RESULTS;
  if (mayHaveMore) actions.push({ customId: customId({ kind: 'more', key }), label: 'More', emoji: '➕', style: 'primary' });
  actions.push(
    { customId: customId({ kind: 'vote', key, vote: 'up' }), label: 'Helpful', emoji: '👍' },
    { customId: customId({ kind: 'vote', key, vote: 'down' }), label: 'Not helpful', emoji: '👎' },
  );
  const contexts: ButtonSpec[] = [];
  if (answer.answered) {
    for (const result of answer.results) {
      const label = await ctx.library.labelOf(result.passageId);
      if (label !== undefined)
        contexts.push({ customId: customId({ kind: 'context', label }), label: `Context ${result.rank}`, emoji: '📄' });
    }
  }
  return renderAnswer(answer, { title: options.title, rows: contexts.length > 0 ? [actions, contexts] : [actions] });
}

export function sourcesDraft(ctx: BotContext, page: number): Draft {
  const entries = ctx.library.articles.map((article) => ({
    file: article.file,
    title: article.title,
    outlet: article.outlet,
    byline: article.byline,
    date: article.date,
    url: article.url,
    passages: ctx.library.passageCount(article.file),
  }));
  return renderSources(entries, { page, pageSize: ctx.sourcesPageSize, pageId: (target) => customId({ kind: 'sources', page: target }) });
}
