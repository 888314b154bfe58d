/** An index built in memory, for labelled data sets and tests: same passages and indexes as a build, nothing written. */
import type { Embedder } from '../embedding/embedder.js';
import { articlePassages, MAX_PASSAGE_CHARS, withLabel } from '../ingest/passages.js';
import { byFile } from '../ingest/source.js';
import type { IndexContents } from '../storage/store.js';
import type { Article, ArticleRecord, IndexedPassage, WordVectorTable } from '../model.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalOptions } from './bm25.js';
import { articleRecord } from './changes.js';
import { DEFAULT_HNSW, VectorIndex, type HnswParameters } from './hnsw.js';
import { embedAndIndex } from './stage.js';

export interface MemoryIndex {
  articles: Map<string, ArticleRecord>;
  passages: Map<number, IndexedPassage>;
  lexical: LexicalIndex;
  vectors: VectorIndex | null;
  /** Word vectors for soft term matching, when the caller has them. */
  wordVectors?: WordVectorTable | null;
}

export async function buildMemoryIndex(
  articles: Article[],
  embedder: Embedder | null,
  options: { hnsw?: HnswParameters; lexical?: LexicalOptions; onEmbedProgress?: (done: number, total: number) => void } = {},
): Promise<MemoryIndex> {
  const records = new Map<string, ArticleRecord>();
  const passages: IndexedPassage[] = [];
  for (const article of articles) {
    records.set(article.file, articleRecord(article));
    for (const passage of articlePassages(article)) passages.push(withLabel(passage, passages.length));
  }
  const lexical = LexicalIndex.create(options.lexical ?? DEFAULT_LEXICAL_OPTIONS);
  const { vectors } = await embedAndIndex(passages, [], {
    embedder,
    vectors: embedder ? VectorIndex.create(embedder.fingerprint.dimension, passages.length, options.hnsw ?? DEFAULT_HNSW) : null,
    lexical,
    titleOf: (passage) => records.get(passage.file)?.title ?? '',
    onEmbedProgress: options.onEmbedProgress,
  });
  return { articles: records, passages: new Map(passages.map((passage) => [passage.label, passage])), lexical, vectors };
}

/** What a build would hand a store for an index built in memory (to write it into a database, say). */
export function memoryIndexContents(
  index: MemoryIndex,
  embedder: Embedder | null,
  options: { hnsw?: HnswParameters; lexical?: LexicalOptions } = {},
): IndexContents {
  const passages = [...index.passages.values()].sort((a, b) => a.label - b.label);
  return {
    mode: embedder && index.vectors ? 'hybrid' : 'lexical',
    embedding: embedder && index.vectors ? embedder.fingerprint : null,
    articles: [...index.articles.values()].sort(byFile),
    passages,
    lexical: index.lexical,
    vectors: embedder ? index.vectors : null,
    hnsw: options.hnsw ?? DEFAULT_HNSW,
    lexicalOptions: options.lexical ?? DEFAULT_LEXICAL_OPTIONS,
    maxPassageChars: MAX_PASSAGE_CHARS,
    nextLabel: (passages.at(-1)?.label ?? -1) + 1,
  };
}
