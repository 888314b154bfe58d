/**
 * citebot's BM25+ (src/index/bm25.ts) as one SQL statement over `citebot_postings`. The corpus
 * statistics and each term's idf are computed here, in JavaScript, with the in-memory index's own
 * formulas; the database does only what IEEE doubles do the same everywhere (+, −, ×, ÷), accumulating
 * each passage's score in the order the in-memory index does (question term, then text before title).
 * So a passage's score is the in-memory score bit for bit, and ties fall to the lower label as there.
 */
import { bm25Idf, type Bm25Parameters } from '../../index/bm25.js';
import { BLOCK_LABELS, TEXT_FIELD, TITLE_FIELD, type Tables } from './schema.js';

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

/** Big-endian int4s (what `int4send` writes), read where they lie: no swap, no aligned copy. */
function int32s(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One block's scores, term masks and touched slots, kept between calls (each block cleans up after itself). */
const blockScores = new Float64Array(BLOCK_LABELS);
const blockMasks = new Int32Array(BLOCK_LABELS);
const blockTouched = new Int32Array(BLOCK_LABELS);

/**
 * BM25 of every passage the postings hold, summed as bm25.ts sums it (term by term, text before title),
 * with the question terms it holds as a bit mask; calls `each` per passage, in label-block order.
 *
 * Block by block of labels (the blocks the postings are stored in), every row's postings of a block
 * before the next block: the scores then add up in arrays of 4,096 entries that stay in the processor's
 * cache, where corpus-sized arrays missed it at nearly every posting (as in `index/blocked-top.ts`).
 * Within a block the rows keep their order, so each passage's score is added up as before, bit for bit.
 */
export function scorePostings(
  rows: ScoringRows,
  postings: readonly PackedPostings[],
  bm25: Bm25Parameters,
  each: (label: number, score: number, mask: number) => void,
): void {
  const blockOf = (packed: PackedPostings) => Math.floor(packed.highest / BLOCK_LABELS);
  // The statement returns rows in order and each row's blocks in label order; this puts blocks first.
  const order = postings.map((_, i) => i).sort((a, b) => blockOf(postings[a]!) - blockOf(postings[b]!) || a - b);
  let next = 0;
  while (next < order.length) {
    const block = blockOf(postings[order[next]!]!);
    const base = block * BLOCK_LABELS;
    let touched = 0;
    try {
      for (; next < order.length && blockOf(postings[order[next]!]!) === block; next += 1) {
        touched = accumulate(rows, postings[order[next]!]!, bm25, base, touched);
      }
      for (let t = 0; t < touched; t += 1) {
        const local = blockTouched[t]!;
        each(base + local, blockScores[local]!, blockMasks[local]!);
      }
    } finally {
      // Left clean for the next block whatever happened.
      for (let t = 0; t < touched; t += 1) {
        blockScores[blockTouched[t]!] = 0;
        blockMasks[blockTouched[t]!] = 0;
      }
    }
  }
}

/** Adds one packed block's BM25 contributions to the block's scores; returns the count of slots touched. */
function accumulate(rows: ScoringRows, packed: PackedPostings, bm25: Bm25Parameters, base: number, touched: number): number {
  const { k, b, d } = bm25;
  const i = packed.row_number - 1;
  const factor = rows.factors[i]!;
  const average = rows.averages[i]!;
  const bit = 1 << rows.bits[i]!;
  const labels = int32s(packed.labels);
  const tfs = int32s(packed.tfs);
  const lengths = int32s(packed.lengths);
  for (let offset = 0; offset < labels.byteLength; offset += 4) {
    const local = labels.getInt32(offset) - base;
    const tf = tfs.getInt32(offset);
    const normalised = tf / (tf + k * (1 - b + (b * lengths.getInt32(offset)) / average));
    if (blockMasks[local] === 0) blockTouched[touched++] = local;
    blockMasks[local] = blockMasks[local]! | bit;
    blockScores[local] = blockScores[local]! + factor * (d + (k + 1) * normalised);
  }
  return touched;
}

/** The question terms whose bits are set in `mask`. */
export function matchedTerms(mask: number, terms: readonly string[]): string[] {
  return terms.filter((_, bit) => (mask & (1 << bit)) !== 0);
}
