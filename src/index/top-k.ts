/** Bounded best-n selection, shared by the lexical and the exact dense search. */

/**
 * The `n` best of `labels` by `score`, best first, ties by the lower label: an insertion into a short
 * sorted list, not a full sort (n is small, the candidates many).
 */
export function selectTop(labels: Iterable<number>, score: (label: number) => number, n: number): Array<{ label: number; score: number }> {
  const best: Array<{ label: number; score: number }> = [];
  if (n <= 0) return best;
  for (const label of labels) {
    const value = score(label);
    const last = best[best.length - 1];
    if (best.length === n && last && !(value > last.score || (value === last.score && label < last.label))) continue;
    let at = best.length === n ? n - 1 : best.length;
    if (best.length < n) best.push({ label, score: value });
    while (at > 0) {
      const above = best[at - 1]!;
      if (!(value > above.score || (value === above.score && label < above.label))) break;
      best[at] = above;
      at -= 1;
    }
    best[at] = { label, score: value };
  }
  return best;
}
