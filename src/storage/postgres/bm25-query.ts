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
 * The statement that reads the postings of each scoring row ($1 term ids, $2 fields): its packed blocks
 * (`citebot_posting_blocks`), in the rows' order, each row's blocks in label order. BM25 is then summed
 * here, in JavaScript, in the in-memory index's order: a database that aggregated the scores itself (a
 * hash aggregate over every posting) took three times as long at 100k passages, and would only give the
 * same scores bit for bit if its plan added each passage's terms in the same order.
 */
export function postingsSql(tables: Tables): string {
  return `SELECT q.row_number::integer AS row_number, b.labels, b.tfs, b.lengths, b.highest
    FROM unnest($1::integer[], $2::smallint[]) WITH ORDINALITY AS q(term_id, field, row_number)
    JOIN ${tables.postingBlocks} AS b ON b.term_id = q.term_id AND b.field = q.field
    ORDER BY q.row_number, b.block`;
}

/** One block of a scoring row's postings as `postingsSql` returns it (`row_number` counts the rows from 1). */
export interface PackedPostings {
  row_number: number;
  /** The highest label in the block. */
  highest: number;
  labels: Buffer;
  tfs: Buffer;
  lengths: Buffer;
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
  let highest = -1;
  for (const packed of postings) highest = Math.max(highest, packed.highest);
  if (scratch.scores.length <= highest) {
    const size = Math.max(highest + 1, scratch.scores.length * 2);
    scratch = { scores: new Float64Array(size), masks: new Int32Array(size) };
  }
  const { scores, masks } = scratch;
  const touched: number[] = [];
  try {
    accumulate(rows, postings, bm25, scores, masks, touched);
    for (const label of touched) each(label, scores[label]!, masks[label]!);
  } finally {
    // Left clean for the next question whatever happened.
    for (const label of touched) {
      scores[label] = 0;
      masks[label] = 0;
    }
  }
}

/** Adds every posting's BM25 contribution to its label's score, term by term, and records the labels met. */
function accumulate(
  rows: ScoringRows,
  postings: readonly PackedPostings[],
  bm25: Bm25Parameters,
  scores: Float64Array,
  masks: Int32Array,
  touched: number[],
): void {
  const { k, b, d } = bm25;
  for (const packed of postings) {
    const i = packed.row_number - 1;
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
  }
}

/** The question terms whose bits are set in `mask`. */
export function matchedTerms(mask: number, terms: readonly string[]): string[] {
  return terms.filter((_, bit) => (mask & (1 << bit)) !== 0);
}
