/**
 * Quote selection: inside a retrieved passage, the sentence (or two adjacent sentences) that best answer
 * the question, cut at sentence boundaries so the quote is verbatim and reads whole.
 */
import { allStems, answerKind, holdsAnswerKind, tokenize, type AnswerKind } from '../text/tokens.js';
import { ALIAS_WEIGHT } from '../text/aliases.js';
import type { QueryTerms } from './search.js';
import type { IndexedPassage, Span } from '../model.js';

export interface Quote {
  text: string;
  /** Offsets of the quote in the passage text. */
  start: number;
  end: number;
  /** Words of the quote that match the question, relative to the quote text. */
  highlights: Span[];
}

/** Quotes longer than this get no second sentence. */
const MAX_QUOTE_CHARS = 450;
/** A sentence shorter than this rarely stands alone; it takes a neighbour for context. */
const SHORT_SENTENCE_WORDS = 8;

/** Share of the question's idf weight found in a set of stems (an alias counts for less than the word). */
function coverageOf(present: ReadonlySet<string>, terms: QueryTerms): number {
  if (terms.total === 0) return 0;
  let covered = 0;
  for (const [stem, weight] of terms.weights) {
    if (present.has(stem)) covered += weight;
    else if ([...(terms.equivalents.get(stem) ?? [])].some((alias) => present.has(alias))) covered += ALIAS_WEIGHT * weight;
  }
  return covered / terms.total;
}

// Quotes are cut from the same passages again and again; their sentences' stems are worth keeping.
const sentenceStemCache = new WeakMap<IndexedPassage, Set<string>[]>();

function sentenceStems(passage: IndexedPassage): Set<string>[] {
  let cached = sentenceStemCache.get(passage);
  if (!cached) {
    cached = passage.sentences.map((sentence) => new Set(allStems(passage.text.slice(sentence.start, sentence.end))));
    sentenceStemCache.set(passage, cached);
  }
  return cached;
}

/** Bonus for a sentence that holds the kind of thing the question asks for (a number for "how many"). */
const KIND_BONUS = 0.15;
/** Opening words that point back to the previous sentence: the quote takes it along. */
const DANGLING_START = /^(he|she|they|it|this|that|these|those|his|her|their|its|but|however|also|meanwhile)\b/i;

function sentenceScore(stems: ReadonlySet<string>, text: string, terms: QueryTerms, kind: AnswerKind): number {
  let score = coverageOf(stems, terms);
  if (holdsAnswerKind(text, kind)) score += KIND_BONUS;
  return score;
}

export function selectQuote(passage: IndexedPassage, terms: QueryTerms, question: string): Quote {
  const kind = answerKind(question);
  const { sentences } = passage;
  const stems = sentenceStems(passage);
  if (sentences.length === 0) return makeQuote(passage, { start: 0, end: passage.text.length }, terms);

  const scores = sentences.map((sentence, i) => sentenceScore(stems[i]!, passage.text.slice(sentence.start, sentence.end), terms, kind));
  let best = 0;
  for (let i = 1; i < scores.length; i += 1) if (scores[i]! > scores[best]!) best = i;

  let first = best;
  let last = best;
  const bestSentence = sentences[best]!;
  const bestText = passage.text.slice(bestSentence.start, bestSentence.end);
  const withinLimit = (from: number, to: number) => sentences[to]!.end - sentences[from]!.start <= MAX_QUOTE_CHARS;
  const short = bestText.split(/\s+/).length < SHORT_SENTENCE_WORDS;
  if (best > 0 && (DANGLING_START.test(bestText) || short) && withinLimit(best - 1, best)) {
    first = best - 1;
  } else if (best + 1 < sentences.length && withinLimit(best, best + 1)) {
    // The next sentence joins when it carries question words the best one lacks, or when the best is short.
    const union = new Set([...stems[best]!, ...stems[best + 1]!]);
    const gain = coverageOf(union, terms) - coverageOf(stems[best]!, terms);
    if (short || gain >= 0.2) last = best + 1;
  }
  return makeQuote(passage, { start: sentences[first]!.start, end: sentences[last]!.end }, terms);
}

function makeQuote(passage: IndexedPassage, span: Span, terms: QueryTerms): Quote {
  const text = passage.text.slice(span.start, span.end);
  const highlights = tokenize(text)
    .filter((token) => !token.stop && terms.searched.has(token.stem))
    .map((token) => ({ start: token.start, end: token.end }));
  return { text, start: span.start, end: span.end, highlights };
}
