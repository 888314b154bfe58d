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
 * The statement that reads the postings of each scoring row ($1 term ids, $2 fields, in the rows' order),
 * packed: per row its labels, term frequencies and field lengths (int4, big-endian), as
 * three byte strings; `where` narrows the postings read (binding from $3 on). BM25 is then summed here,
 * in JavaScript, in the in-memory index's order: a database that aggregated the scores itself (a hash
 * aggregate over every posting) took three times as long at 100k passages, and would only give the
 * same scores bit for bit if its plan added each passage's terms in the same order.
 */
export function postingsSql(tables: Tables, where: string): string {
  // The three aggregates read the same rows in the same order, so their i-th entries belong together.
  return `SELECT p.labels, p.tfs, p.lengths, p.highest
    FROM unnest($1::integer[], $2::smallint[]) WITH ORDINALITY AS q(term_id, field, row_number)
    CROSS JOIN LATERAL (
      SELECT string_agg(int4send(posting.label), ''::bytea) AS labels,
             string_agg(int4send(posting.tf), ''::bytea) AS tfs,
             string_agg(int4send(posting.length), ''::bytea) AS lengths,
             max(posting.label) AS highest
      FROM ${tables.postings} AS posting
      WHERE posting.term_id = q.term_id AND posting.field = q.field ${where}
    ) AS p
    ORDER BY q.row_number`;
}

/** One scoring row's postings as `postingsSql` returns them. */
export interface PackedPostings {
  /** The highest label among them (null when there are none). */
  highest: number | null;
  labels: Buffer | null;
  tfs: Buffer | null;
  lengths: Buffer | null;
}

/** Big-endian int4s (what `int4send` writes) as numbers: swapped in place, then read through an aligned copy. */
function int32s(bytes: Buffer): Int32Array {
  bytes.swap32();
  return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Per-label scores and term masks of `scorePostings`, kept between calls (it cleans up after itself). */
let scratch = { scores: new Float64Array(0), masks: new Int32Array(0) };

/**
 * BM25 of every passage the postings hold, summed as bm25.ts sums it (term by term, text before title),
 * with the question terms it holds as a bit mask; calls `each` per passage, in no particular order.
 */
export function scorePostings(
  rows: ScoringRows,
  postings: readonly PackedPostings[],
  bm25: Bm25Parameters,
  each: (label: number, score: number, mask: number) => void,
): void {
  const { k, b, d } = bm25;
  let highest = -1;
  for (const packed of postings) highest = Math.max(highest, packed.highest ?? -1);
  if (scratch.scores.length <= highest) {
    const size = Math.max(highest + 1, scratch.scores.length * 2);
    scratch = { scores: new Float64Array(size), masks: new Int32Array(size) };
  }
  const { scores, masks } = scratch;
  const touched: number[] = [];
  postings.forEach((packed, i) => {
    if (!packed.labels || !packed.tfs || !packed.lengths) return;
    const factor = rows.factors[i]!;
    const average = rows.averages[i]!;
    const bit = 1 << rows.bits[i]!;
    const labels = int32s(packed.labels);
    const tfs = int32s(packed.tfs);
    const lengths = int32s(packed.lengths);
    for (let j = 0; j < labels.length; j += 1) {
      const label = labels[j]!;
      const tf = tfs[j]!;
      const normalised = tf / (tf + k * (1 - b + (b * lengths[j]!) / average));
      if (masks[label] === 0) touched.push(label);
      masks[label] = masks[label]! | bit;
      scores[label] = scores[label]! + factor * (d + (k + 1) * normalised);
    }
  });
  for (const label of touched) {
    each(label, scores[label]!, masks[label]!);
    scores[label] = 0;
    masks[label] = 0;
  }
}

/** The question terms whose bits are set in `mask`. */
export function matchedTerms(mask: number, terms: readonly string[]): string[] {
  return terms.filter((_, bit) => (mask & (1 << bit)) !== 0);
}
