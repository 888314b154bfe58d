/**
 * citebot's BM25+ (src/index/bm25.ts) as one SQL statement over `citebot_postings`. The corpus
 * statistics and each term's idf are computed here, in JavaScript, with the in-memory index's own
 * formulas; the database does only what IEEE doubles do the same everywhere (+, −, ×, ÷), accumulating
 * each passage's score in the order the in-memory index does (question term, then text before title).
 * So a passage's score is the in-memory score bit for bit, and ties fall to the lower label as there.
 */
import { bm25Idf, type Bm25Parameters } from '../../index/bm25.js';
import { TEXT_FIELD, TITLE_FIELD, type Tables } from './schema.js';

/** What BM25 needs of the corpus, read with the query's terms. */
export interface CorpusStats {
  generation: number;
  /** Live passages. */
  passages: number;
  textLengthTotal: number;
  titleLengthTotal: number;
  bm25: Bm25Parameters;
  titleBoost: number;
}

export interface TermStat {
  id: number;
  /** Passages whose text holds the term. */
  textDf: number;
  /** Passages whose headline or section heading holds it. */
  titleDf: number;
}

/** The same as `LexicalIndex.search`: at most 32 distinct terms are scored. */
export const MAX_QUERY_TERMS = 32;

/** The lexical index's own idf, so that SQL scores equal the in-memory ones to the bit. */
export { bm25Idf };

/** One (term, field) the statement scores: its ids, its factor (weight × boost × idf) and the field's average length. */
export interface ScoringRows {
  termIds: number[];
  fields: number[];
  factors: number[];
  averages: number[];
  bits: number[];
  /** Question terms by bit, for `matched`. */
  terms: string[];
}

/** The rows to score `weighted` with, in the in-memory index's order; empty when no term is in the index. */
export function scoringRows(
  weighted: ReadonlyMap<string, number>,
  stats: CorpusStats,
  termStats: ReadonlyMap<string, TermStat>,
): ScoringRows {
  const rows: ScoringRows = { termIds: [], fields: [], factors: [], averages: [], bits: [], terms: [] };
  const terms = [...weighted.keys()].slice(0, MAX_QUERY_TERMS);
  rows.terms = terms;
  if (stats.passages === 0) return rows;
  const averages = [stats.textLengthTotal / stats.passages || 1, stats.titleLengthTotal / stats.passages || 1];
  terms.forEach((term, bit) => {
    const stat = termStats.get(term);
    if (!stat) return;
    const weight = weighted.get(term) ?? 1;
    for (const [field, boost, df] of [
      [TEXT_FIELD, 1, stat.textDf],
      [TITLE_FIELD, stats.titleBoost, stat.titleDf],
    ] as const) {
      if (boost === 0 || df === 0) continue;
      rows.termIds.push(stat.id);
      rows.fields.push(field);
      rows.factors.push(weight * boost * bm25Idf(stats.passages, df));
      rows.averages.push(averages[field]!);
      rows.bits.push(bit);
    }
  });
  return rows;
}

/**
 * The scoring statement: $1–$5 the scoring rows, $6 d, $7 k + 1, $8 k, $9 b; then `extra` decides what
 * else is bound (a limit and filter, or the labels to score). Written as bm25.ts's loop writes it:
 * `factor * (d + (k + 1) * (tf / (tf + k * (1 - b + (b * length) / average))))`.
 */
export function scoringSql(tables: Tables, where: string, tail: string): string {
  return `SELECT p.label,
      sum(q.factor * ($6::float8 + $7::float8 * (p.tf::float8 / (p.tf::float8 + $8::float8 * (1 - $9::float8 + ($9::float8 * p.length) / q.average)))) ORDER BY q.bit, q.field) AS score,
      bit_or(1::bigint << q.bit) AS mask
    FROM unnest($1::integer[], $2::smallint[], $3::float8[], $4::float8[], $5::integer[]) AS q(term_id, field, factor, average, bit)
    JOIN ${tables.postings} AS p ON p.term_id = q.term_id AND p.field = q.field
    ${where}
    GROUP BY p.label
    ${tail}`;
}

/** The bound values of `scoringSql`'s first nine parameters. */
export function scoringParameters(rows: ScoringRows, bm25: Bm25Parameters): unknown[] {
  return [rows.termIds, rows.fields, rows.factors, rows.averages, rows.bits, bm25.d, bm25.k + 1, bm25.k, bm25.b];
}

/** The question terms whose bits are set in `mask`. */
export function matchedTerms(mask: string | number, terms: readonly string[]): string[] {
  const bits = BigInt(mask);
  return terms.filter((_, bit) => (bits & (1n << BigInt(bit))) !== 0n);
}
