/**
 * Per-row symmetric int8: each row is stored as int8 values and one fp32 scale, value = q * scale with
 * scale = max |x| / 127, so every element is off by at most scale / 2. A zero row (the special tokens)
 * keeps scale 1. Arithmetic is float32 throughout, as in the reference build (numpy float32).
 */

export interface QuantizedTable {
  rows: number;
  dimension: number;
  /** Row-major [rows, dimension]. */
  values: Int8Array;
  /** One per row. */
  scales: Float32Array;
}

const LEVELS = 127;

/** Rounds to the nearest integer, ties to even (numpy's rint), not away from zero as Math.round does. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Quantizes a row-major float32 table, row by row. */
export function quantizeRows(table: Float32Array, dimension: number): QuantizedTable {
  if (dimension <= 0 || table.length % dimension !== 0) throw new Error(`A table of ${table.length} values has no rows of ${dimension}.`);
  const rows = table.length / dimension;
  const values = new Int8Array(table.length);
  const scales = new Float32Array(rows);
  for (let row = 0; row < rows; row += 1) {
    const offset = row * dimension;
    let max = 0;
    for (let j = 0; j < dimension; j += 1) max = Math.max(max, Math.abs(table[offset + j]!));
    if (max === 0) {
      scales[row] = 1;
      continue;
    }
    if (!Number.isFinite(max)) throw new Error(`Row ${row} of the table is not finite.`);
    const scale = Math.fround(max / LEVELS);
    scales[row] = scale;
    for (let j = 0; j < dimension; j += 1) {
      const level = roundHalfEven(Math.fround(table[offset + j]! / scale));
      values[offset + j] = Math.max(-LEVELS, Math.min(LEVELS, level));
    }
  }
  return { rows, dimension, values, scales };
}

/** One row back as float32: what the ONNX graph computes for the token. */
export function dequantizeRow(table: QuantizedTable, row: number): Float32Array {
  const out = new Float32Array(table.dimension);
  const scale = table.scales[row]!;
  for (let j = 0; j < table.dimension; j += 1) out[j] = table.values[row * table.dimension + j]! * scale;
  return out;
}
