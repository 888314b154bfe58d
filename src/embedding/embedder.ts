/**
 * Sentence embeddings behind a small interface, so retrieval never depends on how vectors are made:
 * tests pass fixed vectors, the application passes transformers.js (./transformers.ts), and a large
 * build may embed on a second thread (./worker.ts).
 */

/** The ONNX weight variants transformers.js can load. */
export const EMBEDDING_DTYPES = ['auto', 'fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'bnb4', 'q4f16'] as const;
export type EmbeddingDtype = (typeof EMBEDDING_DTYPES)[number];

/** Settings of the embedding model; anything left undefined comes from the table of known models. */
export interface EmbeddingSettings {
  model: string;
  modelsDir: string;
  cacheDir: string;
  allowRemote: boolean;
  dtype?: EmbeddingDtype;
  pooling?: 'mean' | 'cls';
  queryPrefix?: string;
  passagePrefix?: string;
}

export type EmbedKind = 'query' | 'passage';

/** What search and builds need of an embedding model. */
export interface Embedder {
  /** Identifies the model and everything that changes its vectors; stored in the index manifest. */
  readonly fingerprint: EmbedderFingerprint;
  /** Unit-length vectors, one per text. A text with no known word gets a zero vector. */
  embed(texts: string[], kind: EmbedKind, onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
  /** A hint that a large batch is coming, so slow set-up (a worker thread) can start early. */
  prepare?(): void;
  /**
   * Embeds on another thread, leaving this one free: a large build shares its chunks between this and
   * `embed`. Same vectors either way.
   */
  embedElsewhere?(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
  /**
   * Lets the other thread go once a large batch is done (it holds a copy of the model, some 200 MB); the
   * next `prepare` or `embedElsewhere` starts a new one.
   */
  releaseElsewhere?(): Promise<void>;
}

export interface EmbedderFingerprint {
  model: string;
  dimension: number;
  pooling: 'mean' | 'cls';
  dtype: EmbeddingDtype;
  queryPrefix: string;
  passagePrefix: string;
}

/** A zero vector stands for a text with no word the model knows: it has no direction to compare. */
export function isZeroVector(vector: Float32Array): boolean {
  return vector.every((value) => value === 0);
}
