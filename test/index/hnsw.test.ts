import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/synthetic.js';
import { DEFAULT_HNSW, VectorIndex } from '../../src/index/hnsw.js';

const DIMENSION = 16;
const PARAMETERS = { m: 8, efConstruction: 64, efSearch: 64 };

// A seeded generator, so a failure reproduces.
const prng = seededRandom;

function unitVectors(count: number, seed: number, dimension = DIMENSION): Float32Array[] {
  const random = prng(seed);
  return Array.from({ length: count }, () => {
    const values = Array.from({ length: dimension }, () => random() * 2 - 1);
    const norm = Math.hypot(...values);
    return Float32Array.from(values, (value) => value / norm);
  });
}

function dot(a: Float32Array, b: Float32Array): number {
  return a.reduce((sum, value, i) => sum + value * b[i]!, 0);
}

function filled(vectors: Float32Array[], capacity = vectors.length): VectorIndex {
  const index = VectorIndex.create(DIMENSION, capacity, PARAMETERS);
  vectors.forEach((vector, label) => index.add(label, vector));
  return index;
}

const labelsOf = (neighbours: Array<{ label: number }>) => neighbours.map((neighbour) => neighbour.label);

const VECTORS = unitVectors(40, 1);
const QUERIES = unitVectors(10, 2);

describe('VectorIndex search', () => {
  it('finds the same neighbours as brute force on a small set, with cosine similarities', () => {
    const index = filled(VECTORS);
    for (const query of QUERIES) {
      const approximate = index.search(query, 5);
      const exact = index.searchExact(query, 5);
      expect(labelsOf(approximate)).toEqual(labelsOf(exact));
      for (const { label, similarity } of [...approximate, ...exact]) expect(similarity).toBeCloseTo(dot(VECTORS[label]!, query), 5);
      const similarities = exact.map((neighbour) => neighbour.similarity);
      expect(similarities).toEqual([...similarities].sort((a, b) => b - a));
    }
  });

  it('gives the exact dot product through similarity(), and 0 without a vector', () => {
    const index = filled(VECTORS);
    expect(index.similarity(7, QUERIES[0]!)).toBeCloseTo(dot(VECTORS[7]!, QUERIES[0]!), 6);
    expect(index.similarity(7, VECTORS[7]!)).toBeCloseTo(1, 6);
    expect(index.similarity(500, QUERIES[0]!)).toBe(0);
    expect(index.vector(7)).toEqual(VECTORS[7]);
  });

  it('returns at most the number of vectors, and nothing from an empty index', () => {
    expect(VectorIndex.create(DIMENSION, 4).search(QUERIES[0]!, 5)).toEqual([]);
    const index = filled(VECTORS.slice(0, 3));
    expect(index.search(QUERIES[0]!, 10)).toHaveLength(3);
    expect(index.searchExact(QUERIES[0]!, 10)).toHaveLength(3);
  });
});

describe('VectorIndex contents', () => {
  it('takes a removed label out of search, exact search, labels and vector()', () => {
    const index = filled(VECTORS);
    index.remove(12);
    index.remove(12);
    index.remove(999);
    expect(index.size).toBe(39);
    expect(index.vector(12)).toBeUndefined();
    expect(index.similarity(12, VECTORS[12]!)).toBe(0);
    expect(index.labels).not.toContain(12);
    expect(labelsOf(index.search(VECTORS[12]!, 39))).not.toContain(12);
    expect(labelsOf(index.searchExact(VECTORS[12]!, 39))).not.toContain(12);
    expect(labelsOf(index.search(VECTORS[12]!, 39)).sort((a, b) => a - b)).toEqual(index.labels);
  });

  it('takes a removed label back with its new vector', () => {
    const index = filled(VECTORS);
    index.remove(3);
    index.add(3, QUERIES[0]!);
    expect(index.size).toBe(40);
    expect(index.search(QUERIES[0]!, 1)).toEqual([{ label: 3, similarity: expect.closeTo(1, 5) }]);
    expect(labelsOf(index.search(QUERIES[0]!, 40)).filter((label) => label === 3)).toHaveLength(1);
  });

  // hnswlib's addPoint with replaceDeleted would put a live label into a free slot and leave the old point.
  it('replaces a live label in place even after some other label was removed', () => {
    const index = filled(VECTORS);
    index.remove(20);
    index.add(3, QUERIES[0]!);
    expect(labelsOf(index.search(VECTORS[3]!, 39)).filter((label) => label === 3)).toHaveLength(1);
  });

  it('keeps a zero vector out of the index', () => {
    const index = filled(VECTORS.slice(0, 5));
    index.add(5, new Float32Array(DIMENSION));
    expect(index.size).toBe(5);
    expect(index.vector(5)).toBeUndefined();
    expect(index.labels).toEqual([0, 1, 2, 3, 4]);
    expect(labelsOf(index.search(QUERIES[0]!, 10))).not.toContain(5);
  });

  it('refuses a vector of the wrong dimension', () => {
    const index = filled(VECTORS.slice(0, 2));
    expect(() => index.add(2, new Float32Array(DIMENSION + 1).fill(0.1))).toThrow(/dimensions/);
    expect(index.size).toBe(2);
  });

  it('grows past its initial capacity and keeps the vectors it had', () => {
    const index = VectorIndex.create(DIMENSION, 4, PARAMETERS);
    VECTORS.forEach((vector, label) => index.add(label, vector));
    const far = unitVectors(1, 3)[0]!;
    index.add(500, far);
    expect(index.size).toBe(41);
    expect(index.rows()).toHaveLength(501 * DIMENSION);
    for (const label of [0, 15, 16, 39]) expect(index.vector(label)).toEqual(VECTORS[label]);
    expect(index.search(far, 1)[0]!.label).toBe(500);
    expect(labelsOf(index.search(QUERIES[1]!, 5))).toEqual(labelsOf(index.searchExact(QUERIES[1]!, 5)));
  });

  it('lists labels in ascending order whatever the insertion order', () => {
    const index = VectorIndex.create(DIMENSION, 16, PARAMETERS);
    for (const label of [9, 2, 30, 0, 17]) index.add(label, VECTORS[label]!);
    expect(index.labels).toEqual([0, 2, 9, 17, 30]);
  });

  it('returns rows up to the highest label, zero for the gaps and removed labels', () => {
    const index = VectorIndex.create(DIMENSION, 16, PARAMETERS);
    for (const label of [0, 2, 3]) index.add(label, VECTORS[label]!);
    index.remove(2);
    const rows = index.rows();
    expect(rows).toHaveLength(4 * DIMENSION);
    expect(rows.subarray(DIMENSION, 3 * DIMENSION).every((value) => value === 0)).toBe(true);
    expect(rows.subarray(3 * DIMENSION)).toEqual(VECTORS[3]);
    expect(VectorIndex.create(DIMENSION, 16).rows()).toHaveLength(0);
  });
});

describe('VectorIndex save and load', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'citebot-hnsw-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function roundTrip(index: VectorIndex): VectorIndex {
    const file = path.join(dir, 'graph.bin');
    index.writeGraph(file);
    // A copy, as from disk: the loaded index must not depend on the original's memory.
    return VectorIndex.load(file, index.rows().slice(), index.labels, DIMENSION, PARAMETERS);
  }

  it('restores the same search results, vectors and labels', () => {
    const index = filled(VECTORS);
    index.remove(8);
    const loaded = roundTrip(index);
    expect(loaded.size).toBe(39);
    expect(loaded.labels).toEqual(index.labels);
    expect(loaded.dimension).toBe(DIMENSION);
    expect(loaded.parameters).toEqual(PARAMETERS);
    expect(loaded.vector(8)).toBeUndefined();
    for (const query of [...QUERIES, VECTORS[8]!]) {
      expect(loaded.search(query, 5)).toEqual(index.search(query, 5));
      expect(loaded.searchExact(query, 5)).toEqual(index.searchExact(query, 5));
    }
    expect(labelsOf(loaded.search(VECTORS[8]!, 39))).not.toContain(8);
  });

  it('keeps taking additions and removals after loading', () => {
    const loaded = roundTrip(filled(VECTORS.slice(0, 20)));
    VECTORS.slice(20).forEach((vector, i) => loaded.add(20 + i, vector));
    loaded.remove(0);
    expect(loaded.size).toBe(39);
    expect(loaded.vector(39)).toEqual(VECTORS[39]);
    for (const query of QUERIES) expect(labelsOf(loaded.search(query, 5))).toEqual(labelsOf(loaded.searchExact(query, 5)));
    expect(labelsOf(loaded.search(VECTORS[0]!, 39))).not.toContain(0);
  });

  it('round-trips an index built with the default parameters', () => {
    const index = VectorIndex.create(DIMENSION, 4);
    expect(index.parameters).toBe(DEFAULT_HNSW);
    VECTORS.forEach((vector, label) => index.add(label, vector));
    const file = path.join(dir, 'default.bin');
    index.writeGraph(file);
    const loaded = VectorIndex.load(file, index.rows().slice(), index.labels, DIMENSION, DEFAULT_HNSW);
    for (const query of QUERIES) expect(loaded.search(query, 5)).toEqual(index.search(query, 5));
  });
});
