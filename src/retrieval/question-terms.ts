/** A question as retrieval and quoting see it: its content stems, their idf weights, other names of the same country and close corpus words. */
import type { LexicalIndex } from '../index/bm25.js';
import { SAME_COUNTRY_CREDIT, sameCountry } from '../text/places.js';
import { tokenize } from '../text/tokens.js';
import type { TermNeighbours } from './soft-terms.js';

export interface QueryTerms {
  /** Distinct content stems of the question. */
  stems: string[];
  /** idf of each stem; the question's total weight is their sum. */
  weights: Map<string, number>;
  total: number;
  /** Per question stem, the stems that count for it and their credit: itself at 1, close words at less. */
  equivalents: Map<string, ReadonlyMap<string, number>>;
  /** Stems searched for, with their weight: the question's own at 1 and, lower, the words close to them. */
  searched: Map<string, number>;
}

export function queryTerms(question: string, lexical: LexicalIndex, neighbours: TermNeighbours | null = null): QueryTerms {
  const stems = [...new Set(lexical.termsOf(question))];
  const weights = new Map(stems.map((stem) => [stem, lexical.idf(stem)]));
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  const equivalents = new Map<string, ReadonlyMap<string, number>>();
  const searched = new Map<string, number>(stems.map((stem) => [stem, 1]));
  // The question's own spelling of each stem: neighbours are looked up by the word the reader wrote.
  const spellings = new Map<string, string>();
  if (neighbours) for (const token of tokenize(question)) if (!spellings.has(token.stem)) spellings.set(token.stem, token.word);
  for (const stem of stems) {
    const counted = new Map<string, number>([[stem, 1]]);
    const count = (other: string, credit: number) => {
      if ((counted.get(other) ?? 0) < credit) counted.set(other, credit);
      if ((searched.get(other) ?? 0) < credit) searched.set(other, credit);
    };
    // "American" is the articles' "US" and "Washington"; a word no article has, its closest article words.
    for (const other of sameCountry(stem)) count(other, SAME_COUNTRY_CREDIT);
    for (const neighbour of neighbours?.of({ stem, spelling: spellings.get(stem) ?? stem }, lexical.documentFrequency(stem)) ?? []) {
      count(neighbour.stem, neighbours!.creditOf(neighbour));
    }
    equivalents.set(stem, counted);
  }
  return { stems, weights, total, equivalents, searched };
}
