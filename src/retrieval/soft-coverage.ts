/**
 * Soft coverage: how much of the question a sentence says in other words. Every question word also
 * counts as found in a sentence that holds a close word ("pull out" for "withdraw"), with a credit equal
 * to their similarity. Unlike soft term matching (which widens the lexical search, and only for words no
 * article holds), this only scores candidates that were already found, so a close-but-wrong neighbour
 * ("soldiers" → "civilians") can lift a passage's rank, never bring in one that shares nothing.
 */
import type { CoverageQuery, LexicalIndex } from '../index/bm25.js';
import type { QueryTerms } from './question-terms.js';
import type { TermNeighbours } from './soft-terms.js';

export interface SoftCoverage {
  /** Least cosine similarity for a sentence word to count for a question word. */
  threshold: number;
}

/**
 * `exact` (the question's coverage query) with credits added for every word of the candidate passages that
 * is close to a question word; a word's own credit is kept when it is higher.
 */
export function softCoverageQuery(
  exact: CoverageQuery,
  terms: Pick<QueryTerms, 'stems' | 'spellings'>,
  candidates: Iterable<number>,
  lexical: LexicalIndex,
  neighbours: TermNeighbours,
  settings: SoftCoverage,
): CoverageQuery {
  const directions = terms.stems.map((stem) => neighbours.directionOf({ stem, spelling: terms.spellings.get(stem) ?? stem }));
  const credits = new Map(exact.credits);
  const seen = new Set<number>();
  for (const label of candidates) {
    for (const sentence of lexical.sentenceTermIds(label)) {
      for (const id of sentence) {
        if (seen.has(id)) continue;
        seen.add(id);
        const stem = lexical.termOf(id);
        if (stem === undefined) continue;
        const own = exact.credits.get(id) ?? [];
        let merged: Array<[number, number]> | null = null;
        directions.forEach((direction, word) => {
          if (!direction || terms.stems[word] === stem) return;
          const similarity = neighbours.similarityToCorpusStem(direction, stem);
          if (similarity < settings.threshold) return;
          if (own.some(([ownWord, credit]) => ownWord === word && credit >= similarity)) return;
          merged = (merged ?? own).filter(([ownWord]) => ownWord !== word);
          merged.push([word, similarity]);
        });
        if (merged) credits.set(id, merged);
      }
    }
  }
  return { shares: exact.shares, credits };
}
