/**
 * Search over an index kept in a store (a database) rather than in memory. Ranking needs, per question,
 * only its candidates: the best passages of each side, each measured by every signal. So a question
 * reads them, with the corpus's statistics for its words, and they become a small index of their own
 * (`LexicalIndex.partOf`, which scores with the corpus's statistics): search then ranks it with the same
 * code as a whole index in memory, and the scores are the same, bit for bit, when the store's candidates
 * are the same. Fusion, quotes and abstention run on top unchanged.
 */
import {
  analyseDocument,
  lexicalDocument,
  LexicalIndex,
  type AnalysedDocument,
  type LexicalOptions,
  type LexicalStatistics,
} from '../index/bm25.js';
import type { Neighbour } from '../index/hnsw.js';
import type { ArticleRecord, IndexedPassage, WordVectorTable } from '../model.js';
import { queryTerms } from './question-terms.js';
import type { Hit, NarrowedIndex, NarrowRequest, SearchIndex, VectorSearch } from './search.js';

/** A passage as the store returns it, with its vector (undefined when it has none). */
export interface StoredPassage {
  passage: IndexedPassage;
  vector: Float32Array | undefined;
  /** Its terms as the store analysed them when it wrote it (`analyseDocument`), if it kept them. */
  analysed?: AnalysedDocument;
}

/** What one question reads from a store, all from one consistent state of the index. */
export interface CandidateReads {
  /** The corpus's statistics for `terms` (document frequencies of both fields, passage count, length totals). */
  statistics(terms: readonly string[]): Promise<LexicalStatistics>;
  /** The n best passages by BM25 (`LexicalIndex.search(…).top(n)`), only of `files` when given. */
  lexicalTop(weighted: ReadonlyMap<string, number>, n: number, files: readonly string[] | undefined): Promise<number[]>;
  /** The n nearest passages by cosine, best first, only of `files` when given. */
  denseTop(vector: Float32Array, n: number, files: readonly string[] | undefined): Promise<Neighbour[]>;
  /** The passages with these labels (those still in the index), with their vectors. */
  passages(labels: readonly number[]): Promise<StoredPassage[]>;
}

export interface CandidateSource {
  /** Runs `work` on one consistent state of the index. */
  read<T>(work: (reads: CandidateReads) => Promise<T>): Promise<T>;
  /**
   * The passages of `passage`'s article from `before` labels before it to `after` after it. Read after
   * ranking, possibly from a later state: labels are never reused, so what comes back is that article's.
   */
  around(passages: readonly IndexedPassage[], before: number, after: number): Promise<IndexedPassage[]>;
}

/** What a store-kept index holds in memory: its articles, and what questions are read with. */
export interface StoreIndexBase {
  articles: Map<string, ArticleRecord>;
  lexicalOptions: LexicalOptions;
  wordVectors: WordVectorTable | null;
  /** Soft matching's close-word table for the corpus's vocabulary. */
  termNeighbours: SearchIndex['termNeighbours'];
  /**
   * Candidates already analysed, by label (a label always names the same passage: a changed article's
   * passages get new ones), so that a passage met again is not analysed again.
   */
  analysed?: { get(label: number): AnalysedDocument | undefined; set(label: number, analysed: AnalysedDocument): unknown };
}

/** Passages read around each shown hit: attribution looks this far back for a speaker, and one ahead. */
const CONTEXT_BEFORE = 40;
const CONTEXT_AFTER = 1;

function mergeStatistics(first: LexicalStatistics, second: LexicalStatistics): LexicalStatistics {
  return { ...second, terms: new Map([...first.terms, ...second.terms]) };
}

/** The dense side of a question's candidates: the store's nearest passages, and exact similarity from their vectors. */
class CandidateVectors implements VectorSearch {
  constructor(
    private readonly nearest: readonly Neighbour[],
    private readonly vectors: ReadonlyMap<number, Float32Array>,
  ) {}

  search(_query: Float32Array, k: number, accept?: (label: number) => boolean): Neighbour[] {
    return this.nearest.filter((neighbour) => !accept || accept(neighbour.label)).slice(0, k);
  }

  /** Summed as `VectorIndex.similarity` sums it, so the dense signal is the in-memory one. */
  similarity(label: number, query: Float32Array): number {
    const vector = this.vectors.get(label);
    if (!vector) return 0;
    let dot = 0;
    for (let i = 0; i < vector.length; i += 1) dot += vector[i]! * query[i]!;
    return dot;
  }
}

/** The question's part of the index in `source`: its candidates, scored with the corpus's statistics. */
export async function narrowedIndex(base: StoreIndexBase, source: CandidateSource, request: NarrowRequest): Promise<NarrowedIndex> {
  const { question, earlier, queryVector, accept, parameters } = request;
  const neighbours = parameters.softMatching ? (base.termNeighbours?.(parameters.softMatching) ?? null) : null;
  const analyzer = LexicalIndex.create(base.lexicalOptions);
  const { statistics, candidates, nearest } = await source.read(async (reads) => {
    const asked = [...new Set([question, ...earlier.map((one) => one.text)].flatMap((text) => analyzer.termsOf(text)))];
    let known = await reads.statistics(asked);
    const terms = queryTerms(question, LexicalIndex.partOf(known, base.lexicalOptions), neighbours, earlier);
    const unread = [...terms.searched.keys()].filter((term) => !known.terms.has(term) && !asked.includes(term));
    if (unread.length > 0) known = mergeStatistics(known, await reads.statistics(unread));
    const files = accept ? [...base.articles.values()].filter(accept).map((article) => article.file) : undefined;
    // Asked together: a store that queues both on one connection sends the dense search as soon as the
    // lexical postings have arrived, so the database walks its graph while the postings are scored here.
    const [byLexical, byDense] = await Promise.all([
      reads.lexicalTop(terms.searched, parameters.candidates, files),
      queryVector ? reads.denseTop(queryVector, parameters.candidates, files) : [],
    ]);
    const labels = [...new Set([...byLexical, ...byDense.map((neighbour) => neighbour.label)])];
    return { statistics: known, candidates: await reads.passages(labels), nearest: byDense };
  });

  const passages = new Map<number, IndexedPassage>();
  const vectors = new Map<number, Float32Array>();
  const lexical = LexicalIndex.partOf(statistics, base.lexicalOptions);
  const documents = [];
  for (const { passage, vector, analysed: stored } of candidates.sort((a, b) => a.passage.label - b.passage.label)) {
    passages.set(passage.label, passage);
    if (vector) vectors.set(passage.label, vector);
    const document = lexicalDocument(passage, base.articles.get(passage.file)?.title ?? '');
    let analysed = stored ?? base.analysed?.get(passage.label);
    if (!analysed) {
      analysed = analyseDocument(document, analyzer.analyser);
      base.analysed?.set(passage.label, analysed);
    }
    documents.push({ ...document, analysed });
  }
  lexical.add(documents);
  return {
    articles: base.articles,
    passages,
    lexical,
    vectors: new CandidateVectors(nearest, vectors),
    wordVectors: base.wordVectors,
    termNeighbours: base.termNeighbours,
    addContext: async (hits: readonly Hit[]) => {
      for (const passage of await source.around(
        hits.map((hit) => hit.passage),
        CONTEXT_BEFORE,
        CONTEXT_AFTER,
      ))
        if (!passages.has(passage.label)) passages.set(passage.label, passage);
    },
  };
}

/**
 * The candidate source of an index held in memory: what a store must answer, answered by the index
 * itself. A search narrowed through it ranks exactly as a search of the whole index (a test holds the
 * two equal), which is the yardstick for a store's own source.
 */
export function memoryCandidateSource(
  index: Pick<SearchIndex, 'passages' | 'lexical'> & {
    vectors: (VectorSearch & { vector(label: number): Float32Array | undefined }) | null;
  },
): CandidateSource {
  const inFiles = (files: readonly string[] | undefined) => {
    if (!files) return undefined;
    const wanted = new Set(files);
    return (label: number) => {
      const file = index.passages.get(label)?.file;
      return file !== undefined && wanted.has(file);
    };
  };
  const reads: CandidateReads = {
    statistics: async (terms) => index.lexical.statistics(terms),
    lexicalTop: async (weighted, n, files) =>
      index.lexical
        .search([...weighted.keys()], weighted)
        .top(n, inFiles(files))
        .map((hit) => hit.label),
    denseTop: async (vector, n, files) => index.vectors?.search(vector, n, inFiles(files)) ?? [],
    passages: async (labels) =>
      labels.flatMap((label) => {
        const passage = index.passages.get(label);
        return passage ? [{ passage, vector: index.vectors?.vector(label) }] : [];
      }),
  };
  return {
    read: (work) => work(reads),
    around: async (passages, before, after) =>
      passages.flatMap((passage) => {
        const found: IndexedPassage[] = [];
        for (let label = passage.label - before; label <= passage.label + after; label += 1) {
          const near = index.passages.get(label);
          if (near && near.file === passage.file) found.push(near);
        }
        return found;
      }),
  };
}

/** The dense side of an index whose vectors stay in the store: search reads them through `narrow`, never here. */
const VECTORS_IN_STORE: VectorSearch = {
  search: () => {
    throw new Error('the vectors of this index are in its store: search it through narrow');
  },
  similarity: () => {
    throw new Error('the vectors of this index are in its store: search it through narrow');
  },
};

const NO_STATISTICS: LexicalStatistics = { passages: 0, textLengthTotal: 0, titleLengthTotal: 0, terms: new Map() };

/**
 * An index kept in `source` as search takes it: its articles in memory, its passages read per question
 * (`passages` is empty: a passage is reached through a question's narrowed index, `SearchResult.index`).
 */
export function storeSearchIndex(base: StoreIndexBase, source: CandidateSource, options: { hasVectors: boolean }): SearchIndex {
  return {
    articles: base.articles,
    passages: new Map(),
    lexical: LexicalIndex.partOf(NO_STATISTICS, base.lexicalOptions),
    vectors: options.hasVectors ? VECTORS_IN_STORE : null,
    wordVectors: base.wordVectors,
    termNeighbours: base.termNeighbours,
    // Read from the index it is called on, so that word vectors taken away after opening (`check
    // --exact-words`) stay away in the question's part too.
    narrow(this: SearchIndex, request) {
      const wordVectors = this.wordVectors ?? null;
      return narrowedIndex({ ...base, wordVectors, termNeighbours: wordVectors ? base.termNeighbours : undefined }, source, request);
    },
  };
}
