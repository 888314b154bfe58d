/**
 * The storage seam: where an index lives between runs. Builds and updates write through it, every entry
 * point loads through it. `localStore` (./local-store.ts) keeps it in a folder; another store (a database)
 * is a second implementation of this interface, not an edit everywhere.
 */
import type { EmbedderFingerprint } from '../embedding/embedder.js';
import type { LexicalIndex, LexicalOptions } from '../index/bm25.js';
import type { HnswParameters, VectorIndex } from '../index/hnsw.js';
import type { ArticleRecord, IndexedPassage, RetrievalMode } from '../model.js';
import type { IndexDelta } from './codec.js';
import type { WordVectorTable } from '../model.js';
import type { LockOptions } from './lock.js';
import type { Manifest } from './manifest.js';

/** An index as loaded: what search needs, and the manifest it was built under. */
export interface LoadedIndex {
  manifest: Manifest;
  articles: Map<string, ArticleRecord>;
  /** Passages by label. */
  passages: Map<number, IndexedPassage>;
  lexical: LexicalIndex;
  vectors: VectorIndex | null;
  /** Word vectors for soft term matching, attached after loading (they come with the model, not the index). */
  wordVectors?: WordVectorTable | null;
}

/** Everything a full build writes. */
export interface IndexContents {
  mode: RetrievalMode;
  modeReason?: string;
  embedding: EmbedderFingerprint | null;
  articles: ArticleRecord[];
  passages: IndexedPassage[];
  lexical: LexicalIndex;
  vectors: VectorIndex | null;
  hnsw: HnswParameters;
  lexicalOptions: LexicalOptions;
  maxPassageChars: number;
  nextLabel: number;
}

/** What a small update writes over the current generation. */
export interface DeltaUpdate {
  delta: IndexDelta;
  /** The manifest's article list after the update. */
  sources: Manifest['sources'];
  passageCount: number;
  nextLabel: number;
}

export interface Store {
  /** Where the index lives, for messages (a folder, a database). */
  readonly location: string;
  /** The current manifest; IndexMissing when there is no index, IndexCorrupt when it cannot be read. */
  readManifest(): Promise<Manifest>;
  /** The whole index, verified, with its delta applied. */
  load(): Promise<LoadedIndex>;
  /** The delta of `manifest`, verified; empty when it has none. */
  readDelta(manifest: Manifest): Promise<IndexDelta>;
  /** The cheap check an update makes before writing a delta: the generation's data are all there. */
  checkFiles(manifest: Manifest): Promise<void>;
  /** Writes a new generation and switches to it; returns the new manifest. */
  saveGeneration(contents: IndexContents): Promise<Manifest>;
  /**
   * Writes a delta over `previous`'s generation and switches to it. The delta replaces any previous one,
   * so it holds every change since the generation.
   */
  saveDelta(previous: Manifest, update: DeltaUpdate): Promise<Manifest>;
  /** Takes the build lock; resolves to its release. IndexLocked when another build holds it. */
  lock(options: LockOptions): Promise<() => Promise<void>>;
  /** Bytes the current index takes. */
  size(): Promise<number>;
}
