/**
 * Soft term matching: a question word also matches the article words whose vectors are close to its own
 * ("choppers" → "helicopters", "quit" → "resigned"), with a credit that grows with the similarity. Only
 * the corpus's own words are candidates, so a question about a word no article uses still finds the
 * article's word for it. The vectors are the offline model's word table; the lexical index supplies the
 * corpus vocabulary. Pure: the table and the index come in, neighbour lists go out.
 */
import type { LexicalIndex } from '../index/bm25.js';
import type { WordVectorTable } from '../model.js';
import { foldWord, stemWord } from '../text/tokens.js';

export interface SoftMatching {
  /** Least cosine similarity for an article word to stand in for a question word. */
  threshold: number;
  /** Most stand-ins per question word. */
  perWord: number;
  /** Credit of a stand-in, as a share of the word itself, at similarity 1 (scaled by the similarity). */
  credit: number;
  /** Only the table's most frequent words stand in: rarer words have noisier vectors. */
  frequentRows: number;
  /**
   * Only question words that at most this many passages hold get stand-ins: a word the articles use is
   * the articles' word, and its neighbours ("Syria" → "Iraq") would only add noise.
   */
  maxDocumentFrequency: number;
}

export interface Neighbour {
  stem: string;
  similarity: number;
}

interface TableRows {
  /** A word's row. */
  byWord: Map<string, number>;
  /** The rows of every word with a stem ("quit", "quits", "quitting", and "quite", which stems alike). */
  byStem: Map<string, number[]>;
}

/** Lookups into a table, made once per table. */
const rowsByTable = new WeakMap<WordVectorTable, TableRows>();

function tableRows(table: WordVectorTable): TableRows {
  let rows = rowsByTable.get(table);
  if (!rows) {
    const byWord = new Map<string, number>();
    const byStem = new Map<string, number[]>();
    table.words.forEach((word, row) => {
      if (!/^\p{L}[\p{L}'-]*$/u.test(word)) return;
      byWord.set(word, row);
      const stem = stemWord(foldWord(word));
      const list = byStem.get(stem);
      if (list) list.push(row);
      else byStem.set(stem, [row]);
    });
    rows = { byWord, byStem };
    rowsByTable.set(table, rows);
  }
  return rows;
}

/** The unit-length mean of the rows' directions into `into` at `offset`; false when they are all zero. */
function meanDirection(table: WordVectorTable, rows: readonly number[], into: Float32Array, offset: number): boolean {
  const { dimension, values } = table;
  const sum = new Float64Array(dimension);
  for (const row of rows) {
    let norm = 0;
    for (let j = 0; j < dimension; j += 1) norm += values[row * dimension + j]! ** 2;
    if (norm === 0) continue;
    const inverse = 1 / Math.sqrt(norm);
    for (let j = 0; j < dimension; j += 1) sum[j] = sum[j]! + values[row * dimension + j]! * inverse;
  }
  let norm = 0;
  for (let j = 0; j < dimension; j += 1) norm += sum[j]! ** 2;
  if (norm === 0) return false;
  const inverse = 1 / Math.sqrt(norm);
  for (let j = 0; j < dimension; j += 1) into[offset + j] = sum[j]! * inverse;
  return true;
}

/** Neighbour lists kept per corpus: a chat asks with the same words again and again. */
const MAX_CACHED_WORDS = 20_000;

/** The corpus's words as unit vectors, and the neighbours found so far. */
export class TermNeighbours {
  readonly #table: WordVectorTable;
  readonly #rows: TableRows;
  readonly #stems: string[] = [];
  /** A corpus stem's row in the matrix. */
  readonly #rowOfStem = new Map<string, number>();
  readonly #matrix: Float32Array;
  readonly #cache = new Map<string, Neighbour[]>();
  readonly #settings: SoftMatching;

  constructor(table: WordVectorTable, corpusStems: Iterable<string>, settings: SoftMatching) {
    this.#table = table;
    this.#settings = settings;
    this.#rows = tableRows(table);
    // A corpus stem stands for all its frequent words: the articles' own word among them is unknown here.
    const members: number[][] = [];
    for (const stem of corpusStems) {
      const rows = this.#rows.byStem.get(stem)?.filter((row) => row < settings.frequentRows);
      if (!rows?.length) continue;
      this.#rowOfStem.set(stem, this.#stems.length);
      this.#stems.push(stem);
      members.push(rows);
    }
    this.#matrix = new Float32Array(members.length * table.dimension);
    members.forEach((rows, i) => meanDirection(table, rows, this.#matrix, i * table.dimension));
  }

  /** How many corpus words can stand in for others. */
  get size(): number {
    return this.#stems.length;
  }

  /**
   * The corpus words closest to a question word (its stem excluded), best first, at or above the
   * threshold; none for a word that more passages hold than the settings allow. The question's own
   * spelling decides its direction ("quit", not "quite", which stems alike).
   */
  of(word: { stem: string; spelling: string }, documentFrequency: number): readonly Neighbour[] {
    if (documentFrequency > this.#settings.maxDocumentFrequency) return [];
    const key = `${word.stem} ${word.spelling}`;
    const cached = this.#cache.get(key);
    if (cached) return cached;
    const found = this.#search(word);
    if (this.#cache.size >= MAX_CACHED_WORDS) this.#cache.clear();
    this.#cache.set(key, found);
    return found;
  }

  #search(word: { stem: string; spelling: string }): Neighbour[] {
    const { dimension } = this.#table;
    const query = new Float32Array(dimension);
    const own = this.#rows.byWord.get(word.spelling);
    const rows = own === undefined ? (this.#rows.byStem.get(word.stem) ?? []) : [own];
    if (!meanDirection(this.#table, rows, query, 0)) return [];
    const { threshold, perWord } = this.#settings;
    const best: Neighbour[] = [];
    const matrix = this.#matrix;
    for (let i = 0, offset = 0; i < this.#stems.length; i += 1, offset += dimension) {
      let dot = 0;
      for (let j = 0; j < dimension; j += 1) dot += query[j]! * matrix[offset + j]!;
      if (dot < threshold || this.#stems[i] === word.stem) continue;
      if (best.length === perWord && dot <= best[best.length - 1]!.similarity) continue;
      best.push({ stem: this.#stems[i]!, similarity: dot });
      best.sort((a, b) => b.similarity - a.similarity);
      if (best.length > perWord) best.pop();
    }
    return best;
  }

  /** A question word's unit direction (its own spelling's row, else its stem's), or null when the table lacks it. */
  directionOf(word: { stem: string; spelling: string }): Float32Array | null {
    const direction = new Float32Array(this.#table.dimension);
    const own = this.#rows.byWord.get(word.spelling);
    const rows = own === undefined ? (this.#rows.byStem.get(word.stem) ?? []) : [own];
    return meanDirection(this.#table, rows, direction, 0) ? direction : null;
  }

  /** Cosine similarity of a direction to a corpus word, by its stem; 0 when the table lacks the word. */
  similarityToCorpusStem(direction: Float32Array, stem: string): number {
    const row = this.#rowOfStem.get(stem);
    if (row === undefined) return 0;
    const { dimension } = this.#table;
    const matrix = this.#matrix;
    let dot = 0;
    for (let j = 0, offset = row * dimension; j < dimension; j += 1) dot += direction[j]! * matrix[offset + j]!;
    return dot;
  }

  /**
   * Cosine similarity of two words (0 when the table lacks either): how a follow-up's "Moscow" is seen to
   * take the place of the earlier question's "Washington".
   */
  similarity(a: { stem: string; spelling: string }, b: { stem: string; spelling: string }): number {
    const { dimension } = this.#table;
    const vectors = new Float32Array(2 * dimension);
    for (const [i, word] of [a, b].entries()) {
      const own = this.#rows.byWord.get(word.spelling);
      const rows = own === undefined ? (this.#rows.byStem.get(word.stem) ?? []) : [own];
      if (!meanDirection(this.#table, rows, vectors, i * dimension)) return 0;
    }
    let dot = 0;
    for (let j = 0; j < dimension; j += 1) dot += vectors[j]! * vectors[dimension + j]!;
    return dot;
  }

  /** The credit a neighbour earns: the configured share, scaled by its similarity. */
  creditOf(neighbour: Neighbour): number {
    return this.#settings.credit * neighbour.similarity;
  }
}

/** Neighbour tables per lexical index, rebuilt when the index has learnt new words. */
const byIndex = new WeakMap<
  LexicalIndex,
  { termCount: number; settings: SoftMatching; table: WordVectorTable; neighbours: TermNeighbours }
>();

/** The neighbour table for an index's current vocabulary (built on first use, then reused). */
export function termNeighboursOf(lexical: LexicalIndex, table: WordVectorTable, settings: SoftMatching): TermNeighbours {
  const known = byIndex.get(lexical);
  if (known && known.termCount === lexical.termCount && known.settings === settings && known.table === table) return known.neighbours;
  const neighbours = new TermNeighbours(table, lexical.liveTerms(), settings);
  byIndex.set(lexical, { termCount: lexical.termCount, settings, table, neighbours });
  return neighbours;
}
