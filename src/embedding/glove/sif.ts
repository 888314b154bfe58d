/**
 * SIF weighting (Arora, Liang and Ma, "A Simple but Tough-to-Beat Baseline for Sentence Embeddings"):
 * a word's vector is scaled by a / (a + p(w)), so frequent words count for little in a sentence's mean.
 * GloVe ships no counts, only frequency order, so p(w) is Zipf's estimate from the word's rank.
 */

/** H_n = 1 + 1/2 + … + 1/n, the normaliser of a Zipf distribution over n words. */
export function harmonicNumber(n: number): number {
  let sum = 0;
  for (let k = 1; k <= n; k += 1) sum += 1 / k;
  return sum;
}

/** Zipf's estimate of a word's probability from its 1-based frequency rank: 1 / (rank * H). */
export function zipfProbability(rank: number, harmonic: number): number {
  return 1 / (rank * harmonic);
}

/** The SIF weight a / (a + p). */
export function sifWeight(probability: number, a: number): number {
  return a / (a + probability);
}

/**
 * The weighted table, row-major float32: row i is vector(i) * weight(i), both rounded to float32 before
 * the product (as the reference build does it, in numpy float32). A row whose weight is 0 stays zero.
 */
export function weightedRows(
  rows: number,
  dimension: number,
  vector: (row: number) => ArrayLike<number>,
  weight: (row: number) => number,
): Float32Array {
  const table = new Float32Array(rows * dimension);
  for (let row = 0; row < rows; row += 1) {
    const w = Math.fround(weight(row));
    if (w === 0) continue;
    const values = vector(row);
    if (values.length < dimension) throw new Error(`Row ${row} has ${values.length} values, not ${dimension}.`);
    for (let j = 0; j < dimension; j += 1) table[row * dimension + j] = Math.fround(values[j]!) * w;
  }
  return table;
}
