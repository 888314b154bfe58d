/** A question as retrieval and quoting see it: its content stems, their idf weights, other names of the same country and close corpus words. */
import type { LexicalIndex } from '../index/bm25.js';
import { SAME_COUNTRY_CREDIT, sameCountry } from '../text/places.js';
import { tokenize } from '../text/tokens.js';
import type { TermNeighbours } from './soft-terms.js';

export interface QueryTerms {
  /** Distinct content stems of the question, then those its earlier questions add. */
  stems: string[];
  /** idf of each stem (scaled down for an earlier question's); the question's total weight is their sum. */
  weights: Map<string, number>;
  total: number;
  /** Per question stem, the stems that count for it and their credit: itself at 1, close words at less. */
  equivalents: Map<string, ReadonlyMap<string, number>>;
  /** Stems searched for, with their weight: the question's own at 1 and, lower, the words close to them. */
  searched: Map<string, number>;
  /** The stems taken from earlier questions. */
  fromEarlier: Set<string>;
  /** How each stem was first spelt (its word vector is the spelling's, "quit" rather than "quite"). */
  spellings: Map<string, string>;
}

/** A question that the one asked follows (it replies to the bot's answer to it): its words count, at `weight`. */
export interface EarlierQuestion {
  text: string;
  /** Share of full weight its words get, in (0, 1]. */
  weight: number;
}

/**
 * An earlier question's word is dropped when a word of the follow-up is this close to it: the follow-up
 * names a new value for the same slot ("and Moscow?" after a question about Washington).
 */
export const REPLACED_SIMILARITY = 0.5;

interface Word {
  stem: string;
  spelling: string;
}

/** Distinct stems of a text with the spelling each first had. */
function wordsOf(text: string, lexical: LexicalIndex): Word[] {
  const spellings = new Map<string, string>();
  for (const token of tokenize(text)) if (!spellings.has(token.stem)) spellings.set(token.stem, token.word);
  return [...new Set(lexical.termsOf(text))].map((stem) => ({ stem, spelling: spellings.get(stem) ?? stem }));
}

export function queryTerms(
  question: string,
  lexical: LexicalIndex,
  neighbours: TermNeighbours | null = null,
  earlier: readonly EarlierQuestion[] = [],
): QueryTerms {
  const own = wordsOf(question, lexical);
  const stems = own.map((word) => word.stem);
  const weights = new Map(stems.map((stem) => [stem, lexical.idf(stem)]));
  const equivalents = new Map<string, ReadonlyMap<string, number>>();
  const searched = new Map<string, number>();
  const fromEarlier = new Set<string>();
  const spellings = new Map(own.map((word) => [word.stem, word.spelling]));

  const add = (word: Word, share: number) => {
    const counted = new Map<string, number>([[word.stem, 1]]);
    const count = (other: string, credit: number) => {
      if ((counted.get(other) ?? 0) < credit) counted.set(other, credit);
      if ((searched.get(other) ?? 0) < credit * share) searched.set(other, credit * share);
    };
    count(word.stem, 1);
    // "American" is the articles' "US" and "Washington"; a word no article has, its closest article words.
    for (const other of sameCountry(word.stem)) count(other, SAME_COUNTRY_CREDIT);
    for (const neighbour of neighbours?.of(word, lexical.documentFrequency(word.stem)) ?? []) {
      count(neighbour.stem, neighbours!.creditOf(neighbour));
    }
    equivalents.set(word.stem, counted);
  };
  for (const word of own) add(word, 1);

  // The earlier questions' words that the follow-up neither repeats nor replaces, at their lower weight.
  const replaces = (word: Word) =>
    own.some(
      (mine) => sameCountry(mine.stem).has(word.stem) || (neighbours !== null && neighbours.similarity(mine, word) >= REPLACED_SIMILARITY),
    );
  for (const { text, weight } of earlier) {
    if (!(weight > 0)) continue;
    const share = Math.min(1, weight);
    for (const word of wordsOf(text, lexical)) {
      if (weights.has(word.stem) || replaces(word)) continue;
      stems.push(word.stem);
      weights.set(word.stem, lexical.idf(word.stem) * share);
      fromEarlier.add(word.stem);
      spellings.set(word.stem, word.spelling);
      add(word, share);
    }
  }
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  return { stems, weights, total, equivalents, searched, fromEarlier, spellings };
}
