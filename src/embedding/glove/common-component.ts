/**
 * Common-component removal, the second half of SIF: the direction u that all word vectors share most
 * (the top eigenvector of sum_w p(w) e_w e_w^T) carries frequency and syntax more than meaning, so it is
 * projected out of every row. Removing it from the table rather than from each sentence vector is the
 * same thing, as projection is linear and commutes with the pipeline's mean pooling.
 */

/** sum_i weight_i x_i x_i^T over the rows of a row-major table, in float64: [dimension * dimension]. */
export function weightedSecondMoment(table: Float32Array, dimension: number, weights: ArrayLike<number>): Float64Array {
  const rows = table.length / dimension;
  const moment = new Float64Array(dimension * dimension);
  const x = new Float64Array(dimension);
  for (let row = 0; row < rows; row += 1) {
    const w = weights[row] ?? 0;
    if (w === 0) continue;
    for (let j = 0; j < dimension; j += 1) x[j] = table[row * dimension + j]!;
    for (let j = 0; j < dimension; j += 1) {
      const wx = w * x[j]!;
      if (wx === 0) continue;
      const line = j * dimension;
      for (let k = j; k < dimension; k += 1) moment[line + k]! += wx * x[k]!;
    }
  }
  for (let j = 0; j < dimension; j += 1) {
    for (let k = 0; k < j; k += 1) moment[j * dimension + k] = moment[k * dimension + j]!;
  }
  return moment;
}

/**
 * The unit eigenvector of the largest eigenvalue of a symmetric positive semi-definite matrix, by power
 * iteration, with its largest component positive (the sign is arbitrary; this makes it reproducible).
 * Throws when it does not converge, which happens when the top two eigenvalues (nearly) tie.
 */
export function topEigenvector(
  matrix: Float64Array,
  dimension: number,
  options: { tolerance?: number; maxIterations?: number } = {},
): Float64Array {
  const tolerance = options.tolerance ?? 1e-15;
  const maxIterations = options.maxIterations ?? 10_000;
  let vector = new Float64Array(dimension).fill(1 / Math.sqrt(dimension));
  for (let iteration = 0; iteration < maxIterations; iteration += 1) {
    const next = new Float64Array(dimension);
    for (let j = 0; j < dimension; j += 1) {
      let sum = 0;
      for (let k = 0; k < dimension; k += 1) sum += matrix[j * dimension + k]! * vector[k]!;
      next[j] = sum;
    }
    const norm = Math.hypot(...next);
    if (!(norm > 0) || !Number.isFinite(norm)) throw new Error('The matrix has no positive eigenvalue.');
    let change = 0;
    for (let j = 0; j < dimension; j += 1) {
      next[j]! /= norm;
      change = Math.max(change, Math.abs(next[j]! - vector[j]!));
    }
    vector = next;
    if (change <= tolerance) return withPositiveLead(vector);
  }
  throw new Error(`Power iteration did not converge in ${maxIterations} iterations: the top eigenvalues are too close.`);
}

function withPositiveLead(vector: Float64Array): Float64Array {
  let lead = 0;
  for (let j = 1; j < vector.length; j += 1) if (Math.abs(vector[j]!) > Math.abs(vector[lead]!)) lead = j;
  if (vector[lead]! < 0) for (let j = 0; j < vector.length; j += 1) vector[j] = -vector[j]!;
  return vector;
}

/**
 * Projects u out of every row, in place: x - (x · u) u. In float32, with the dot product summed left to
 * right, which is how the reference build computed it (a float32 column loop in numpy); any other order
 * or precision moves a few scales by an ulp.
 */
export function removeComponent(table: Float32Array, dimension: number, u: ArrayLike<number>): void {
  const u32 = Float32Array.from(u);
  const rows = table.length / dimension;
  for (let row = 0; row < rows; row += 1) {
    const offset = row * dimension;
    let dot = 0;
    for (let j = 0; j < dimension; j += 1) dot = Math.fround(dot + Math.fround(table[offset + j]! * u32[j]!));
    for (let j = 0; j < dimension; j += 1) table[offset + j] = table[offset + j]! - Math.fround(dot * u32[j]!);
  }
}
