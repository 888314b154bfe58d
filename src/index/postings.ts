/**
 * Off-heap storage for the lexical index: postings lists that grow term by term, and one run of term ids
 * per passage. Both keep what was loaded from a file in the file's own arrays and put what is added since
 * into fixed-size pages, so nothing is ever copied to grow and there are no per-term or per-passage objects.
 *
 * Why: with a `{ labels: number[], counts: number[] }` per term and two typed arrays per passage, a build of
 * a million passages needed more than V8's 4 GB heap (8 bytes a posting, about 180 bytes of wrappers a
 * passage); here a posting is 6 bytes outside the heap, and a passage's runs 12 bytes of bookkeeping each.
 */

/** Pages hold 2^16 entries (a slice or a run never straddles two). */
export const DEFAULT_PAGE_BITS = 16;

/**
 * Entries of a term's chained slices by level: the first holds 3 postings, each next one about half as
 * many again, up to 255. The last slice of a term is half empty on average: doubling up to 2,048 left 29 % of
 * the entries unused at 300k passages, this 6 %; a term of 300k postings is then 1,200 runs, which costs
 * search nothing measurable.
 */
const SLICE_SIZES = [4, 6, 9, 14, 21, 32, 48, 72, 108, 162, 256];

type Growable = Int32Array | Uint16Array | Uint8Array;

/**
 * `array` when it holds at least `needed` entries, else a copy into one about twice as long (zero-filled),
 * in shared memory if `array` was.
 */
export function ensureLength<T extends Growable>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const Type = array.constructor as new (buffer: ArrayBufferLike) => T;
  const length = Math.max(needed, array.length * 2, 16);
  // Shared memory stays shared (a scoring thread reads it: see scoring-thread.ts).
  const Buffer = array.buffer instanceof SharedArrayBuffer ? SharedArrayBuffer : ArrayBuffer;
  const grown = new Type(new Buffer(length * array.BYTES_PER_ELEMENT));
  grown.set(array);
  return grown;
}

/** Called with each run of a term's postings: entries `from` to `to` (exclusive) of `labels` and `counts`. */
export type PostingRun = (labels: Int32Array, counts: Uint16Array, from: number, to: number) => void;

/**
 * The postings of one field: per term, the labels of the passages that hold it and how often, in the order
 * they were added. Loaded postings stay where the file put them (one run per term); postings added later
 * go into a chain of slices per term, Lucene's way: a slice of n entries holds n - 1 postings, and its last
 * entry the address of the next, larger slice.
 */
export class PostingLists {
  private readonly pageBits: number;
  private readonly labelPages: Int32Array[] = [];
  private readonly countPages: Uint16Array[] = [];
  private pageUsed: number;
  /** Per term: 1 + address of its first slice (0: no slice). An address is page << pageBits | offset. */
  private head = new Int32Array(0);
  /** Per term: address of the next free entry of its last slice. */
  private cursor = new Int32Array(0);
  /** Per term: address of the entry of its last slice that will point to the next one. */
  private end = new Int32Array(0);
  private level = new Uint8Array(0);
  /** Per term: postings in its slices. */
  private chained = new Int32Array(0);
  /** Per term: 0 not known yet, 1 labels ascend, 2 they do not; and its last label where known. */
  private order = new Uint8Array(0);
  private lastLabel = new Int32Array(0);

  /**
   * `base`: postings as loaded, term `t` holding entries `offsets[t]` to `offsets[t + 1]` of `labels` and
   * `counts` (terms past the end of `offsets` have none). `pageBits`: log2 of the entries per page.
   */
  constructor(
    private readonly base: { offsets: Int32Array; labels: Int32Array; counts: Uint16Array } = {
      offsets: new Int32Array(1),
      labels: new Int32Array(0),
      counts: new Uint16Array(0),
    },
    pageBits = DEFAULT_PAGE_BITS,
  ) {
    if (1 << pageBits < SLICE_SIZES.at(-1)! || pageBits > 24) throw new Error(`pages of 2^${pageBits} entries cannot hold a slice`);
    this.pageBits = pageBits;
    this.pageUsed = 1 << pageBits;
  }

  /** Appends a posting to `term`'s list. */
  add(term: number, label: number, count: number): void {
    if (term >= this.head.length) {
      this.head = ensureLength(this.head, term + 1);
      this.cursor = ensureLength(this.cursor, term + 1);
      this.end = ensureLength(this.end, term + 1);
      this.level = ensureLength(this.level, term + 1);
      this.chained = ensureLength(this.chained, term + 1);
    }
    const mask = (1 << this.pageBits) - 1;
    if (this.head[term] === 0) {
      const address = this.allocate(SLICE_SIZES[0]!);
      this.head[term] = address + 1;
      this.cursor[term] = address;
      this.end[term] = address + SLICE_SIZES[0]! - 1;
    } else if (this.cursor[term] === this.end[term]) {
      // The slice is full: its last entry links to a new, larger one.
      const level = Math.min(this.level[term]! + 1, SLICE_SIZES.length - 1);
      const size = SLICE_SIZES[level]!;
      const address = this.allocate(size);
      const link = this.end[term]!;
      this.labelPages[link >>> this.pageBits]![link & mask] = address;
      this.level[term] = level;
      this.cursor[term] = address;
      this.end[term] = address + size - 1;
    }
    if (this.order[term] === 1) {
      if (label <= this.lastLabel[term]!) this.order[term] = 2;
      this.lastLabel[term] = label;
    }
    const at = this.cursor[term]!;
    this.labelPages[at >>> this.pageBits]![at & mask] = label;
    this.countPages[at >>> this.pageBits]![at & mask] = count;
    this.cursor[term] = at + 1;
    this.chained[term] = this.chained[term]! + 1;
  }

  /** Postings of `term`, dead ones included. */
  size(term: number): number {
    const { offsets } = this.base;
    const loaded = term + 1 < offsets.length ? offsets[term + 1]! - offsets[term]! : 0;
    return loaded + (this.chained[term] ?? 0);
  }

  /**
   * Whether `term`'s labels ascend from posting to posting (they do as builds hand labels out; a label
   * added again below later ones breaks it). Found by one pass the first time, kept up to date after.
   */
  ascending(term: number): boolean {
    const known = this.order[term] ?? 0;
    if (known !== 0) return known === 1;
    let last = -1;
    let ascending = true;
    this.forEachRun(term, (labels, _counts, from, to) => {
      for (let i = from; i < to; i += 1) {
        if (labels[i]! <= last) ascending = false;
        last = labels[i]!;
      }
    });
    this.order = ensureLength(this.order, term + 1);
    this.lastLabel = ensureLength(this.lastLabel, term + 1);
    this.order[term] = ascending ? 1 : 2;
    this.lastLabel[term] = last;
    return ascending;
  }

  /** Hands each run of `term`'s postings to `visit`, in the order they were added. */
  forEachRun(term: number, visit: PostingRun): void {
    const { offsets, labels, counts } = this.base;
    if (term + 1 < offsets.length && offsets[term + 1]! > offsets[term]!) visit(labels, counts, offsets[term]!, offsets[term + 1]!);
    const mask = (1 << this.pageBits) - 1;
    let remaining = this.chained[term] ?? 0;
    let address = (this.head[term] ?? 0) - 1;
    for (let level = 0; remaining > 0; level = Math.min(level + 1, SLICE_SIZES.length - 1)) {
      const size = SLICE_SIZES[level]!;
      const pageLabels = this.labelPages[address >>> this.pageBits]!;
      const offset = address & mask;
      const taken = Math.min(remaining, size - 1);
      visit(pageLabels, this.countPages[address >>> this.pageBits]!, offset, offset + taken);
      remaining -= taken;
      address = pageLabels[offset + size - 1]!;
    }
  }

  private allocate(size: number): number {
    if (this.pageUsed + size > 1 << this.pageBits) {
      // Addresses are int32: page << pageBits must stay below 2^31.
      if (this.labelPages.length + 1 >= 2 ** (31 - this.pageBits)) throw new Error('the lexical index outgrew 2^31 postings in one field');
      this.labelPages.push(new Int32Array(1 << this.pageBits));
      this.countPages.push(new Uint16Array(1 << this.pageBits));
      this.pageUsed = 0;
    }
    const address = ((this.labelPages.length - 1) << this.pageBits) | this.pageUsed;
    this.pageUsed += size;
    return address;
  }
}

/**
 * One run of int32 values per label (a passage's sentence term ids, or its title term ids). Loaded runs
 * stay in the file's array; runs set later are appended to pages, a run longer than a page getting a page
 * of its own. A label set again gets a new run and its old one's space is not reused: labels are not
 * re-added before the index is saved, which compacts.
 */
export class LabelRuns {
  private readonly pageSize: number;
  private readonly pages: Int32Array[] = [];
  /** Index in `pages` of the page being filled (-1: none yet), and how much of it is. */
  private current = -1;
  private currentUsed = 0;
  /** Per label: 1 + index of the page its run is in (0: no run). */
  private page = new Int32Array(0);
  private start = new Int32Array(0);
  private length = new Int32Array(0);

  /** `base`: runs as loaded, label `l` holding entries `offsets[l]` to `offsets[l + 1]` of `values`. */
  constructor(base?: { offsets: Int32Array; values: Int32Array }, pageBits = DEFAULT_PAGE_BITS) {
    this.pageSize = 1 << pageBits;
    if (!base) return;
    const labels = Math.max(0, base.offsets.length - 1);
    this.pages.push(base.values);
    this.page = new Int32Array(labels);
    this.start = new Int32Array(labels);
    this.length = new Int32Array(labels);
    for (let label = 0; label < labels; label += 1) {
      const from = base.offsets[label]!;
      const to = base.offsets[label + 1]!;
      if (to > from) this.place(label, 0, from, to - from);
    }
  }

  /** Stores a copy of `values` as `label`'s run. */
  set(label: number, values: ArrayLike<number>): void {
    if (label >= this.page.length) {
      this.page = ensureLength(this.page, label + 1);
      this.start = ensureLength(this.start, label + 1);
      this.length = ensureLength(this.length, label + 1);
    }
    if (values.length > this.pageSize) {
      this.pages.push(Int32Array.from(values));
      this.place(label, this.pages.length - 1, 0, values.length);
      return;
    }
    if (this.current < 0 || this.currentUsed + values.length > this.pageSize) {
      this.pages.push(new Int32Array(this.pageSize));
      this.current = this.pages.length - 1;
      this.currentUsed = 0;
    }
    this.pages[this.current]!.set(values, this.currentUsed);
    this.place(label, this.current, this.currentUsed, values.length);
    this.currentUsed += values.length;
  }

  /** Forgets `label`'s run. */
  delete(label: number): void {
    if (label < this.page.length) this.page[label] = 0;
  }

  /** `label`'s run, as a view; undefined when it has none. */
  get(label: number): Int32Array | undefined {
    const page = this.page[label];
    if (!page) return undefined;
    const start = this.start[label]!;
    return this.pages[page - 1]!.subarray(start, start + this.length[label]!);
  }

  /** Entries in `label`'s run (0 when it has none). */
  lengthOf(label: number): number {
    return this.page[label] ? this.length[label]! : 0;
  }

  private place(label: number, page: number, start: number, length: number): void {
    this.page[label] = page + 1;
    this.start[label] = start;
    this.length[label] = length;
  }
}

/** A copy of `array` in shared memory when `shared`, else in the heap. */
export function copyOf<T extends Growable>(array: T, shared: boolean): T {
  if (!shared) return array.slice() as T;
  const Type = array.constructor as new (buffer: ArrayBufferLike) => T;
  const copy = new Type(new SharedArrayBuffer(array.byteLength));
  copy.set(array);
  return copy;
}
