/**
 * What a user would pick instead of citebot, run by the retrieval check over the same passages and the
 * same vectors: MiniSearch and Orama, each as its documentation sets it up, with their defaults. Only
 * what must be chosen is chosen (the field to index; for Orama the vector property and a similarity
 * floor that does not cut candidates), so the comparison is with the libraries, not with a tuning of them.
 */
import { performance } from 'node:perf_hooks';
import MiniSearch from 'minisearch';
import { create, insertMultiple, search as oramaSearch } from '@orama/orama';
import { isZeroVector } from '../embedding/embedder.js';
import type { VectorIndex } from '../index/hnsw.js';
import type { IndexedPassage } from '../model.js';
import type { LoadedIndex } from '../storage/store.js';

/** A retriever run beside citebot: labels of the best `k` passages, best first. */
export interface PeerRetriever {
  readonly name: string;
  /**
   * True when `search` uses the query vector: the caller then passes the question's embedding (the
   * same `embed([question], 'query')` citebot's dense side uses); otherwise it may pass null.
   */
  readonly usesQueryVector: boolean;
  search(question: string, queryVector: Float32Array | null, k: number): Promise<number[]> | number[];
}

/** A peer and how long building it took, for the report. */
export interface BuiltPeer {
  peer: PeerRetriever;
  buildMs: number;
}

export interface OramaPeerOptions {
  /**
   * Lowest cosine similarity the vector side keeps. Orama's default, 0.8, drops most passages for
   * sentence embeddings, leaving hybrid search all but lexical; 0 keeps every passage that points the
   * question's way.
   */
  similarity?: number;
  /** Documents per `insertMultiple` batch (Orama's default is 1,000). */
  batchSize?: number;
}

/** MiniSearch over passage text as it ships: BM25 (k 1.2, b 0.7, d 0.5), terms combined with OR, no prefix, fuzzy or stemming. */
export function minisearchPeer(passages: Iterable<IndexedPassage>): PeerRetriever {
  const index = new MiniSearch<{ id: number; text: string }>({ fields: ['text'] });
  index.addAll([...passages].map((passage) => ({ id: passage.label, text: passage.text })));
  return {
    name: 'MiniSearch (BM25)',
    usesQueryVector: false,
    search(question, _queryVector, k) {
      if (k <= 0) return [];
      return index
        .search(question)
        .slice(0, k)
        .map((result) => result.id as number);
    },
  };
}

/**
 * Orama over passage text and, when `vectors` is given, each passage's stored vector: hybrid search with
 * Orama's default weights (0.5 text, 0.5 vector), or full-text search without vectors. A hybrid peer
 * asked without a query vector (or with a zero one) searches the text alone.
 */
export async function oramaPeer(
  passages: Iterable<IndexedPassage>,
  vectors: VectorIndex | null,
  options: OramaPeerOptions = {},
): Promise<PeerRetriever> {
  const list = [...passages];
  const similarity = options.similarity ?? 0;
  const withVectors = vectors !== null && vectors.size > 0;
  if (!withVectors) {
    const db = create({ schema: { text: 'string' } as const });
    await insertMultiple(
      db,
      list.map((passage) => ({ id: String(passage.label), text: passage.text })),
      options.batchSize,
    );
    return {
      name: 'Orama (full text)',
      usesQueryVector: false,
      async search(question, _queryVector, k) {
        if (k <= 0 || question.trim() === '') return [];
        const results = await oramaSearch(db, { term: question, limit: k });
        return results.hits.map((hit) => Number(hit.id));
      },
    };
  }

  const dimension = vectors.dimension;
  const db = create({ schema: { text: 'string', embedding: `vector[${dimension}]` } as const });
  await insertMultiple(
    db,
    list.map((passage) => {
      const vector = vectors.vector(passage.label);
      // A passage without a vector (no word the model knows) is still found by its words.
      return vector
        ? { id: String(passage.label), text: passage.text, embedding: Array.from(vector) }
        : { id: String(passage.label), text: passage.text };
    }),
    options.batchSize,
  );
  return {
    name: 'Orama (hybrid)',
    usesQueryVector: true,
    async search(question, queryVector, k) {
      // An empty term makes Orama's text side return every document with score 0, which its
      // normalisation turns into NaN; there is nothing to ask.
      if (k <= 0 || question.trim() === '') return [];
      const results =
        queryVector && !isZeroVector(queryVector)
          ? await oramaSearch(db, {
              mode: 'hybrid',
              term: question,
              vector: { value: Array.from(queryVector), property: 'embedding' },
              similarity,
              limit: k,
            })
          : await oramaSearch(db, { term: question, limit: k });
      return results.hits.map((hit) => Number(hit.id));
    },
  };
}

/** The peers of a check run over `index`: MiniSearch, and Orama (hybrid when the index has vectors), each timed. */
export async function buildPeers(index: Pick<LoadedIndex, 'passages' | 'vectors'>, options: OramaPeerOptions = {}): Promise<BuiltPeer[]> {
  const passages = [...index.passages.values()];
  let started = performance.now();
  const minisearch = minisearchPeer(passages);
  const minisearchMs = performance.now() - started;
  started = performance.now();
  const orama = await oramaPeer(passages, index.vectors, options);
  const oramaMs = performance.now() - started;
  return [
    { peer: minisearch, buildMs: minisearchMs },
    { peer: orama, buildMs: oramaMs },
  ];
}
