/**
 * The best n passages of a BM25 question, scored block by block of labels: every posting of the question's
 * lists is scored, as in a full pass, but the lists are walked together through one block of 2^14 labels
 * at a time, and scores add up in an array the size of a block, not of the corpus.
 *
 * Why: at a million passages a full pass adds into corpus-sized arrays (8 MB of scores alone, allocated and
 * cleared per question) at scattered places, a cache miss per posting; it took about 25 ms a question.
 * Block by block the scores stay in the processor's cache: 2.5 ms for the same postings, 2.2 since the
 * loop was shaped for the compiler (below). Skipping work by bounds was tried twice and dropped: whole
 * blocks by their best possible score (a question's words are in nearly every block), and MaxScore per
 * passage (lists whose bounds add up to less than the 50th score only looked up for the passages that
 * could still reach it): on squad questions over a million passages some 30,000 passages a question could
 * still reach it, and looking them up cost ten times the full pass.
 *
 * The result is the full pass's, bit for bit: within a block each passage's contributions are added list
 * after list, in the question's order, from zero, with the same expression.
 */
import { TopN, type Scored } from './top-k.js';

/** A run of postings: labels ascending, entries `from` to `to` (exclusive). */
export interface PostingRunView {
  labels: Int32Array;
  counts: Uint16Array;
  from: number;
  to: number;
}

/** One list of a question: its postings in runs, labels ascending across them, and how they are scored. */
export interface ScoredList {
  runs: readonly PostingRunView[];
  /** Term weight × field boost × idf. */
  factor: number;
  averageLength: number;
  /** The field's passage lengths, by slot. */
  lengths: Int32Array;
}

export interface Bm25Constants {
  k: number;
  b: number;
  d: number;
}

const BLOCK_BITS = 14;
const BLOCK_SIZE = 1 << BLOCK_BITS;

/**
 * One block's scores, and which of its passages have any (in the order first reached). Module constants,
 * not arrays handed around: the optimising compiler then knows where they are and how long. With the
 * loop in its own small function and no try/finally around it, the top 50 of squad questions over a
 * million passages took 2.2 ms (p50) instead of 3.7. They hold scores only while a block is summed, which
 * calls nothing outside this module, so a search started from `admit` finds them clean.
 */
const blockScores = new Float64Array(BLOCK_SIZE);
const blockTouched = new Int32Array(BLOCK_SIZE);
const blockMarked = new Uint8Array(BLOCK_SIZE);
let touchedCount = 0;

/** The passages of a block that may enter the best n, taken out before `admit` is asked about them. */
interface Pending {
  slots: Int32Array;
  scores: Float64Array;
}

/**
 * Kept between searches; a search started from `admit` gets its own, and one that ends in a throw from
 * `admit` lets its buffer go. (No try/finally to hand it back: inside one, the scoring loop ran 20-30 %
 * slower.)
 */
let sparePending: Pending | undefined;

/**
 * Adds one list's postings, from entry `from` up to `to` or the first label past the block starting at
 * `base`, into the block's scores; returns the entry it stopped at.
 */
function scoreRun(
  labels: Int32Array,
  counts: Uint16Array,
  from: number,
  to: number,
  base: number,
  lengths: Int32Array,
  factor: number,
  averageLength: number,
  k: number,
  b: number,
  d: number,
): number {
  const limit = base + BLOCK_SIZE;
  let touched = touchedCount;
  let i = from;
  for (; i < to; i += 1) {
    const slot = labels[i]!;
    if (slot >= limit) break;
    const count = counts[i]!;
    // The full pass's expression, in its order of lists: the same scores, bit for bit.
    const normalised = count / (count + k * (1 - b + (b * lengths[slot]!) / averageLength));
    const local = slot - base;
    // Marked apart from the score (a contribution may be 0), without a branch: the entry written is
    // kept only when the passage is new to the block.
    blockTouched[touched] = local;
    touched += 1 - blockMarked[local]!;
    blockMarked[local] = 1;
    blockScores[local] = blockScores[local]! + factor * (d + (k + 1) * normalised);
  }
  touchedCount = touched;
  return i;
}

/** Moves the block's passages scoring at least `floor` into `pending`, leaves the block clean, and returns how many. */
function takeBlock(floor: number, pending: Pending): number {
  let taken = 0;
  for (let t = 0; t < touchedCount; t += 1) {
    const local = blockTouched[t]!;
    const score = blockScores[local]!;
    blockScores[local] = 0;
    blockMarked[local] = 0;
    if (score < floor) continue;
    pending.slots[taken] = local;
    pending.scores[taken] = score;
    taken += 1;
  }
  touchedCount = 0;
  return taken;
}

/**
 * The `n` best slots by BM25 over the lists (given in the order a full pass adds them), best first, ties
 * by the lower label; `admit(slot)` says whether a passage may be returned (live, inside a filter),
 * `labelOf` turns slots into labels.
 */
export function blockedTop(
  lists: readonly ScoredList[],
  n: number,
  { k, b, d }: Bm25Constants,
  admit: (slot: number) => boolean,
  labelOf: (slot: number) => number = (slot) => slot,
): Scored[] {
  const best = new TopN(n);
  if (n <= 0 || lists.length === 0) return best.result;
  // Per list: the run it is in and the entry it is at.
  const run = new Int32Array(lists.length);
  const at = Int32Array.from(lists, (list) => list.runs[0]?.from ?? 0);
  // Runs may be empty: start each list at its first posting.
  lists.forEach(({ runs }, j) => {
    while (run[j]! < runs.length && at[j]! >= runs[run[j]!]!.to) at[j] = runs[++run[j]!]?.from ?? 0;
  });
  const pending = sparePending ?? { slots: new Int32Array(BLOCK_SIZE), scores: new Float64Array(BLOCK_SIZE) };
  sparePending = undefined;
  for (;;) {
    // The block of the lowest label not yet scored (blocks no list reaches are passed over).
    let lowest = Infinity;
    for (let j = 0; j < lists.length; j += 1) {
      const { runs } = lists[j]!;
      if (run[j]! < runs.length) lowest = Math.min(lowest, runs[run[j]!]!.labels[at[j]!]!);
    }
    if (lowest === Infinity) break;
    const base = lowest - (lowest % BLOCK_SIZE);
    for (let j = 0; j < lists.length; j += 1) {
      const { runs, factor, averageLength, lengths } = lists[j]!;
      let r = run[j]!;
      let i = at[j]!;
      for (; r < runs.length; r += 1, i = runs[r]?.from ?? 0) {
        const { labels, counts, to } = runs[r]!;
        i = scoreRun(labels, counts, i, to, base, lengths, factor, averageLength, k, b, d);
        if (i < to) break;
      }
      run[j] = r;
      at[j] = i;
    }
    let floor = best.floor;
    const taken = takeBlock(floor, pending);
    for (let t = 0; t < taken; t += 1) {
      const score = pending.scores[t]!;
      const slot = base + pending.slots[t]!;
      if (score < floor || !admit(slot)) continue;
      best.offer(labelOf(slot), score);
      floor = best.floor;
    }
  }
  sparePending = pending;
  return best.result;
}

/**
 * Scores lists in another thread. `begin` hands it the lists (every passage in them checked against
 * `alive`, none against a filter) and returns how to collect their best `n` slots: a call that waits for
 * them, and gives undefined if the thread failed. `begin` itself gives undefined when it cannot take the
 * job (not started yet, or arrays it cannot reach).
 */
export interface BlockHelper {
  /** Questions with fewer postings are scored in one thread. */
  readonly minPostings: number;
  /**
   * The share of the postings the searching thread keeps when it has other work to do meanwhile (the
   * helper takes the rest); 0.5 without.
   */
  readonly ownShareWithWork: number;
  begin(lists: readonly ScoredList[], n: number, constants: Bm25Constants, alive: Uint8Array): (() => Scored[] | undefined) | undefined;
}

/** The first entry from `from` to `to` of ascending `labels` whose label is at least `label`. */
function lowerBound(labels: Int32Array, from: number, to: number, label: number): number {
  let low = from;
  let high = to;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (labels[middle]! < label) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The lists cut at `label`: the postings below it, and those at or above it. */
export function splitLists(lists: readonly ScoredList[], label: number): [ScoredList[], ScoredList[]] {
  const below: ScoredList[] = [];
  const above: ScoredList[] = [];
  for (const list of lists) {
    const low: PostingRunView[] = [];
    const high: PostingRunView[] = [];
    for (const run of list.runs) {
      const cut = lowerBound(run.labels, run.from, run.to, label);
      if (cut > run.from) low.push({ ...run, to: cut });
      if (cut < run.to) high.push({ ...run, from: cut });
    }
    below.push({ ...list, runs: low });
    above.push({ ...list, runs: high });
  }
  return [below, above];
}

/**
 * `blockedTop` with the labels split in two at the middle posting of the longest list, the upper part
 * scored by `helper` in another thread while this one calls `meanwhile` and scores the lower (with
 * `meanwhile`, the cut is lower: see `ownShareWithWork`); undefined when the question is too small to be
 * worth it or the helper cannot take it (then call `blockedTop`, and `meanwhile` yourself).
 *
 * The same result as `blockedTop`, bit for bit: each passage's postings all fall on one side, so its score
 * is summed in one thread in the same order; each side returns its best `n` in the same order (which needs
 * `labelOf` to keep the order of slots), and the best `n` of all are among them. `admit` must accept every
 * live passage: the helper checks `alive` only.
 */
export function splitTop(
  lists: readonly ScoredList[],
  n: number,
  constants: Bm25Constants,
  alive: Uint8Array,
  helper: BlockHelper,
  admit: (slot: number) => boolean,
  labelOf: (slot: number) => number = (slot) => slot,
  meanwhile?: () => void,
): Scored[] | undefined {
  let postings = 0;
  let longest: PostingRunView[] = [];
  let longestPostings = 0;
  for (const { runs } of lists) {
    const size = runs.reduce((sum, run) => sum + (run.to - run.from), 0);
    postings += size;
    if (size > longestPostings) [longest, longestPostings] = [runs as PostingRunView[], size];
  }
  if (n <= 0 || postings === 0 || postings < helper.minPostings) return undefined;
  const share = meanwhile ? helper.ownShareWithWork : 0.5;
  let middle = Math.min(longestPostings - 1, Math.max(0, Math.floor(longestPostings * share)));
  const run = longest.find((candidate) => (middle -= candidate.to - candidate.from) < 0)!;
  const label = run.labels[run.to + middle]!;
  const [below, above] = splitLists(lists, label);
  const collect = helper.begin(above, n, constants, alive);
  if (!collect) return undefined;
  meanwhile?.();
  const lower = blockedTop(below, n, constants, admit, labelOf);
  const upper =
    collect()?.map(({ label: slot, score }) => ({ label: labelOf(slot), score })) ?? blockedTop(above, n, constants, admit, labelOf);
  const best = new TopN(n);
  for (const { label: top, score } of [...lower, ...upper]) best.offer(top, score);
  return best.result;
}
