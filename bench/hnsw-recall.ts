/** HNSW recall as the benchmarks count it: shared by bench.ts and bench/recall.ts. */
import type { Neighbour, VectorIndex } from '../src/index/hnsw.js';

/**
 * The graph's 10 nearest for one query against the exact 10 (`exact`, from `searchExact`): a returned
 * neighbour counts as found when it is as near as the 10th exact one (of two identical vectors either one
 * is right), and by label when it is one of the exact 10 itself.
 */
export function recallAt10(
  vectors: VectorIndex,
  query: Float32Array,
  exact: Neighbour[],
): { found: number; foundLabels: number; possible: number } {
  const approximate = vectors.search(query, 10).map((neighbour) => neighbour.label);
  const exactLabels = new Set(exact.map((neighbour) => neighbour.label));
  // Similarities recomputed as the exact search computes them, so that ties compare equal.
  const tenth = exact.at(-1)?.similarity ?? Infinity;
  return {
    found: approximate.filter((label) => vectors.similarity(label, query) >= tenth).length,
    foundLabels: approximate.filter((label) => exactLabels.has(label)).length,
    possible: exact.length,
  };
}
