/**
 * Dense side of the index: an HNSW graph (hnswlib, cosine) for fast approximate neighbours, plus the
 * vectors themselves, kept so candidates from the lexical side get an exact similarity and so an update
 * can re-insert what did not change without embedding it again.
 */
import hnswlib from 'hnswlib-node';
import { TopN } from './top-k.js';

export interface HnswParameters {
  m: number;
  efConstruction: number;
  efSearch: number;
}

/**
 * From grids at 100k passages (squad questions, recall@10 against exact search): efConstruction 64
 * inserts about 25 % faster than 100 (14.6 s vs 19.6 s) at the same recall once searched with a larger ef.
 * M 12 or 10 lose recall without building faster. At a million passages (500 squad questions, a
 * neighbour as near as the 10th exact one counting as found) ef 200 finds 0.981, 300 0.986, 400 0.990
 * and 800 0.993; a search for 50 neighbours takes 0.12, 0.19, 0.24 and 0.57 ms (p50). efSearch is a
 * setting of each search, not of the graph: indexes built before are searched with it too.
 */
export const DEFAULT_HNSW: HnswParameters = { m: 16, efConstruction: 64, efSearch: 400 };

export interface Neighbour {
  label: number;
  similarity: number;
}

export class VectorIndex {
  private constructor(
    readonly dimension: number,
    private graph: hnswlib.HierarchicalNSW,
    /** Row `label` holds that passage's vector; rows of removed or vector-less passages are zero. */
    private vectors: Float32Array,
    private readonly present: Set<number>,
    readonly parameters: HnswParameters,
  ) {}

  static create(dimension: number, capacity: number, parameters: HnswParameters = DEFAULT_HNSW): VectorIndex {
    const graph = new hnswlib.HierarchicalNSW('cosine', dimension);
    graph.initIndex({
      maxElements: Math.max(16, capacity),
      m: parameters.m,
      efConstruction: parameters.efConstruction,
      randomSeed: 100,
      allowReplaceDeleted: true,
    });
    graph.setEf(parameters.efSearch);
    return new VectorIndex(dimension, graph, new Float32Array(Math.max(16, capacity) * dimension), new Set(), parameters);
  }

  /** Restores an index from the graph file and the raw vectors written by `save`. */
  static load(graphFile: string, vectors: Float32Array, labels: number[], dimension: number, parameters: HnswParameters): VectorIndex {
    const graph = new hnswlib.HierarchicalNSW('cosine', dimension);
    graph.readIndexSync(graphFile, true);
    graph.setEf(parameters.efSearch);
    return new VectorIndex(dimension, graph, vectors, new Set(labels), parameters);
  }

  /** Candidates a search keeps (hnswlib's ef): recall against time, for measuring (the index is loaded with DEFAULT_HNSW's). */
  setEf(ef: number): void {
    this.graph.setEf(ef);
  }

  get size(): number {
    return this.present.size;
  }

  get labels(): number[] {
    return [...this.present].sort((a, b) => a - b);
  }

  /** Raw vector rows up to the highest label, for saving. */
  rows(): Float32Array {
    let highest = -1;
    for (const label of this.present) highest = Math.max(highest, label);
    return this.vectors.subarray(0, (highest + 1) * this.dimension);
  }

  add(label: number, vector: Float32Array): void {
    if (vector.length !== this.dimension) throw new Error(`vector has ${vector.length} dimensions, index has ${this.dimension}`);
    // A zero vector (a text with no word the model knows) has no direction; it stays out of the graph.
    if (vector.every((value) => value === 0)) return;
    this.ensureCapacity(label + 1);
    this.vectors.set(vector, label * this.dimension);
    // hnswlib-node takes plain arrays only. A live label is updated in place: with replaceDeleted, hnswlib
    // would move it into a free slot and leave the old point searchable.
    this.graph.addPoint(Array.from(vector), label, !this.present.has(label));
    this.present.add(label);
  }

  remove(label: number): void {
    if (!this.present.delete(label)) return;
    this.graph.markDelete(label);
    this.vectors.fill(0, label * this.dimension, (label + 1) * this.dimension);
  }

  vector(label: number): Float32Array | undefined {
    return this.present.has(label) ? this.vectors.subarray(label * this.dimension, (label + 1) * this.dimension) : undefined;
  }

  /** Exact cosine similarity (vectors are unit length); 0 for a passage without a vector. */
  similarity(label: number, query: Float32Array): number {
    if (!this.present.has(label)) return 0;
    const rows = this.vectors;
    const offset = label * this.dimension;
    let dot = 0;
    for (let i = 0; i < this.dimension; i += 1) dot += rows[offset + i]! * query[i]!;
    return dot;
  }

  /** Approximate nearest neighbours by cosine similarity, best first. */
  /** The k nearest passages; with `accept`, the k nearest of those it accepts (filtered inside the graph walk). */
  search(query: Float32Array, k: number, accept?: (label: number) => boolean): Neighbour[] {
    const count = Math.min(k, this.present.size);
    if (count === 0) return [];
    const { neighbors, distances } = accept
      ? this.graph.searchKnn(Array.from(query), count, accept)
      : this.graph.searchKnn(Array.from(query), count);
    return neighbors.map((label, i) => ({ label, similarity: 1 - (distances[i] ?? 1) }));
  }

  /** Exact nearest neighbours by brute force over the stored vectors: the yardstick for HNSW recall. */
  searchExact(query: Float32Array, k: number): Neighbour[] {
    const { dimension, vectors: rows } = this;
    const best = new TopN(k);
    const highest = rows.length / dimension;
    for (let label = 0; label < highest; label += 1) {
      const offset = label * dimension;
      let dot = 0;
      for (let i = 0; i < dimension; i += 1) dot += rows[offset + i]! * query[i]!;
      // Rows of removed or vector-less passages are zero; the set lookup is left for the few that could enter.
      if (dot === 0 || dot < best.floor || !this.present.has(label)) continue;
      best.offer(label, dot);
    }
    return best.result.map(({ label, score }) => ({ label, similarity: score }));
  }

  writeGraph(file: string): void {
    this.graph.writeIndexSync(file);
  }

  private ensureCapacity(needed: number): void {
    const capacity = this.graph.getMaxElements();
    if (needed <= capacity && needed * this.dimension <= this.vectors.length) return;
    const grown = Math.max(needed, Math.ceil(capacity * 1.5));
    if (grown > capacity) this.graph.resizeIndex(grown);
    const vectors = new Float32Array(grown * this.dimension);
    vectors.set(this.vectors.subarray(0, Math.min(this.vectors.length, vectors.length)));
    this.vectors = vectors;
  }
}
