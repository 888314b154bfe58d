/** A question as retrieval and quoting see it: its content stems, their idf weights and news aliases. */
import type { LexicalIndex } from '../index/bm25.js';
import { ALIAS_WEIGHT, aliasesOf } from '../text/aliases.js';

export interface QueryTerms {
  /** Distinct content stems of the question. */
  stems: string[];
  /** idf of each stem; the question's total weight is their sum. */
  weights: Map<string, number>;
  total: number;
  /** Stems that count as a stem of the question (itself and its aliases). */
  equivalents: Map<string, ReadonlySet<string>>;
  /** Stems searched for: the question's own and, at lower weight, their aliases. */
  searched: Map<string, number>;
}

export function queryTerms(question: string, lexical: LexicalIndex, withAliases = true): QueryTerms {
  const stems = [...new Set(lexical.termsOf(question))];
  const weights = new Map(stems.map((stem) => [stem, lexical.idf(stem)]));
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  const equivalents = new Map<string, ReadonlySet<string>>();
  const searched = new Map<string, number>(stems.map((stem) => [stem, 1]));
  for (const stem of stems) {
    const aliases = withAliases ? aliasesOf(stem) : new Set<string>();
    equivalents.set(stem, new Set([stem, ...aliases]));
    for (const alias of aliases) if (!searched.has(alias)) searched.set(alias, ALIAS_WEIGHT);
  }
  return { stems, weights, total, equivalents, searched };
}
