/** Bounded best-n selection, shared by the lexical and the exact dense search. */

export interface Scored {
  label: number;
  score: number;
}

/**
 * The `n` best labels offered, best first, ties by the lower label: an insertion into a short sorted
 * list, not a full sort (n is small, the candidates many). `floor` lets a hot loop skip the call.
 */
export class TopN {
  readonly #best: Scored[] = [];

  constructor(private readonly n: number) {}

  /** A score below this cannot enter; -Infinity until the list is full. */
  get floor(): number {
    return this.#best.length < this.n ? -Infinity : this.#best[this.n - 1]!.score;
  }

  offer(label: number, score: number): void {
    const best = this.#best;
    const n = this.n;
    if (n <= 0) return;
    if (best.length === n && !beats(label, score, best[n - 1]!)) return;
    let at = best.length === n ? n - 1 : best.length;
    if (best.length < n) best.push({ label, score });
    while (at > 0 && beats(label, score, best[at - 1]!)) {
      best[at] = best[at - 1]!;
      at -= 1;
    }
    best[at] = { label, score };
  }

  get result(): Scored[] {
    return [...this.#best];
  }
}

/** Whether (label, score) ranks before `other`: a higher score, or the same score and a lower label. */
function beats(label: number, score: number, other: Scored): boolean {
  return score > other.score || (score === other.score && label < other.label);
}
