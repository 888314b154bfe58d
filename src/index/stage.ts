/**
 * Embedding new passages and putting them into both indexes, with both cores busy: this thread indexes
 * lexically while a worker embeds (see EmbedSchedule), then inserts the chunks into HNSW in label order,
 * embedding chunks itself whenever it would otherwise wait.
 */
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../embedding/embedder.js';
import { EMBED_CHUNK, EmbedSchedule } from '../embedding/schedule.js';
import type { IndexedPassage } from '../model.js';
import { lexicalDocument, type LexicalIndex } from './bm25.js';
import type { VectorIndex } from './hnsw.js';

/** Builds with fewer new passages embed on this thread only: a worker's start-up would cost more. */
const SHARED_EMBEDDING_MIN_PASSAGES = 2000;

export interface StageOptions {
  /** Embedding already under way: the first chunks of `added`, handed over while the seeds were read. */
  schedule?: EmbedSchedule;
  embedder: Embedder | null;
  vectors: VectorIndex | null;
  lexical: LexicalIndex;
  /** Headline of a new passage's article (the lexical index's second field). */
  titleOf: (passage: IndexedPassage) => string;
  onEmbedProgress?: (done: number, total: number) => void;
}

/**
 * Embeds new passages and inserts them into both indexes. This thread indexes lexically while the worker
 * embeds (see EmbedSchedule), then inserts the chunks into HNSW in label order, embedding chunks itself
 * whenever it would otherwise wait. Both cores stay busy until the last chunk is in.
 */
export async function embedAndIndex(
  added: IndexedPassage[],
  dropped: IndexedPassage[],
  stage: StageOptions,
): Promise<{ vectors: VectorIndex | null; timingsMs: { embedMs: number; vectorsMs: number; lexicalMs: number } }> {
  const { embedder, vectors, lexical } = stage;
  let schedule: EmbedSchedule | undefined;
  if (embedder && vectors) {
    schedule = stage.schedule ?? EmbedSchedule.for(embedder, added.length >= SHARED_EMBEDDING_MIN_PASSAGES, stage.onEmbedProgress);
    for (let offset = schedule.chunkCount * EMBED_CHUNK; offset < added.length; offset += EMBED_CHUNK) {
      schedule.push(added.slice(offset, offset + EMBED_CHUNK).map((passage) => passage.text));
    }
    schedule.close();
  }

  const removeStarted = performance.now();
  lexical.remove(dropped.map((passage) => passage.label));
  let lexicalMs = performance.now() - removeStarted;
  for (let offset = 0; offset < added.length; offset += EMBED_CHUNK) {
    const sliceStarted = performance.now();
    lexical.add(added.slice(offset, offset + EMBED_CHUNK).map((passage) => lexicalDocument(passage, stage.titleOf(passage))));
    lexicalMs += performance.now() - sliceStarted;
    // Let the worker's finished chunks in and hand it the next ones: one long synchronous run here left
    // it idle for a third of a large build.
    await new Promise((resolve) => setImmediate(resolve));
  }

  let vectorsMs = 0;
  if (schedule && vectors) {
    for (const passage of dropped) vectors.remove(passage.label);
    for (let i = 0; i < schedule.chunkCount; i += 1) {
      // Rather than wait for chunk i, embed here the ones nobody has taken (from the end); their vectors
      // wait for their turn. Chunks go into the graph in label order whichever thread embedded them, so
      // the same passages always build the same graph (and the same recall).
      while (!schedule.isReady(i)) if ((await schedule.embedOneHere()) === undefined) break;
      const chunkVectors = await schedule.vectorsOf(i);
      const insertStarted = performance.now();
      added.slice(i * EMBED_CHUNK, (i + 1) * EMBED_CHUNK).forEach((passage, j) => vectors.add(passage.label, chunkVectors[j]!));
      schedule.release(i);
      vectorsMs += performance.now() - insertStarted;
    }
  }
  // The worker thread's copy of the model is not needed until the next large build: at a million
  // passages, letting it go here is what keeps the build's peak (at saving) under 4 GB.
  if (schedule?.sharedElsewhere) await embedder?.releaseElsewhere?.();
  return { vectors, timingsMs: { embedMs: schedule?.elapsedMs ?? 0, vectorsMs, lexicalMs } };
}
