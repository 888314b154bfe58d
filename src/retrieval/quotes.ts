/**
 * Quote selection: inside a retrieved passage, the sentence (or two adjacent sentences) that best answer
 * the question, cut at sentence boundaries so the quote is verbatim and reads whole. Sentences are scored
 * with the index's own coverage, the signal retrieval ranked the passage by.
 */
import type { IndexedPassage, Span } from '../model.js';
import { answerKind, holdsAnswerKind, tokenize } from '../text/tokens.js';
import type { QueryTerms } from './question-terms.js';

export interface Quote {
  text: string;
  /** Offsets of the quote in the passage text. */
  start: number;
  end: number;
  /** Words of the quote that match the question, relative to the quote text. */
  highlights: Span[];
}

/** A question as quote selection needs it. */
export interface QuoteQuery {
  question: string;
  /** The question's terms: the quote highlights the words searched for. */
  terms: QueryTerms;
  /** Share of the question's weight that sentences `first`..`last` of a passage hold together. */
  coverage(passage: IndexedPassage, first: number, last: number): number;
  /** Added for a sentence that holds the kind of thing the question asks for (a number for "how many"). */
  kindBonus: number;
}

/** Quotes longer than this get no second sentence. */
const MAX_QUOTE_CHARS = 450;
/** A sentence shorter than this rarely stands alone; it takes a neighbour for context. */
const SHORT_SENTENCE_WORDS = 8;
/**
 * Opening words that point back to the previous sentence ("He said…", "In that test, …", "At the time…"):
 * the quote takes it along.
 */
const DANGLING_START =
  /^(he|she|they|it|this|that|these|those|his|her|their|its|but|however|also|meanwhile|(in|at|after|by|during|for|from|since|until|with|under) (that|this|these|those|then|it|them|the time)\b)\b/i;
/** A sentence that is a quotation opens with a quotation mark. */
const OPENS_QUOTATION = /^[“"‘«]/;
/** A sentence that quotes something itself (then a quotation after it is not one it announces). */
const QUOTATION_MARK = /[“”‘"«»]/;
/** Question words a second sentence must add (as a share of the question) to join the quote. */
const MIN_JOIN_GAIN = 0.2;

export function selectQuote(passage: IndexedPassage, query: QuoteQuery): Quote {
  const { sentences } = passage;
  if (sentences.length === 0) return makeQuote(passage, { start: 0, end: passage.text.length }, query.terms);
  const kind = answerKind(query.question);

  const scores = sentences.map((sentence, i) => {
    const text = passage.text.slice(sentence.start, sentence.end);
    return query.coverage(passage, i, i) + (holdsAnswerKind(text, kind) ? query.kindBonus : 0);
  });
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
    // The next sentence joins when it carries question words the best one lacks, when the best is short,
    // when it goes on from the best ("He is also…") with more of the question, or when it is the
    // quotation the best one announces ("…summed it up with a metaphor. “It's not the wolf…”").
    const gain = query.coverage(passage, best, best + 1) - query.coverage(passage, best, best);
    const nextSentence = sentences[best + 1]!;
    const nextText = passage.text.slice(nextSentence.start, nextSentence.end);
    const goesOn = DANGLING_START.test(nextText) && gain > 0;
    const quotationAnnounced = OPENS_QUOTATION.test(nextText) && !QUOTATION_MARK.test(bestText);
    if (short || gain >= MIN_JOIN_GAIN || goesOn || quotationAnnounced) last = best + 1;
  }
  return makeQuote(passage, { start: sentences[first]!.start, end: sentences[last]!.end }, query.terms);
}

function makeQuote(passage: IndexedPassage, span: Span, terms: QueryTerms): Quote {
  const text = passage.text.slice(span.start, span.end);
  const highlights = tokenize(text)
    .filter((token) => !token.stop && terms.searched.has(token.stem))
    .map((token) => ({ start: token.start, end: token.end }));
  return { text, start: span.start, end: span.end, highlights };
}
