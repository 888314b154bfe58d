/**
 * The lexical index: BM25+ over passage text, plus the headline and section heading as a second, lower
 * weighted field. Tokens are the shared stemmed content words, so "withdrawal", "withdrawing" and
 * "withdraw" meet.
 *
 * Written here rather than taken from a search library because retrieval needs what general-purpose
 * engines do not give cheaply: the exact score of any passage (for candidates that only the dense side
 * found), per-term weights (soft matches of close words), and speed at scale. A library that materialises a result object for
 * every matching document took 65 ms per question at 100k passages; accumulating into typed arrays takes a
 * few (see `npm run bench`).
 */
import type { IndexedPassage } from '../model.js';
import { contentStems } from '../text/tokens.js';
import { TopN } from './top-k.js';

export interface LexicalDocument {
  label: number;
  text: string;
  title: string;
  section?: string;
  /** Sentence spans in `text`; sentence-level matching needs them (without, the text is one sentence). */
  sentences?: ReadonlyArray<{ start: number; end: number }>;
}

/** What the lexical index is given for a passage: its text and sentences, and its article's headline. */
export function lexicalDocument(passage: IndexedPassage, title: string): LexicalDocument {
  return { label: passage.label, text: passage.text, title, section: passage.section, sentences: passage.sentences };
}

/** A question prepared for coverage: which index terms stand for which question words, and their weights. */
export interface CoverageQuery {
  /** Share of the question's weight per question word (sums to 1). */
  shares: number[];
  /** Index term id → [question word, credit] pairs (credit 1 for the word itself, less for an alias). */
  credits: Map<number, Array<[number, number]>>;
}

export interface Bm25Parameters {
  k: number;
  b: number;
  /** BM25+ lower bound on a matching term's contribution; 0 is classic BM25. */
  d: number;
}

export interface LexicalOptions {
  bm25: Bm25Parameters;
  /** Weight of a match in the headline or section heading, relative to one in the passage text. */
  titleBoost: number;
  /** Turns text into index terms; the default is stemmed content words. */
  analyze?: (text: string) => string[];
}

/** Parameters measured on the retrieval check (npm run check -- --dataset ../shared/eval/squad11-dev). */
export const DEFAULT_LEXICAL_OPTIONS: LexicalOptions = {
  bm25: { k: 1.2, b: 0.75, d: 0.5 },
  titleBoost: 0.3,
};

/** Scores of one question against every passage. */
export interface LexicalScores {
  /** Number of passages that contain at least one term. */
  readonly size: number;
  /** BM25 score of a passage; 0 when it contains none of the terms. */
  score(label: number): number;
  /** The question terms found in a passage. */
  matched(label: number): string[];
  /** The best `n` passages, best first (ties by label). */
  /** The n best passages; with `accept`, the n best of those it accepts. */
  top(n: number, accept?: (label: number) => boolean): Array<{ label: number; score: number }>;
}

/** A postings list: passages that hold a term and how often. Typed after loading, plain arrays once appended to. */
interface Postings {
  labels: Int32Array | number[];
  counts: Uint16Array | number[];
}

interface Field {
  postings: Array<Postings | undefined>;
  /** Live passages holding each term in this field. */
  documentFrequency: number[];
  /** Term count of this field per label. */
  lengths: number[];
  totalLength: number;
}

const FORMAT_VERSION = 5;
const MAX_QUERY_TERMS = 32;

function emptyField(): Field {
  return { postings: [], documentFrequency: [], lengths: [], totalLength: 0 };
}

function countTerms(terms: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

type Blob = Int32Array | Uint16Array | Uint8Array;

const MAGIC = 0x584c4243; // "CBLX"

/**
 * The index on disk: a small JSON header (vocabulary and where each array lies) followed by the typed
 * arrays themselves, 4-byte aligned, so loading is a copy and a few views, not a parse.
 */
function pack(header: { terms: string[] }, blobs: Record<string, Blob>): Uint8Array {
  const layout: Record<string, [offset: number, length: number, type: string]> = {};
  let offset = 0;
  for (const [name, blob] of Object.entries(blobs)) {
    layout[name] = [offset, blob.length, blob.constructor.name];
    offset += Math.ceil(blob.byteLength / 4) * 4;
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...header, version: FORMAT_VERSION, layout }));
  const headerLength = Math.ceil(headerBytes.length / 4) * 4;
  const bytes = new Uint8Array(12 + headerLength + offset);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, headerLength, true);
  bytes.set(headerBytes, 12);
  for (const [name, blob] of Object.entries(blobs)) {
    bytes.set(new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength), 12 + headerLength + layout[name]![0]);
  }
  return bytes;
}

function unpack(source: Uint8Array): { terms: string[]; blob: <T extends Blob>(name: string, type: { new (buffer: ArrayBuffer, offset: number, length: number): T }) => T } {
  // One aligned copy: typed-array views need offsets that are multiples of their element size.
  const bytes = new Uint8Array(source.byteLength);
  bytes.set(source);
  const view = new DataView(bytes.buffer);
  if (bytes.byteLength < 12 || view.getUint32(0, true) !== MAGIC) throw new Error('not a lexical index file');
  if (view.getUint32(4, true) !== FORMAT_VERSION) throw new Error('unknown lexical index format');
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(Buffer.from(bytes.buffer, 12, headerLength).toString('utf8').trimEnd().replace(/\0+$/, '')) as {
    terms: string[];
    layout: Record<string, [number, number, string]>;
  };
  return {
    terms: header.terms,
    blob: (name, Type) => {
      const entry = header.layout[name];
      if (!entry) throw new Error(`lexical index file lacks ${name}`);
      return new Type(bytes.buffer, 12 + headerLength + entry[0], entry[1]);
    },
  };
}

export class LexicalIndex {
  private readonly vocabulary = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly text: Field = emptyField();
  private readonly title: Field = emptyField();
  /** 1 for a live passage; removed passages stay in postings until the next save compacts them. */
  private alive: number[] = [];
  /** Per label: [sentence count, cumulative ends of each sentence's terms…, term ids…]. */
  private sentenceTerms: Array<Int32Array | undefined> = [];
  /** Per label: the term ids of its headline and section field, so removing it needs no re-analysis. */
  private titleTerms: Array<Int32Array | undefined> = [];
  private liveCount = 0;
  /** Labels removed since the index was created or loaded: their postings are still in place. */
  private readonly removedLabels = new Set<number>();
  private readonly analyze: (text: string) => string[];

  private constructor(private readonly options: LexicalOptions) {
    this.analyze = options.analyze ?? contentStems;
  }

  static create(options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    return new LexicalIndex(options);
  }

  static deserialize(bytes: Uint8Array, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    const { terms, blob } = unpack(bytes);
    const index = new LexicalIndex(options);
    terms.forEach((term, id) => {
      index.vocabulary.set(term, id);
      index.terms.push(term);
    });
    const alive = blob('alive', Uint8Array);
    index.alive = Array.from(alive);
    index.liveCount = index.alive.reduce((sum, value) => sum + value, 0);
    for (const [field, name] of [
      [index.text, 'text'],
      [index.title, 'title'],
    ] as const) {
      const offsets = blob(`${name}.offsets`, Int32Array);
      const labels = blob(`${name}.labels`, Int32Array);
      const counts = blob(`${name}.counts`, Uint16Array);
      field.lengths = Array.from(blob(`${name}.lengths`, Int32Array));
      field.totalLength = field.lengths.reduce((sum, length, label) => sum + (alive[label] ? length : 0), 0);
      for (let id = 0; id < terms.length; id += 1) {
        const from = offsets[id]!;
        const to = offsets[id + 1]!;
        if (to > from) field.postings[id] = { labels: labels.subarray(from, to), counts: counts.subarray(from, to) };
        field.documentFrequency[id] = to - from;
      }
    }
    for (const [name, perLabel] of [
      ['sentences', index.sentenceTerms],
      ['titles', index.titleTerms],
    ] as const) {
      const offsets = blob(`${name}.offsets`, Int32Array);
      const terms = blob(`${name}.terms`, Int32Array);
      for (let label = 0; label + 1 < offsets.length; label += 1) {
        const from = offsets[label]!;
        const to = offsets[label + 1]!;
        if (to > from) perLabel[label] = terms.subarray(from, to);
      }
    }
    return index;
  }

  /** The binary form; postings of removed passages are dropped here. */
  serialize(): Uint8Array {
    const blobs: Record<string, Blob> = {};
    const alive = Uint8Array.from(this.alive);
    for (const [field, name] of [
      [this.text, 'text'],
      [this.title, 'title'],
    ] as const) {
      // Live postings only: one counting pass, one copying pass, indexed loops over typed arrays.
      const offsets = new Int32Array(this.terms.length + 1);
      let total = 0;
      for (let id = 0; id < this.terms.length; id += 1) {
        offsets[id] = total;
        const postings = field.postings[id];
        if (!postings) continue;
        const labels = postings.labels;
        for (let i = 0; i < labels.length; i += 1) total += alive[labels[i]!]!;
      }
      offsets[this.terms.length] = total;
      const labels = new Int32Array(total);
      const counts = new Uint16Array(total);
      let at = 0;
      for (let id = 0; id < this.terms.length; id += 1) {
        const postings = field.postings[id];
        if (!postings) continue;
        const from = postings.labels;
        const live = offsets[id + 1]! - offsets[id]!;
        if (live === from.length && !Array.isArray(from)) {
          labels.set(from, at);
          counts.set(postings.counts as Uint16Array, at);
          at += live;
          continue;
        }
        for (let i = 0; i < from.length; i += 1) {
          const label = from[i]!;
          if (!alive[label]) continue;
          labels[at] = label;
          counts[at] = postings.counts[i]!;
          at += 1;
        }
      }
      blobs[`${name}.offsets`] = offsets;
      blobs[`${name}.labels`] = labels;
      blobs[`${name}.counts`] = counts;
      blobs[`${name}.lengths`] = Int32Array.from(field.lengths, (length, label) => (alive[label] ? length : 0));
    }
    for (const [name, perLabel] of [
      ['sentences', this.sentenceTerms],
      ['titles', this.titleTerms],
    ] as const) {
      const offsets = new Int32Array(this.alive.length + 1);
      let total = 0;
      for (let label = 0; label < this.alive.length; label += 1) {
        offsets[label] = total;
        if (this.alive[label]) total += perLabel[label]?.length ?? 0;
      }
      offsets[this.alive.length] = total;
      const terms = new Int32Array(total);
      for (let label = 0; label < this.alive.length; label += 1) {
        const ids = perLabel[label];
        if (this.alive[label] && ids) terms.set(ids, offsets[label]!);
      }
      blobs[`${name}.offsets`] = offsets;
      blobs[`${name}.terms`] = terms;
    }
    blobs.alive = alive;
    return pack({ terms: this.terms }, blobs);
  }

  get documentCount(): number {
    return this.liveCount;
  }

  has(label: number): boolean {
    return this.alive[label] === 1;
  }

  add(documents: LexicalDocument[]): void {
    for (const document of documents) {
      if (this.has(document.label)) throw new Error(`passage ${document.label} is already indexed`);
      // Postings of a removed passage stay until serialize compacts them: a live label over them would count twice.
      if (this.removedLabels.has(document.label)) throw new Error(`passage ${document.label} was removed; labels are not reused before the index is saved`);
      const spans = document.sentences && document.sentences.length > 0 ? document.sentences : [{ start: 0, end: document.text.length }];
      const sentences = spans.map((span) => this.analyze(document.text.slice(span.start, span.end)));
      this.addField(this.text, document.label, sentences.flat());
      this.sentenceTerms[document.label] = this.packSentences(sentences);
      this.titleTerms[document.label] = this.addField(this.title, document.label, this.analyze(`${document.title} ${document.section ?? ''}`));
      while (this.alive.length <= document.label) this.alive.push(0);
      this.alive[document.label] = 1;
      this.liveCount += 1;
    }
  }

  /** Withdraws passages by label; their postings stay, marked dead, until the next `serialize`. */
  remove(labels: Iterable<number>): void {
    for (const label of labels) {
      if (!this.has(label)) continue;
      const sentences = this.sentenceTerms[label];
      this.removeField(this.text, label, sentences ? sentences.subarray(1 + sentences[0]!) : new Int32Array());
      this.removeField(this.title, label, this.titleTerms[label] ?? new Int32Array());
      this.alive[label] = 0;
      this.sentenceTerms[label] = undefined;
      this.titleTerms[label] = undefined;
      this.removedLabels.add(label);
      this.liveCount -= 1;
    }
  }

  /** Number of distinct terms the index has seen (it only grows: a term stays when its passages go). */
  get termCount(): number {
    return this.terms.length;
  }

  /** How many passages' text holds `term`. */
  documentFrequency(term: string): number {
    const id = this.vocabulary.get(term);
    return id === undefined ? 0 : (this.text.documentFrequency[id] ?? 0);
  }

  /** The terms some live passage's text holds. */
  liveTerms(): string[] {
    return this.terms.filter((_, id) => (this.text.documentFrequency[id] ?? 0) > 0);
  }

  /** The term ids of a passage's text, sentence by sentence (empty for an unknown label). */
  sentenceTermIds(label: number): Int32Array[] {
    const packed = this.sentenceTerms[label];
    if (!packed) return [];
    const count = packed[0]!;
    const sentences: Int32Array[] = [];
    for (let sentence = 0, from = 1 + count; sentence < count; sentence += 1) {
      const to = 1 + count + packed[1 + sentence]!;
      sentences.push(packed.subarray(from, to));
      from = to;
    }
    return sentences;
  }

  /** The term an id stands for. */
  termOf(id: number): string | undefined {
    return this.terms[id];
  }

  /** The id of a term, if the index has seen it. */
  idOf(term: string): number | undefined {
    return this.vocabulary.get(term);
  }

  /** Index terms of a question, in the form `search` takes. */
  termsOf(text: string): string[] {
    return this.analyze(text);
  }

  /**
   * Inverse document frequency of a term in the passage texts (the BM25 form, always positive). A term no
   * passage has gets the highest value: a question about something absent should not look well covered.
   */
  idf(term: string): number {
    const id = this.vocabulary.get(term);
    return this.idfOf(id === undefined ? 0 : (this.text.documentFrequency[id] ?? 0));
  }

  /**
   * Scores every passage that contains at least one of the terms; `weights` scales single terms (alias
   * expansions count for less than the question's own words). At most 32 distinct terms are used.
   */
  search(terms: string[], weights?: ReadonlyMap<string, number>): LexicalScores {
    const capacity = this.alive.length;
    const scores = new Float64Array(capacity);
    const masks = new Uint32Array(capacity);
    const touched: number[] = [];
    const queryTerms = [...new Set(terms)].slice(0, MAX_QUERY_TERMS);
    const { k, b, d } = this.options.bm25;

    queryTerms.forEach((term, bit) => {
      const id = this.vocabulary.get(term);
      if (id === undefined) return;
      const weight = weights?.get(term) ?? 1;
      for (const [field, boost] of [
        [this.text, 1],
        [this.title, this.options.titleBoost],
      ] as const) {
        const postings = field.postings[id];
        if (!postings || boost === 0 || this.liveCount === 0) continue;
        const idf = this.idfOf(field.documentFrequency[id] ?? 0);
        const averageLength = field.totalLength / this.liveCount || 1;
        const factor = weight * boost * idf;
        const { labels, counts } = postings;
        for (let i = 0; i < labels.length; i += 1) {
          const label = labels[i]!;
          if (this.alive[label] !== 1) continue;
          const count = counts[i]!;
          const normalised = count / (count + k * (1 - b + (b * field.lengths[label]!) / averageLength));
          if (masks[label] === 0) touched.push(label);
          masks[label] = masks[label]! | (1 << bit);
          scores[label] = scores[label]! + factor * (d + (k + 1) * normalised);
        }
      }
    });

    return {
      size: touched.length,
      score: (label) => (label < capacity ? scores[label]! : 0),
      matched: (label) => (label < capacity ? queryTerms.filter((_, bit) => (masks[label]! & (1 << bit)) !== 0) : []),
      top: (n, accept) => {
        const best = new TopN(n);
        for (const label of touched) if (!accept || accept(label)) best.offer(label, scores[label]!);
        return best.result;
      },
    };
  }

  /**
   * Prepares a question's words for `coverage`: each with its weight and the terms that count for it, with
   * the credit each earns (1 for the word itself, less for a word close to it).
   */
  coverageQuery(words: ReadonlyArray<{ weight: number; equivalents: ReadonlyMap<string, number> }>): CoverageQuery {
    const total = words.reduce((sum, word) => sum + word.weight, 0);
    const credits = new Map<number, Array<[number, number]>>();
    words.forEach((word, position) => {
      for (const [equivalent, credit] of word.equivalents) {
        const id = this.vocabulary.get(equivalent);
        if (id === undefined) continue;
        const entry = credits.get(id) ?? [];
        entry.push([position, credit]);
        credits.set(id, entry);
      }
    });
    return { shares: words.map((word) => (total > 0 ? word.weight / total : 0)), credits };
  }

  /**
   * Share of the question's weight found in each sentence of a passage and in the whole passage, each
   * question word counted once, by its best credit.
   */
  coverage(label: number, query: CoverageQuery): { sentences: number[]; passage: number } {
    const packed = this.sentenceTerms[label];
    if (!packed || query.credits.size === 0) return { sentences: [], passage: 0 };
    const count = packed[0]!;
    const inSentence = new Float64Array(query.shares.length);
    const inPassage = new Float64Array(query.shares.length);
    const sentences: number[] = [];
    let position = 1 + count;
    for (let sentence = 0; sentence < count; sentence += 1) {
      inSentence.fill(0);
      const end = 1 + count + packed[1 + sentence]!;
      for (; position < end; position += 1) {
        const credits = query.credits.get(packed[position]!);
        if (!credits) continue;
        for (const [word, credit] of credits) {
          if (credit > inSentence[word]!) inSentence[word] = credit;
          if (credit > inPassage[word]!) inPassage[word] = credit;
        }
      }
      let covered = 0;
      for (let word = 0; word < inSentence.length; word += 1) covered += inSentence[word]! * query.shares[word]!;
      sentences.push(covered);
    }
    let passage = 0;
    for (let word = 0; word < inPassage.length; word += 1) passage += inPassage[word]! * query.shares[word]!;
    return { sentences, passage };
  }

  /**
   * Share of the question's weight found in sentences `first`..`last` (inclusive) of a passage taken
   * together, each question word counted once, by its best credit: what a quote of those sentences covers.
   */
  runCoverage(label: number, query: CoverageQuery, first: number, last: number): number {
    const packed = this.sentenceTerms[label];
    if (!packed || query.credits.size === 0) return 0;
    const count = packed[0]!;
    if (first < 0 || last >= count || first > last) return 0;
    const best = new Float64Array(query.shares.length);
    const from = 1 + count + (first === 0 ? 0 : packed[first]!);
    const to = 1 + count + packed[1 + last]!;
    for (let position = from; position < to; position += 1) {
      const credits = query.credits.get(packed[position]!);
      if (!credits) continue;
      for (const [word, credit] of credits) if (credit > best[word]!) best[word] = credit;
    }
    let covered = 0;
    for (let word = 0; word < best.length; word += 1) covered += best[word]! * query.shares[word]!;
    return covered;
  }

  private packSentences(sentences: string[][]): Int32Array {
    const ids = sentences.flat().map((term) => this.termId(term));
    const packed = new Int32Array(1 + sentences.length + ids.length);
    packed[0] = sentences.length;
    let end = 0;
    sentences.forEach((terms, i) => {
      end += terms.length;
      packed[1 + i] = end;
    });
    packed.set(ids, 1 + sentences.length);
    return packed;
  }

  private idfOf(documentFrequency: number): number {
    const n = this.liveCount;
    return Math.log(1 + (n - documentFrequency + 0.5) / (documentFrequency + 0.5));
  }

  private termId(term: string): number {
    let id = this.vocabulary.get(term);
    if (id === undefined) {
      id = this.terms.length;
      this.vocabulary.set(term, id);
      this.terms.push(term);
    }
    return id;
  }

  /** Adds a passage's terms to a field; returns the distinct term ids it added. */
  private addField(field: Field, label: number, terms: string[]): Int32Array {
    while (field.lengths.length <= label) field.lengths.push(0);
    field.lengths[label] = terms.length;
    field.totalLength += terms.length;
    const counted = countTerms(terms);
    const ids = new Int32Array(counted.size);
    let next = 0;
    for (const [term, count] of counted) {
      const id = this.termId(term);
      ids[next++] = id;
      let postings = field.postings[id];
      if (!postings) {
        postings = { labels: [], counts: [] };
        field.postings[id] = postings;
      } else if (!Array.isArray(postings.labels)) {
        // Loaded postings are typed views; the first append turns them into growable arrays.
        postings = { labels: Array.from(postings.labels), counts: Array.from(postings.counts) };
        field.postings[id] = postings;
      }
      (postings.labels as number[]).push(label);
      (postings.counts as number[]).push(Math.min(count, 65_535));
      field.documentFrequency[id] = (field.documentFrequency[id] ?? 0) + 1;
    }
    return ids;
  }

  /** Takes a passage's terms (ids, repeats allowed) out of a field's statistics. */
  private removeField(field: Field, label: number, termIds: Int32Array): void {
    field.totalLength -= field.lengths[label] ?? 0;
    for (const id of new Set(termIds)) field.documentFrequency[id] = Math.max(0, (field.documentFrequency[id] ?? 0) - 1);
  }
}
