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
import { copyOf, ensureLength, LabelRuns, PostingLists, type PostingRun } from './postings.js';
import { blockedTop, splitTop, type BlockHelper, type PostingRunView } from './blocked-top.js';
import { TopN } from './top-k.js';

export interface LexicalDocument {
  label: number;
  text: string;
  title: string;
  section?: string;
  /** Sentence spans in `text`; sentence-level matching needs them (without, the text is one sentence). */
  sentences?: ReadonlyArray<{ start: number; end: number }>;
  /** The document already analysed (`analyseDocument` with this index's analyser): it is not analysed again. */
  analysed?: AnalysedDocument;
}

/** A document's terms: each sentence's, and its headline field's. */
export interface AnalysedDocument {
  sentences: string[][];
  title: string[];
}

/** The terms `LexicalIndex.add` indexes a document by. */
export function analyseDocument(document: LexicalDocument, analyze: (text: string) => string[] = contentStems): AnalysedDocument {
  const spans = document.sentences && document.sentences.length > 0 ? document.sentences : [{ start: 0, end: document.text.length }];
  return {
    sentences: spans.map((span) => analyze(document.text.slice(span.start, span.end))),
    title: analyze(`${document.title} ${document.section ?? ''}`),
  };
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

/**
 * The corpus statistics BM25 needs, for an index that holds only some of the corpus's passages (the
 * candidates of one question, read from a store): its scores, idf and document frequencies are then the
 * whole corpus's, equal to those of an index holding every passage.
 */
export interface LexicalStatistics {
  /** Live passages in the corpus. */
  passages: number;
  textLengthTotal: number;
  titleLengthTotal: number;
  /** Per term, the passages whose text and whose headline field hold it; a term left out holds in none. */
  terms: ReadonlyMap<string, { text: number; title: number }>;
}

/** Scores of one question against every passage. */
export interface LexicalScores {
  /** BM25 score of a passage; 0 when it contains none of the terms. */
  score(label: number): number;
  /** The question terms found in a passage. */
  matched(label: number): string[];
  /**
   * The n best passages, best first (ties by the lower label); with `accept`, the n best of those it
   * accepts. `meanwhile` is called once, in this thread, while another thread (if one helps) scores half
   * of the postings: other work of the same question, done in the time this one would wait.
   */
  top(n: number, accept?: (label: number) => boolean, meanwhile?: () => void): Array<{ label: number; score: number }>;
}

interface Field {
  postings: PostingLists;
  /** Live passages holding each term in this field. */
  documentFrequency: Int32Array;
  /** Term count of this field per label. */
  lengths: Int32Array;
  totalLength: number;
}

/** How `search` scores: `whole` adds into arrays as long as the corpus, `blocked` block by block of labels (`blocked-top.ts`). */
export type SearchStrategy = 'whole' | 'blocked';

/** One posting list of a question: a term in one field, with its weight. */
interface QueryList {
  /** The term's place among the question's terms. */
  bit: number;
  id: number;
  field: Field;
  /** Term weight × field boost × idf. */
  factor: number;
  averageLength: number;
}

const FORMAT_VERSION = 5;
const MAX_QUERY_TERMS = 32;
/** Page size (log2 of entries) of an index of part of a corpus: a slice of postings (256) fits. */
const PART_PAGE_BITS = 12;

function emptyField(pageBits?: number): Field {
  return {
    postings: new PostingLists(undefined, pageBits),
    documentFrequency: new Int32Array(0),
    lengths: new Int32Array(0),
    totalLength: 0,
  };
}

/** How often the runs (labels ascending) hold `label`; 0 when they do not. */
function countIn(runs: readonly PostingRunView[], label: number): number {
  for (const { labels, counts, from, to } of runs) {
    if (to <= from || labels[to - 1]! < label) continue;
    if (labels[from]! > label) return 0;
    let low = from;
    let high = to - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (labels[middle]! < label) low = middle + 1;
      else high = middle;
    }
    return labels[low] === label ? counts[low]! : 0;
  }
  return 0;
}

/** A passage's term ids as kept per label: the sentence count, each sentence's end, then the ids. */
function packSentences(sentences: readonly string[][], termIds: Int32Array): Int32Array {
  const packed = new Int32Array(1 + sentences.length + termIds.length);
  packed[0] = sentences.length;
  let end = 0;
  for (let i = 0; i < sentences.length; i += 1) {
    end += sentences[i]!.length;
    packed[1 + i] = end;
  }
  packed.set(termIds, 1 + sentences.length);
  return packed;
}

type Blob = Int32Array | Uint16Array | Uint8Array;
type BlobType<T extends Blob> = { new (buffer: ArrayBuffer, offset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

const MAGIC = 0x584c4243; // "CBLX"

/** Entries per chunk when a large array is written out in pieces. */
const CHUNK_ENTRIES = 1 << 20;

function bytesOf(blob: Blob): Uint8Array {
  return new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength);
}

/** Collects values into fixed-size typed-array chunks, handed over as bytes as they fill. */
class Chunker {
  private chunk: Int32Array | Uint16Array;
  private used = 0;
  private readonly full: Uint8Array[] = [];

  constructor(private readonly make: (length: number) => Int32Array | Uint16Array) {
    this.chunk = make(CHUNK_ENTRIES);
  }

  push(value: number): void {
    this.chunk[this.used++] = value;
    if (this.used === CHUNK_ENTRIES) this.flush();
  }

  pushRun(values: Int32Array | Uint16Array, from: number, to: number): void {
    while (from < to) {
      const taken = Math.min(to - from, CHUNK_ENTRIES - this.used);
      this.chunk.set(values.subarray(from, from + taken), this.used);
      this.used += taken;
      from += taken;
      if (this.used === CHUNK_ENTRIES) this.flush();
    }
  }

  /** The chunks filled since the last call. */
  take(): Uint8Array[] {
    return this.full.splice(0);
  }

  /** The remaining chunks, the last one partly filled. */
  finish(): Uint8Array[] {
    if (this.used > 0) this.full.push(bytesOf(this.chunk.subarray(0, this.used)));
    this.used = 0;
    return this.take();
  }

  private flush(): void {
    this.full.push(bytesOf(this.chunk));
    this.chunk = this.make(CHUNK_ENTRIES);
    this.used = 0;
  }
}

/** A blob of the file: its element type and length, and its bytes (produced when written). */
interface BlobPlan {
  name: string;
  type: 'Int32Array' | 'Uint16Array' | 'Uint8Array';
  length: number;
  bytes: () => Iterable<Uint8Array>;
}

const ELEMENT_BYTES = { Int32Array: 4, Uint16Array: 2, Uint8Array: 1 } as const;

/**
 * The index on disk: a small JSON header (vocabulary and where each array lies) followed by the typed
 * arrays themselves, 4-byte aligned, so loading is a few views, not a parse. Produced in pieces: a large
 * index is written without ever being one array in memory.
 */
function* pack(header: { terms: string[] }, blobs: BlobPlan[]): Generator<Uint8Array> {
  const layout: Record<string, [offset: number, length: number, type: string]> = {};
  let offset = 0;
  for (const blob of blobs) {
    layout[blob.name] = [offset, blob.length, blob.type];
    offset += Math.ceil((blob.length * ELEMENT_BYTES[blob.type]) / 4) * 4;
  }
  const headerBytes = Buffer.from(JSON.stringify({ ...header, version: FORMAT_VERSION, layout }));
  const headerLength = Math.ceil(headerBytes.length / 4) * 4;
  const start = new Uint8Array(12 + headerLength);
  const view = new DataView(start.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, headerLength, true);
  start.set(headerBytes, 12);
  yield start;
  for (const blob of blobs) {
    let written = 0;
    for (const part of blob.bytes()) {
      written += part.byteLength;
      yield part;
    }
    if (written !== blob.length * ELEMENT_BYTES[blob.type]) throw new Error(`lexical index blob ${blob.name} came out at ${written} bytes`);
    if (written % 4 !== 0) yield new Uint8Array(4 - (written % 4));
  }
}

function unpack(source: Uint8Array): { terms: string[]; blob: <T extends Blob>(name: string, type: BlobType<T>) => T } {
  // Typed-array views need offsets that are multiples of their element size: a file read on its own is
  // aligned and is used as it is; anything else gets one aligned copy.
  let bytes = source;
  if (source.byteOffset % 4 !== 0) {
    bytes = new Uint8Array(source.byteLength);
    bytes.set(source);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || view.getUint32(0, true) !== MAGIC) throw new Error('not a lexical index file');
  if (view.getUint32(4, true) !== FORMAT_VERSION) throw new Error('unknown lexical index format');
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.byteLength) throw new Error('the lexical index file is truncated');
  const header = JSON.parse(
    Buffer.from(bytes.buffer, bytes.byteOffset + 12, headerLength)
      .toString('utf8')
      .trimEnd()
      .replace(/\0+$/, ''),
  ) as {
    terms: string[];
    layout: Record<string, [number, number, string]>;
  };
  return {
    terms: header.terms,
    blob: (name, Type) => {
      const entry = header.layout[name];
      if (!entry) throw new Error(`lexical index file lacks ${name}`);
      const offset = 12 + headerLength + entry[0];
      if (offset + entry[1] * Type.BYTES_PER_ELEMENT > bytes.byteLength) throw new Error(`the lexical index file is truncated in ${name}`);
      return new Type(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, entry[1]);
    },
  };
}

/** A field's blobs: live postings only, counted first for the offsets, then streamed in chunks. */
function fieldBlobs(name: string, field: Field, termCount: number, alive: Uint8Array, allLive: boolean): BlobPlan[] {
  const offsets = new Int32Array(termCount + 1);
  let total = 0;
  const count: PostingRun = (labels, _counts, from, to) => {
    if (allLive) total += to - from;
    else for (let i = from; i < to; i += 1) total += alive[labels[i]!]!;
  };
  for (let id = 0; id < termCount; id += 1) {
    offsets[id] = total;
    field.postings.forEachRun(id, count);
  }
  offsets[termCount] = total;
  const lengths = Int32Array.from(field.lengths.subarray(0, alive.length), (length, label) => (alive[label] ? length : 0));
  return [
    { name: `${name}.offsets`, type: 'Int32Array', length: offsets.length, bytes: () => [bytesOf(offsets)] },
    {
      name: `${name}.labels`,
      type: 'Int32Array',
      length: total,
      bytes: () => livePostings(field.postings, termCount, alive, allLive, 'labels'),
    },
    {
      name: `${name}.counts`,
      type: 'Uint16Array',
      length: total,
      bytes: () => livePostings(field.postings, termCount, alive, allLive, 'counts'),
    },
    { name: `${name}.lengths`, type: 'Int32Array', length: alive.length, bytes: () => [bytesOf(lengths)] },
  ];
}

function* livePostings(
  postings: PostingLists,
  termCount: number,
  alive: Uint8Array,
  allLive: boolean,
  part: 'labels' | 'counts',
): Generator<Uint8Array> {
  const chunker = new Chunker((length) => (part === 'labels' ? new Int32Array(length) : new Uint16Array(length)));
  const copy: PostingRun = (labels, counts, from, to) => {
    const values = part === 'labels' ? labels : counts;
    if (allLive) chunker.pushRun(values, from, to);
    else for (let i = from; i < to; i += 1) if (alive[labels[i]!]) chunker.push(values[i]!);
  };
  for (let id = 0; id < termCount; id += 1) {
    postings.forEachRun(id, copy);
    yield* chunker.take();
  }
  yield* chunker.finish();
}

/** Per-label runs as blobs: offsets by label, then the runs of live labels streamed in chunks. */
function runBlobs(name: string, runs: LabelRuns, alive: Uint8Array): BlobPlan[] {
  const offsets = new Int32Array(alive.length + 1);
  let total = 0;
  for (let label = 0; label < alive.length; label += 1) {
    offsets[label] = total;
    if (alive[label]) total += runs.lengthOf(label);
  }
  offsets[alive.length] = total;
  const values = function* (): Generator<Uint8Array> {
    const chunker = new Chunker((length) => new Int32Array(length));
    for (let label = 0; label < alive.length; label += 1) {
      const run = alive[label] ? runs.get(label) : undefined;
      if (!run) continue;
      chunker.pushRun(run, 0, run.length);
      yield* chunker.take();
    }
    yield* chunker.finish();
  };
  return [
    { name: `${name}.offsets`, type: 'Int32Array', length: offsets.length, bytes: () => [bytesOf(offsets)] },
    { name: `${name}.terms`, type: 'Int32Array', length: total, bytes: values },
  ];
}

/** BM25's idf, always positive: a term no passage holds gets the highest value. */
export function bm25Idf(passages: number, documentFrequency: number): number {
  return Math.log(1 + (passages - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

export class LexicalIndex {
  private readonly vocabulary = new Map<string, number>();
  private readonly terms: string[] = [];
  private readonly text: Field;
  private readonly title: Field;
  /** Per label, 1 for a live passage; removed passages stay in postings until the next save compacts them. */
  private alive = new Uint8Array(0);
  /** One past the highest label the index has held. */
  private labelLimit = 0;
  /** Per label: [sentence count, cumulative ends of each sentence's terms…, term ids…]. */
  private sentenceTerms: LabelRuns;
  /** Per label: the term ids of its headline and section field, so removing it needs no re-analysis. */
  private titleTerms: LabelRuns;
  private liveCount = 0;
  /** Labels removed since the index was created or loaded: their postings are still in place. */
  private readonly removedLabels = new Set<number>();
  private readonly analyze: (text: string) => string[];
  /**
   * For an index of part of a corpus: the slot each passage label is kept in, and the label of each slot.
   * Its per-passage arrays then have as many entries as it has passages, not as the corpus's highest label.
   */
  private readonly slots?: { ofLabel: Map<number, number>; labels: number[] };
  /** Scores half of a large question's postings in another thread (see `splitTop`). */
  private helper?: BlockHelper;

  private constructor(
    private readonly options: LexicalOptions,
    /** The whole corpus's statistics when this index holds only part of it; undefined: its own. */
    private readonly corpus?: LexicalStatistics,
  ) {
    this.analyze = options.analyze ?? contentStems;
    if (corpus) this.slots = { ofLabel: new Map(), labels: [] };
    // An index of part of a corpus holds one question's candidates: pages of 2^12 entries, not 2^16 (the
    // large pages were 1.3 MB allocated and cleared per question).
    const pageBits = corpus ? PART_PAGE_BITS : undefined;
    this.text = emptyField(pageBits);
    this.title = emptyField(pageBits);
    this.sentenceTerms = new LabelRuns(undefined, pageBits);
    this.titleTerms = new LabelRuns(undefined, pageBits);
  }

  /** Where a label's passage is kept (the label itself, but in an index of part of a corpus). */
  private slotOf(label: number): number | undefined {
    return this.slots ? this.slots.ofLabel.get(label) : label;
  }

  /** The label of the passage kept in `slot`. */
  private labelAt(slot: number): number {
    return this.slots ? this.slots.labels[slot]! : slot;
  }

  static create(options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    return new LexicalIndex(options);
  }

  /** An index for some passages of a larger corpus, scoring them with the corpus's `statistics`. */
  static partOf(statistics: LexicalStatistics, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    return new LexicalIndex(options, statistics);
  }

  /**
   * Lets `helper` score half of each large question (undefined: one thread). It can only read an index
   * loaded from shared memory (`deserialize` of bytes in a SharedArrayBuffer) and not changed since.
   */
  useHelper(helper: BlockHelper | undefined): void {
    this.helper = helper;
  }

  /** This index's own statistics for `terms` (what `partOf` takes). */
  statistics(terms: Iterable<string>): LexicalStatistics {
    const counts = new Map<string, { text: number; title: number }>();
    for (const term of terms) {
      const id = this.vocabulary.get(term);
      if (id !== undefined) counts.set(term, { text: this.text.documentFrequency[id] ?? 0, title: this.title.documentFrequency[id] ?? 0 });
    }
    return { passages: this.liveCount, textLengthTotal: this.text.totalLength, titleLengthTotal: this.title.totalLength, terms: counts };
  }

  /**
   * Reads the binary form. The large arrays (postings, term ids) stay views of `bytes`, which must not
   * change afterwards; additions go elsewhere.
   */
  static deserialize(bytes: Uint8Array, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    const { terms, blob } = unpack(bytes);
    const index = new LexicalIndex(options);
    terms.forEach((term, id) => {
      index.vocabulary.set(term, id);
      index.terms.push(term);
    });
    // Small per-label arrays are copied: they change as passages come and go. Loaded into shared memory,
    // the index keeps them there too, where a scoring thread can read them.
    const shared = bytes.buffer instanceof SharedArrayBuffer;
    index.alive = copyOf(blob('alive', Uint8Array), shared);
    index.labelLimit = index.alive.length;
    for (const value of index.alive) index.liveCount += value;
    for (const [field, name] of [
      [index.text, 'text'],
      [index.title, 'title'],
    ] as const) {
      const offsets = blob(`${name}.offsets`, Int32Array);
      if (offsets.length !== terms.length + 1) throw new Error(`lexical index ${name}.offsets does not match the vocabulary`);
      field.postings = new PostingLists({
        offsets,
        labels: blob(`${name}.labels`, Int32Array),
        counts: blob(`${name}.counts`, Uint16Array),
      });
      field.lengths = copyOf(blob(`${name}.lengths`, Int32Array), shared);
      field.totalLength = field.lengths.reduce((sum, length, label) => sum + (index.alive[label] ? length : 0), 0);
      field.documentFrequency = new Int32Array(terms.length);
      for (let id = 0; id < terms.length; id += 1) field.documentFrequency[id] = offsets[id + 1]! - offsets[id]!;
    }
    index.sentenceTerms = new LabelRuns({ offsets: blob('sentences.offsets', Int32Array), values: blob('sentences.terms', Int32Array) });
    index.titleTerms = new LabelRuns({ offsets: blob('titles.offsets', Int32Array), values: blob('titles.terms', Int32Array) });
    return index;
  }

  /** The binary form; postings of removed passages are dropped here. */
  serialize(): Uint8Array {
    const parts = [...this.serializedParts()];
    const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    return bytes;
  }

  /**
   * The binary form in pieces, in order, produced as they are taken: a large index is written without
   * being copied whole. The index must not change until the last piece is taken.
   */
  serializedParts(): Iterable<Uint8Array> {
    if (this.slots) throw new Error('an index of part of a corpus is not saved');
    const alive = this.alive.subarray(0, this.labelLimit);
    // Nothing removed since the index was created or loaded: every posting is live, runs copy as they are.
    const allLive = this.removedLabels.size === 0;
    return pack({ terms: this.terms }, [
      ...fieldBlobs('text', this.text, this.terms.length, alive, allLive),
      ...fieldBlobs('title', this.title, this.terms.length, alive, allLive),
      ...runBlobs('sentences', this.sentenceTerms, alive),
      ...runBlobs('titles', this.titleTerms, alive),
      { name: 'alive', type: 'Uint8Array', length: alive.length, bytes: () => [alive.slice()] },
    ]);
  }

  get documentCount(): number {
    return this.liveCount;
  }

  has(label: number): boolean {
    const slot = this.slotOf(label);
    return slot !== undefined && this.alive[slot] === 1;
  }

  add(documents: LexicalDocument[]): void {
    for (const document of documents) {
      if (this.has(document.label)) throw new Error(`passage ${document.label} is already indexed`);
      // Postings of a removed passage stay until serialize compacts them: a live label over them would count twice.
      if (this.removedLabels.has(document.label))
        throw new Error(`passage ${document.label} was removed; labels are not reused before the index is saved`);
      const label = this.slots ? this.newSlot(document.label) : document.label;
      const { sentences, title } = document.analysed ?? analyseDocument(document, this.analyze);
      const termIds = this.addField(this.text, label, sentences.flat()).termIds;
      this.sentenceTerms.set(label, packSentences(sentences, termIds));
      this.titleTerms.set(label, this.addField(this.title, label, title).distinct);
      this.alive = ensureLength(this.alive, label + 1);
      this.alive[label] = 1;
      this.labelLimit = Math.max(this.labelLimit, label + 1);
      this.liveCount += 1;
    }
  }

  /** Withdraws passages by label; their postings stay, marked dead, until the next `serialize`. */
  remove(labels: Iterable<number>): void {
    for (const removed of labels) {
      if (!this.has(removed)) continue;
      const label = this.slotOf(removed)!;
      const sentences = this.sentenceTerms.get(label);
      this.removeField(this.text, label, sentences ? sentences.subarray(1 + sentences[0]!) : new Int32Array());
      this.removeField(this.title, label, this.titleTerms.get(label) ?? new Int32Array());
      this.alive[label] = 0;
      this.sentenceTerms.delete(label);
      this.titleTerms.delete(label);
      this.removedLabels.add(removed);
      this.liveCount -= 1;
    }
  }

  /** Number of distinct terms the index has seen (it only grows: a term stays when its passages go). */
  get termCount(): number {
    return this.terms.length;
  }

  /** How many passages' text holds `term`. */
  documentFrequency(term: string): number {
    return this.fieldFrequency(this.text, term);
  }

  /** The terms some live passage's text holds. */
  liveTerms(): string[] {
    return this.terms.filter((_, id) => (this.text.documentFrequency[id] ?? 0) > 0);
  }

  /** The term ids of a passage's text, sentence by sentence (empty for an unknown label). */
  sentenceTermIds(label: number): Int32Array[] {
    const slot = this.slotOf(label);
    const packed = slot === undefined ? undefined : this.sentenceTerms.get(slot);
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

  /** This index's analyser: text to index terms. */
  get analyser(): (text: string) => string[] {
    return this.analyze;
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
    return this.idfOf(this.documentFrequency(term));
  }

  /**
   * Scores every passage that contains at least one of the terms; `weights` scales single terms (alias
   * expansions count for less than the question's own words). At most 32 distinct terms are used.
   * By default `top` scores block by block of labels and `score` and `matched` look single passages up
   * in each list (squad questions, p50: 0.23 ms at 100k passages, 1.7 ms at a million, against 0.6 and
   * 24 ms scored whole); `strategy` is for the tests, which hold both to the same results, bit for bit.
   * Blocks need each list's labels ascending, as builds hand them out; where one does not (a label added
   * again below later ones) the question is scored whole.
   */
  search(terms: string[], weights?: ReadonlyMap<string, number>, strategy: SearchStrategy = 'blocked'): LexicalScores {
    const queryTerms = [...new Set(terms)].slice(0, MAX_QUERY_TERMS);
    const lists = this.queryLists(queryTerms, weights);
    const blocked = strategy !== 'whole' && lists.every((list) => list.field.postings.ascending(list.id));
    return blocked ? this.blockedScores(queryTerms, lists) : this.scoreWhole(queryTerms, lists);
  }

  /** The question's posting lists, in the order a full pass adds them: by term, the text before the title. */
  private queryLists(queryTerms: string[], weights?: ReadonlyMap<string, number>): QueryList[] {
    const passages = this.corpus?.passages ?? this.liveCount;
    const lists: QueryList[] = [];
    if (passages === 0) return lists;
    queryTerms.forEach((term, bit) => {
      const id = this.vocabulary.get(term);
      if (id === undefined) return;
      const weight = weights?.get(term) ?? 1;
      for (const [field, boost] of [
        [this.text, 1],
        [this.title, this.options.titleBoost],
      ] as const) {
        if (field.postings.size(id) === 0 || boost === 0) continue;
        const idf = this.idfOf(this.fieldFrequency(field, term));
        const averageLength = this.totalLength(field) / passages || 1;
        lists.push({ bit, id, field, factor: weight * boost * idf, averageLength });
      }
    });
    return lists;
  }

  /** Every posting of the lists scored in one pass, into arrays as long as the corpus. */
  private scoreWhole(queryTerms: string[], lists: QueryList[]): LexicalScores {
    const capacity = this.labelLimit;
    const scores = new Float64Array(capacity);
    const masks = new Uint32Array(capacity);
    const touched: number[] = [];
    const { k, b, d } = this.options.bm25;
    const alive = this.alive;

    for (const { bit, id, field, factor, averageLength } of lists) {
      const lengths = field.lengths;
      field.postings.forEachRun(id, (labels, counts, from, to) => {
        for (let i = from; i < to; i += 1) {
          const label = labels[i]!;
          if (alive[label] !== 1) continue;
          const count = counts[i]!;
          // The same expression as `contribution` and `blockedTop`: every strategy agrees bit for bit.
          const normalised = count / (count + k * (1 - b + (b * lengths[label]!) / averageLength));
          if (masks[label] === 0) touched.push(label);
          masks[label] = masks[label]! | (1 << bit);
          scores[label] = scores[label]! + factor * (d + (k + 1) * normalised);
        }
      });
    }

    const inRange = (label: number) => {
      const slot = this.slotOf(label);
      return slot !== undefined && slot >= 0 && slot < capacity ? slot : undefined;
    };
    return {
      score: (label) => {
        const slot = inRange(label);
        return slot === undefined ? 0 : scores[slot]!;
      },
      matched: (label) => {
        const slot = inRange(label);
        return slot === undefined ? [] : queryTerms.filter((_, bit) => (masks[slot]! & (1 << bit)) !== 0);
      },
      top: (n, accept, meanwhile) => {
        meanwhile?.();
        const best = new TopN(n);
        for (const slot of touched) {
          const label = this.labelAt(slot);
          if (!accept || accept(label)) best.offer(label, scores[slot]!);
        }
        return best.result;
      },
    };
  }

  /** Scores computed only where asked: `top` block by block of labels, a single passage by looking it up in each list. */
  private blockedScores(queryTerms: string[], lists: QueryList[]): LexicalScores {
    const views = lists.map((list) => {
      const runs: PostingRunView[] = [];
      list.field.postings.forEachRun(list.id, (labels, counts, from, to) => runs.push({ labels, counts, from, to }));
      return { list, runs };
    });
    const lookedUp = new Map<number, { score: number; mask: number }>();
    const lookUp = (label: number) => {
      let found = lookedUp.get(label);
      if (found) return found;
      found = { score: 0, mask: 0 };
      const slot = this.slotOf(label);
      if (slot !== undefined && this.alive[slot] === 1) {
        for (const { list, runs } of views) {
          const count = countIn(runs, slot);
          if (count === 0) continue;
          found.score += this.contribution(list, slot, count);
          found.mask |= 1 << list.bit;
        }
      }
      lookedUp.set(label, found);
      return found;
    };
    return {
      score: (label) => lookUp(label).score,
      matched: (label) => {
        const { mask } = lookUp(label);
        return queryTerms.filter((_, bit) => (mask & (1 << bit)) !== 0);
      },
      top: (n, accept, meanwhile) => {
        const scored = views.map(({ list, runs }) => ({
          runs,
          factor: list.factor,
          averageLength: list.averageLength,
          lengths: list.field.lengths,
        }));
        const admit = (slot: number) => this.alive[slot] === 1 && (!accept || accept(this.labelAt(slot)));
        const labelOf = (slot: number) => this.labelAt(slot);
        // A filter runs here only, and slots of part of a corpus are not in label order: one thread then.
        const split =
          this.helper && !accept && !this.slots
            ? splitTop(scored, n, this.options.bm25, this.alive, this.helper, admit, labelOf, meanwhile)
            : undefined;
        if (split) return split;
        meanwhile?.();
        return blockedTop(scored, n, this.options.bm25, admit, labelOf);
      },
    };
  }

  /** What a posting adds to its passage's score (the expression `scoreWhole` inlines). */
  private contribution(list: QueryList, slot: number, count: number): number {
    const { k, b, d } = this.options.bm25;
    const normalised = count / (count + k * (1 - b + (b * list.field.lengths[slot]!) / list.averageLength));
    return list.factor * (d + (k + 1) * normalised);
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
    const slot = this.slotOf(label);
    const packed = slot === undefined ? undefined : this.sentenceTerms.get(slot);
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
    const slot = this.slotOf(label);
    const packed = slot === undefined ? undefined : this.sentenceTerms.get(slot);
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

  private newSlot(label: number): number {
    const slots = this.slots!;
    const slot = slots.labels.length;
    slots.labels.push(label);
    slots.ofLabel.set(label, slot);
    return slot;
  }

  private idfOf(documentFrequency: number): number {
    return bm25Idf(this.corpus?.passages ?? this.liveCount, documentFrequency);
  }

  /** Passages whose `field` holds `term`: in the corpus this index is part of, else in this index. */
  private fieldFrequency(field: Field, term: string): number {
    if (this.corpus) {
      const counts = this.corpus.terms.get(term);
      return (field === this.text ? counts?.text : counts?.title) ?? 0;
    }
    const id = this.vocabulary.get(term);
    return id === undefined ? 0 : (field.documentFrequency[id] ?? 0);
  }

  private totalLength(field: Field): number {
    if (!this.corpus) return field.totalLength;
    return field === this.text ? this.corpus.textLengthTotal : this.corpus.titleLengthTotal;
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

  /** Adds a passage's terms to a field; returns the id of each term, in order, and the distinct ids it added. */
  private addField(field: Field, label: number, terms: string[]): { termIds: Int32Array; distinct: Int32Array } {
    field.lengths = ensureLength(field.lengths, label + 1);
    field.lengths[label] = terms.length;
    field.totalLength += terms.length;
    // Each term is looked up once, as an id; the counting is then over numbers.
    const termIds = new Int32Array(terms.length);
    const counts = new Map<number, number>();
    for (let i = 0; i < terms.length; i += 1) {
      const id = this.termId(terms[i]!);
      termIds[i] = id;
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const distinct = new Int32Array(counts.size);
    let next = 0;
    for (const [id, count] of counts) {
      distinct[next++] = id;
      field.postings.add(id, label, Math.min(count, 65_535));
      field.documentFrequency = ensureLength(field.documentFrequency, id + 1);
      field.documentFrequency[id] = field.documentFrequency[id]! + 1;
    }
    return { termIds, distinct };
  }

  /** Takes a passage's terms (ids, repeats allowed) out of a field's statistics. */
  private removeField(field: Field, label: number, termIds: Int32Array): void {
    field.totalLength -= field.lengths[label] ?? 0;
    for (const id of new Set(termIds)) field.documentFrequency[id] = Math.max(0, (field.documentFrequency[id] ?? 0) - 1);
  }
}
