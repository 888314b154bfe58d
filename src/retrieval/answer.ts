/**
 * From a question to an Answer as plain data: validated question, retrieval, a quote per result, the same
 * statement from several outlets merged into one result with corroboration, and abstention when nothing
 * matches confidently. Adapters (terminal, Discord, JSON) only render it.
 */
import { describeFact, metadataQuestion, sourceMentionedIn, sourceNames, type MetadataField } from './metadata.js';
import { passageContext, speakerOf, type Speaker } from './attribution.js';
import { acceptsArticle, ageOf, describeFilter, isEmptyFilter, type ArticleFilter } from './filters.js';
import { selectQuote, type QuoteQuery } from './quotes.js';
import type { EarlierQuestion } from './question-terms.js';
import { datePreference, describeDateIntent } from './date-intent.js';
import {
  DEFAULT_SEARCH,
  quoteQueryOf,
  search,
  withContext,
  type Hit,
  type SearchIndex,
  type SearchParameters,
  type SearchResult,
} from './search.js';
import { allStems, answerKind, contentStems, holdsAnswerKind } from '../text/tokens.js';
import { quoteLink } from '../text/urls.js';
import type { ArticleRecord, IndexedPassage, Span, RetrievalMode } from '../model.js';
import type { Embedder } from '../embedding/embedder.js';

export const MAX_QUESTION_CHARS = 1000;
export const MAX_RESULTS = 10;

export interface ArticleRef {
  file: string;
  title: string;
  outlet: string | null;
  byline: string | null;
  date: string | null;
  /** How old the article is on the day of the answer ("3 days ago"); null when undated. */
  age: string | null;
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
  /** Who says it, when the quote refers to its speaker only as "he" or "the official" and the article names them. */
  speaker?: Speaker;
}

/** The answer to a question about an article itself (its author, outlet or date), from its fields. */
export interface MetadataFact {
  field: MetadataField;
  /** The field as the article gives it; null when the article does not give it. */
  value: string | null;
  /** The answer as one sentence ("Written by John Haltiwanger."). */
  text: string;
  article: ArticleRef;
}

export interface Answer {
  question: string;
  mode: RetrievalMode;
  /** False when nothing matched confidently; `results` then lists the closest articles. */
  answered: boolean;
  /** A sentence for the user when the question could not be searched or the answer needs a caveat. */
  notice?: string;
  /** The question this one was read as following (it replied to the answer to it); its words counted too, at lower weight. */
  follows?: string;
  /** Set when the question asks who wrote an article, which outlet ran it or when: the results then support it. */
  fact?: MetadataFact;
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

/**
 * Whether a passage cannot answer what the question asks for: a "how many / how much" question and a
 * passage with no number at all (nor a number word). For numbers only: the same test with a date for
 * "when" or a name for "who" declined too many answerable questions, whose answers those patterns miss
 * (measured in the README, "Where the numbers stand").
 */
export function lacksAskedNumber(question: string, passage: Pick<IndexedPassage, 'text'>): boolean {
  return answerKind(question) === 'number' && !holdsAnswerKind(passage.text, 'number');
}

/**
 * How far down the ranking a how-many question looks for a passage that holds a number (5 and 100 gave the
 * same results on the three sets).
 */
const COUNTED_ANSWER_DEPTH = 5;

/**
 * For a how-many question whose best passage holds no number, moves the first of the next passages that
 * does and is matched with confidence (at the threshold or above) to the top: the story’s
 * first paragraph names the bridge, the second what it costs. Left as it is when there is none: the
 * question is then declined.
 */
function promoteCountedAnswer(question: string, result: SearchResult, threshold: number): void {
  const [best] = result.hits;
  if (!best || !lacksAskedNumber(question, best.passage)) return;
  const counted = result.hits
    .slice(0, COUNTED_ANSWER_DEPTH)
    .findIndex((hit) => confidenceOf(hit, result.mode) >= threshold && !lacksAskedNumber(question, hit.passage));
  if (counted > 0) result.hits = [result.hits[counted]!, ...result.hits.filter((_, i) => i !== counted)];
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

function articleRef(article: ArticleRecord, today: Date): ArticleRef {
  return {
    file: article.file,
    title: article.title,
    outlet: article.outlet ?? null,
    byline: article.byline ?? null,
    date: article.date ?? null,
    age: ageOf(article.date, today),
    url: article.url ?? null,
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
  /** Only articles of this outlet or date range answer. */
  filter?: ArticleFilter;
  /** The day articles' ages are counted to (now, unless a test fixes it). */
  today?: Date;
  /** The questions this one follows, most recent first (see `followUpOf`). */
  earlier?: readonly EarlierQuestion[];
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
  const earlier = (options.earlier ?? []).filter((one) => one.weight > 0 && checkQuestion(one.text).ok);
  const follows = earlier[0]?.text;
  const recognised = metadataQuestion(question);
  // "Thoreau's essay" is a piece in the story; "Newsweek's story" is an article of the library.
  const asked =
    recognised?.possessor && ![...options.index.articles.values()].some(sourceMentionedIn(recognised.possessor)) ? null : recognised;
  // "Who wrote it?" in reply to an answer asks about the article the earlier question found.
  const topicFollowed = asked !== null && contentStems(asked.topic).length === 0 && follows !== undefined;
  if (topicFollowed) asked.topic = follows;
  if (
    asked &&
    contentStems(asked.topic).length === 0 &&
    options.index.articles.size !== 1 &&
    !namedSources(question, options.index).length
  ) {
    const notice = `Which article do you mean? Name what it is about, as in "${exampleOf(asked.field)}".`;
    return { answer: { question, mode, answered: false, notice, results: [] }, ranking: null };
  }
  if (asked) {
    const named = namedSources(question, options.index);
    const sourceWords = new Set(contentStems(named.flatMap((article) => sourceNames(article)).join(' ')));
    if (named.length > 1 && contentStems(asked.topic).every((stem) => sourceWords.has(stem))) {
      const titles = named.slice(0, 5).map((article) => `“${article.title}”`);
      const notice = `${named.length} articles are from ${named[0]!.outlet ?? 'that source'}: ${titles.join(', ')}${named.length > 5 ? ', …' : ''}. Which one do you mean? Say what it is about.`;
      return { answer: { question, mode, answered: false, notice, results: [] }, ranking: null };
    }
  }
  const filter = isEmptyFilter(options.filter) ? undefined : options.filter!;
  let notice = options.notice;
  if (filter) {
    const accepted = [...options.index.articles.values()].filter((article) => acceptsArticle(filter, article)).length;
    const scope = `${accepted} of the ${options.index.articles.size} indexed articles are ${describeFilter(filter)}`;
    if (accepted === 0) {
      return {
        answer: {
          question,
          mode,
          answered: false,
          notice: `None of the ${options.index.articles.size} indexed articles is ${describeFilter(filter)}.`,
          results: [],
        },
        ranking: null,
      };
    }
    notice = [notice, `Answering from ${scope.replace(/ are /, ' that are ')}.`].filter(Boolean).join(' ');
  }
  // Fetch extra hits: merging duplicates and grouping by article both shrink the list.
  const result = await search(asked && contentStems(asked.topic).length > 0 ? asked.topic : question, {
    index: options.index,
    embedder: options.embedder,
    k: Math.max(k * 4 + 10, options.rankingDepth ?? 0),
    parameters: options.parameters,
    queryVector: asked || earlier.length > 0 ? undefined : options.queryVector,
    ...(asked || earlier.length === 0 ? {} : { earlier }),
    ...(filter ? { accept: (article: ArticleRecord) => acceptsArticle(filter, article) } : {}),
  });
  if (result.dateIntent && (options.parameters ?? DEFAULT_SEARCH).dateBonus > 0) {
    const intent = result.dateIntent;
    const matching =
      intent.kind === 'period'
        ? [...options.index.articles.values()].filter((article) => datePreference(intent, article.date, null) > 0).length
        : 1;
    // No article of the year asked about: the year is the story's ("the 1991 talks"), not the article's.
    if (matching > 0) notice = [notice, describeDateIntent(intent)].filter(Boolean).join(' ');
  }
  const threshold = (options.abstention ?? DEFAULT_ABSTENTION).threshold;
  promoteCountedAnswer(question, result, threshold);
  const best = result.hits[0];
  const confident = best !== undefined && confidenceOf(best, result.mode) >= threshold && !lacksAskedNumber(question, best.passage);
  const about = asked ? await articleAsked(question, asked.field, confident, result, options) : undefined;
  if (about) result.hits = about.hits;
  const answered = about !== undefined || confident;

  const band = (hit: Hit): ConfidenceBand => {
    // A passage without a number cannot answer a how-many question, however well its words match.
    if (lacksAskedNumber(question, hit.passage)) return 'low';
    const confidence = confidenceOf(hit, result.mode);
    if (confidence >= threshold + 0.2) return 'high';
    return confidence >= threshold ? 'medium' : 'low';
  };

  const today = options.today ?? new Date();
  const quoteQuery = quoteQueryOf(question, result.index, result, options.parameters);
  const results: AnswerResult[] = [];
  /** Each result's hit and quote, for naming its speaker once the passages around them can be read. */
  const quoted: Array<{ hit: Hit; quote: ReturnType<typeof selectQuote> }> = [];
  const statements: Array<Set<string>> = [];
  const seenArticles = new Set<string>();
  for (const hit of result.hits) {
    if (results.length >= k) break;
    // When abstaining, list each of the closest articles once.
    if (!answered && seenArticles.has(hit.article.file)) continue;
    seenArticles.add(hit.article.file);
    const quote = selectQuote(hit.passage, hit === about?.evidence?.hit ? about.evidence.query : quoteQuery);
    const stems = statementStems(quote.text);
    const duplicateOf = statements.findIndex(
      (other, i) => results[i]!.article.file !== hit.article.file && jaccard(stems, other) >= SAME_STATEMENT,
    );
    if (duplicateOf >= 0) {
      results[duplicateOf]!.corroboratedBy.push({ ...articleRef(hit.article, today), paragraph: hit.passage.paragraph, quote: quote.text });
      continue;
    }
    statements.push(stems);
    quoted.push({ hit, quote });
    results.push({
      rank: results.length + 1,
      score: Number(hit.score.toFixed(4)),
      // The passage naming an author was found by the name; how sure the answer is rests on the article's own match.
      confidence: band(hit === about?.evidence?.hit ? (about.support ?? hit) : hit),
      article: articleRef(hit.article, today),
      paragraph: hit.passage.paragraph,
      passageId: hit.passage.id,
      passage: hit.passage.text,
      quote: quote.text,
      link: quoteLink(hit.article.url, quote.text) ?? null,
      highlights: quote.highlights,
      corroboratedBy: [],
    });
  }
  await withContext(
    result,
    quoted.map(({ hit }) => hit),
  );
  quoted.forEach(({ hit, quote }, i) => {
    const speaker = speakerOf(quote.text, ...passageContext((label) => result.index.passages.get(label), hit.passage, quote));
    if (speaker) results[i]!.speaker = speaker;
  });
  const fact = about?.fact;
  return {
    answer: {
      question,
      mode: result.mode,
      answered,
      notice,
      ...(follows !== undefined && (!asked || topicFollowed) ? { follows } : {}),
      fact,
      results,
    },
    ranking: result,
  };
}

const EXAMPLES: Record<MetadataField, string> = {
  byline: 'Who wrote the article about troops in Syria?',
  outlet: 'Which outlet ran the story about troops in Syria?',
  date: 'When was the article about troops in Syria published?',
};

function exampleOf(field: MetadataField): string {
  return EXAMPLES[field];
}

/** Articles whose outlet or site the question names. */
function namedSources(question: string, index: SearchIndex): ArticleRecord[] {
  return [...index.articles.values()].filter(sourceMentionedIn(question));
}

interface ArticleAsked {
  fact: MetadataFact;
  /** The hits with the article's own first, so that the results support the fact. */
  hits: Hit[];
  /** For an author: the passage that names them, with the quote query that finds the name. */
  evidence?: { hit: Hit; query: QuoteQuery };
  /** The article's best hit for the question's topic. */
  support?: Hit;
}

/**
 * The article a metadata question is about: among those the question's topic retrieves, the first whose
 * outlet the question names, else the first; an article named by its outlet alone when it is the only one.
 */
async function articleAsked(
  question: string,
  field: MetadataField,
  confident: boolean,
  found: SearchResult,
  options: AnswerOptions,
): Promise<ArticleAsked | undefined> {
  const { index } = options;
  const named = new Set(namedSources(question, index).map((article) => article.file));
  let article: ArticleRecord | undefined;
  if (named.size > 0) article = found.hits.find((hit) => named.has(hit.article.file))?.article;
  if (!article && named.size === 1) article = index.articles.get([...named][0]!);
  if (!article && named.size === 0 && index.articles.size === 1) article = [...index.articles.values()][0];
  if (!article && confident && named.size === 0) article = found.hits[0]?.article;
  if (!article) return undefined;

  const chosen = article;
  const own = found.hits.filter((hit) => hit.article.file === chosen.file);
  const others = found.hits.filter((hit) => hit.article.file !== chosen.file);
  const value = chosen[field] ?? null;
  const fact: MetadataFact = { field, value, text: describeFact(field, value), article: articleRef(chosen, options.today ?? new Date()) };
  const evidence = field === 'byline' && value ? await passageNaming(value, chosen, options) : undefined;
  const ownRest = own.filter((hit) => hit.passage.label !== evidence?.hit.passage.label);
  return { fact, hits: [...(evidence ? [evidence.hit] : []), ...ownRest, ...others], evidence, support: ownRest[0] };
}

/** The article's passage that names its author (a bio line, "writes Jane Doe"), found through the index. */
async function passageNaming(byline: string, article: ArticleRecord, options: AnswerOptions): Promise<ArticleAsked['evidence']> {
  const names = byline
    .split(/\s*(?:,|&|\band\b|\bwith\b|\bby\b|\|)\s*/i)
    .map((name) => name.trim())
    .filter((name) => /\p{Lu}\p{Ll}+\s+\p{Lu}/u.test(name));
  for (const name of names) {
    const byName = await search(name, { index: options.index, embedder: null, k: 50, parameters: options.parameters });
    const hit = byName.hits.find((candidate) => candidate.article.file === article.file && candidate.passage.text.includes(name));
    if (hit) return { hit, query: quoteQueryOf(name, byName.index, byName, options.parameters) };
  }
  return undefined;
}
