/**
 * From a question to an Answer as plain data: validated question, retrieval, a quote per result, the same
 * statement from several outlets merged into one result with corroboration, and abstention when nothing
 * matches confidently. Adapters (terminal, Discord, JSON) only render it.
 */
import { selectQuote } from './quotes.js';
import { quoteQueryOf, search, type Hit, type SearchIndex, type SearchParameters, type SearchResult } from './search.js';
import { allStems, contentStems } from '../text/tokens.js';
import { quoteLink } from '../text/urls.js';
import type { Span, RetrievalMode } from '../model.js';
import type { Embedder } from '../embedding/embedder.js';

export const MAX_QUESTION_CHARS = 1000;
export const MAX_RESULTS = 10;

export interface ArticleRef {
  file: string;
  title: string;
  outlet: string | null;
  byline: string | null;
  date: string | null;
  url: string | null;
}

export interface Corroboration extends ArticleRef {
  paragraph: number;
  quote: string;
}

export type ConfidenceBand = 'high' | 'medium' | 'low';

export interface AnswerResult {
  rank: number;
  score: number;
  confidence: ConfidenceBand;
  article: ArticleRef;
  paragraph: number;
  passageId: string;
  passage: string;
  quote: string;
  /** The article's address opening at the quote (a text fragment), when the article has an address. */
  link: string | null;
  /** Matching words in the quote, as offsets into `quote`. */
  highlights: Span[];
  /** Other articles (usually other outlets) that carry the same statement. */
  corroboratedBy: Corroboration[];
}

export interface Answer {
  question: string;
  mode: RetrievalMode;
  /** False when nothing matched confidently; `results` then lists the closest articles. */
  answered: boolean;
  /** A sentence for the user when the question could not be searched or the answer needs a caveat. */
  notice?: string;
  results: AnswerResult[];
}

/**
 * How sure retrieval is of its best passage: the share of the question's weight (idf) its best sentence
 * and the whole passage contain, nudged by embedding similarity when there is one.
 */
export function confidenceOf(hit: Hit, mode: RetrievalMode): number {
  const lexical = 0.5 * hit.signals.sentence + 0.5 * hit.signals.coverage;
  return mode === 'hybrid' ? 0.8 * lexical + 0.2 * Math.max(0, hit.signals.dense) : lexical;
}

export interface AbstentionPolicy {
  /** Below this confidence the answer abstains. */
  threshold: number;
}

/** Tuned on eval/seeds-questions.jsonl with `npm run check -- --tune` (see README). */
export const DEFAULT_ABSTENTION: AbstentionPolicy = { threshold: 0.226 };

export type QuestionCheck = { ok: true; question: string } | { ok: false; reason: string };

/**
 * Cleans a question as typed in chat (mentions, Markdown markers, stray whitespace) and refuses what
 * cannot be searched, with a sentence that says why.
 */
export function checkQuestion(raw: string): QuestionCheck {
  const withoutMentions = raw.replace(/<@[!&]?\d+>|<#\d+>|<a?:\w+:\d+>|@(everyone|here)\b/g, ' ');
  const cleaned = withoutMentions
    .replace(/[*_~`]+/g, '')
    .replace(/[|>#]+/g, ' ')
    // Control characters (C0, DEL, C1) separate words; invisible format characters (zero-width, bidi
    // overrides and isolates, BOM) are dropped so that they can neither glue nor disguise text.
    // eslint-disable-next-line no-control-regex -- removing control characters is the point
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, ' ')
    .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (cleaned === '') {
    const onlyMentions = withoutMentions.trim() === '' && raw.trim() !== '';
    return {
      ok: false,
      reason: onlyMentions
        ? 'The message has only mentions in it, no question. Ask something like "How many US troops are in Syria?"'
        : 'The question is empty. Ask something like "How many US troops are in Syria?"',
    };
  }
  if (cleaned.length > MAX_QUESTION_CHARS) {
    return {
      ok: false,
      reason: `The question is ${cleaned.length.toLocaleString('en-US')} characters long; please keep it to ${MAX_QUESTION_CHARS.toLocaleString('en-US')} or fewer.`,
    };
  }
  if (allStems(cleaned).length === 0) {
    return { ok: false, reason: 'The question has no words to search for (only symbols or emoji). Ask it in words.' };
  }
  return { ok: true, question: cleaned };
}

function articleRef(hit: Hit): ArticleRef {
  return {
    file: hit.article.file,
    title: hit.article.title,
    outlet: hit.article.outlet ?? null,
    byline: hit.article.byline ?? null,
    date: hit.article.date ?? null,
    url: hit.article.url ?? null,
  };
}

/** Content stems of a quote, to tell the same statement carried by two outlets. */
function statementStems(text: string): Set<string> {
  return new Set(contentStems(text));
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const item of a) if (b.has(item)) shared += 1;
  const union = a.size + b.size - shared;
  return union === 0 ? 0 : shared / union;
}

/** Two quotes this similar (Jaccard of content stems) are one statement. */
const SAME_STATEMENT = 0.6;

export interface AnswerOptions {
  index: SearchIndex;
  embedder: Embedder | null;
  /** Number of results wanted (1–10). */
  k?: number;
  parameters?: SearchParameters;
  abstention?: AbstentionPolicy;
  queryVector?: Float32Array;
  /** A caveat to pass on, such as why retrieval is lexical-only. */
  notice?: string;
  /** Hits the ranking should hold at least (the check judges the top 10 paragraphs). */
  rankingDepth?: number;
}

export async function answerQuestion(rawQuestion: string, options: AnswerOptions): Promise<Answer> {
  return (await answerWithRanking(rawQuestion, options)).answer;
}

/**
 * The answer and the ranking it was made from (null when the question could not be searched): the
 * retrieval check judges the ranking and the answer from one retrieval.
 */
export async function answerWithRanking(
  rawQuestion: string,
  options: AnswerOptions,
): Promise<{ answer: Answer; ranking: SearchResult | null }> {
  const wanted = Number.isFinite(options.k) ? Math.floor(options.k!) : 3;
  const k = Math.min(MAX_RESULTS, Math.max(1, wanted));
  const mode: RetrievalMode = options.index.vectors && options.embedder ? 'hybrid' : 'lexical';
  const checked = checkQuestion(rawQuestion);
  if (!checked.ok) return { answer: { question: rawQuestion, mode, answered: false, notice: checked.reason, results: [] }, ranking: null };

  const question = checked.question;
  // Fetch extra hits: merging duplicates and grouping by article both shrink the list.
  const result = await search(question, {
    index: options.index,
    embedder: options.embedder,
    k: Math.max(k * 4 + 10, options.rankingDepth ?? 0),
    parameters: options.parameters,
    queryVector: options.queryVector,
  });
  const threshold = (options.abstention ?? DEFAULT_ABSTENTION).threshold;
  const top = result.hits[0];
  const answered = top !== undefined && confidenceOf(top, result.mode) >= threshold;

  const band = (hit: Hit): ConfidenceBand => {
    const confidence = confidenceOf(hit, result.mode);
    if (confidence >= threshold + 0.2) return 'high';
    return confidence >= threshold ? 'medium' : 'low';
  };

  const quoteQuery = quoteQueryOf(question, options.index, result, options.parameters);
  const results: AnswerResult[] = [];
  const statements: Array<Set<string>> = [];
  const seenArticles = new Set<string>();
  for (const hit of result.hits) {
    if (results.length >= k) break;
    // When abstaining, list each of the closest articles once.
    if (!answered && seenArticles.has(hit.article.file)) continue;
    seenArticles.add(hit.article.file);
    const quote = selectQuote(hit.passage, quoteQuery);
    const stems = statementStems(quote.text);
    const duplicateOf = statements.findIndex(
      (other, i) => results[i]!.article.file !== hit.article.file && jaccard(stems, other) >= SAME_STATEMENT,
    );
    if (duplicateOf >= 0) {
      results[duplicateOf]!.corroboratedBy.push({ ...articleRef(hit), paragraph: hit.passage.paragraph, quote: quote.text });
      continue;
    }
    statements.push(stems);
    results.push({
      rank: results.length + 1,
      score: Number(hit.score.toFixed(4)),
      confidence: band(hit),
      article: articleRef(hit),
      paragraph: hit.passage.paragraph,
      passageId: hit.passage.id,
      passage: hit.passage.text,
      quote: quote.text,
      link: quoteLink(hit.article.url, quote.text) ?? null,
      highlights: quote.highlights,
      corroboratedBy: [],
    });
  }
  return { answer: { question, mode: result.mode, answered, notice: options.notice, results }, ranking: result };
}
