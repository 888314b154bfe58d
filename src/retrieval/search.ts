/**
 * Hybrid retrieval. The lexical side (BM25 over stemmed words) finds the passages that share the
 * question's words; the dense side (embedding cosine, HNSW) finds the ones that share its meaning. Both
 * lists are merged into one candidate set and every candidate gets every signal, measured exactly, then a
 * weighted sum of normalised scores ranks them. The weights come from the retrieval check, not taste.
 */
import { dateIntentOf, datePreference, type DateIntent } from './date-intent.js';
import { queryTerms, type EarlierQuestion, type QueryTerms } from './question-terms.js';
import { termNeighboursOf, type SoftMatching, type TermNeighbours } from './soft-terms.js';
import { softCoverageQuery, type SoftCoverage } from './soft-coverage.js';
import type { CoverageQuery, LexicalIndex } from '../index/bm25.js';
import type { QuoteQuery } from './quotes.js';
import { answerKind, holdsAnswerKind, type AnswerKind } from '../text/tokens.js';
import type { Neighbour } from '../index/hnsw.js';
import type { ArticleRecord, IndexedPassage, RetrievalMode, WordVectorTable } from '../model.js';
import { isZeroVector, type Embedder } from '../embedding/embedder.js';

/** What search needs of the dense side: the HNSW index, or the candidates' vectors read from a store. */
export interface VectorSearch {
  /** The k nearest passages, best first; with `accept`, the k nearest of those it accepts. */
  search(query: Float32Array, k: number, accept?: (label: number) => boolean): Neighbour[];
  /** Exact cosine similarity with a passage's vector; 0 for a passage without one. */
  similarity(label: number, query: Float32Array): number;
}

/** What search needs of an index, whether loaded from disk, built in memory or kept in a database. */
export interface SearchIndex {
  articles: Map<string, ArticleRecord>;
  passages: Map<number, IndexedPassage>;
  lexical: LexicalIndex;
  vectors: VectorSearch | null;
  /** Word vectors for soft term matching; without them a question word matches only itself. */
  wordVectors?: WordVectorTable | null;
  /**
   * Set for an index kept in a store (a database) rather than in memory: reads the part of the corpus one
   * question needs (its candidates, with the corpus's statistics) as an index of its own, which search
   * then ranks exactly as it ranks a whole index. See ./candidate-view.ts.
   */
  narrow?: (request: NarrowRequest) => Promise<NarrowedIndex>;
  /** Soft matching's close-word table for the whole corpus, where `lexical` holds only part of its vocabulary. */
  termNeighbours?: (settings: SoftMatching) => TermNeighbours | null;
}

/** What a question needs read: its words, its vector, the articles it may come from and how many candidates. */
export interface NarrowRequest {
  question: string;
  earlier: readonly EarlierQuestion[];
  queryVector: Float32Array | undefined;
  accept: ((article: ArticleRecord) => boolean) | undefined;
  parameters: SearchParameters;
}

/** One question's part of an index kept in a store. */
export interface NarrowedIndex extends SearchIndex {
  /** Adds the passages around `hits` (what attribution reads for a speaker named earlier). */
  addContext(hits: readonly Hit[]): Promise<void>;
}

export interface FusionWeights {
  /** BM25 divided by the best BM25 of the question. */
  lexical: number;
  /** Cosine similarity of question and passage embeddings. */
  dense: number;
  /** Share of the question's weight (idf) that the best single sentence of the passage covers. */
  sentence: number;
  /** The same, counting close words as well (soft coverage). */
  soft: number;
  /** The share the whole passage covers, close words counted. */
  softPassage: number;
  /** The best lexical signal among the candidates of the passage's article: how much the article is about the question. */
  article: number;
  /** The best sentence signal of the paragraphs next to the passage: the question's words said just before or after. */
  neighbour: number;
}

export interface SearchParameters {
  weights: FusionWeights;
  /** Candidates taken from each side before fusion. */
  candidates: number;
  /** Question words also match close article words ("choppers" → "helicopters"); null: exact words only. */
  softMatching: SoftMatching | null;
  /** How close a word must be to count in the `soft` signals. */
  softCoverage: SoftCoverage;
  /**
   * Measure every signal, also those with weight 0 (fitting the weights needs them); otherwise a signal
   * without weight is not computed (the soft ones then equal the exact ones, the context ones are 0).
   */
  measureAll: boolean;
  /** Added to a sentence's coverage when it holds what the question asks for (a number for "how many"). */
  answerKindBonus: number;
  /** Added to the score of an article of the time the question asks about ("in 2019", "latest"), scaled by how well it fits. */
  dateBonus: number;
}

/** Measured with `npm run check -- --dataset ../shared/eval/squad11-dev` (see README, "Retrieval check"). */
export const DEFAULT_SEARCH: SearchParameters = {
  weights: { lexical: 1, dense: 0.4, sentence: 1, soft: 0, softPassage: 0, article: 0, neighbour: 0 },
  candidates: 50,
  softMatching: { threshold: 0.5, perWord: 3, credit: 0.6, frequentRows: 50_000, maxDocumentFrequency: 0 },
  // No weight for soft coverage, article or neighbour held out of set (npm run fit-fusion): measured only there.
  softCoverage: { threshold: 0.5 },
  measureAll: false,
  answerKindBonus: 0.15,
  dateBonus: 0.25,
};

/** What each candidate is measured by: the fusion weights' signals, and the exact passage coverage (for confidence). */
export type Signals = Record<keyof FusionWeights, number> & { coverage: number };

export interface Hit {
  passage: IndexedPassage;
  article: ArticleRecord;
  score: number;
  signals: Signals;
  /** Query terms found in the passage. */
  matched: string[];
}

export interface SearchResult {
  mode: RetrievalMode;
  terms: QueryTerms;
  /** The question prepared for the index's coverage, shared with quote selection. */
  coverage: CoverageQuery;
  hits: Hit[];
  /** The time the question asks about, when it names one: its articles were preferred. */
  dateIntent: DateIntent | null;
  /** The index searched: the one given, or the question's part of it when it is kept in a store. */
  index: SearchIndex;
}

function coverageQueryOf(terms: QueryTerms, lexical: LexicalIndex): CoverageQuery {
  return lexical.coverageQuery(
    terms.stems.map((stem) => ({
      stem,
      weight: terms.weights.get(stem) ?? 0,
      equivalents: terms.equivalents.get(stem) ?? new Map([[stem, 1]]),
    })),
  );
}

/** What quote selection needs to cut quotes for `question` out of passages of `index`. */
export function quoteQueryOf(
  question: string,
  index: Pick<SearchIndex, 'lexical'>,
  found: Pick<SearchResult, 'terms' | 'coverage'>,
  parameters: SearchParameters = DEFAULT_SEARCH,
): QuoteQuery {
  return {
    question,
    terms: found.terms,
    coverage: (passage, first, last) => index.lexical.runCoverage(passage.label, found.coverage, first, last),
    kindBonus: parameters.answerKindBonus,
  };
}

/** The best single-sentence coverage of a passage, with the answer-kind bonus for sentences that match at all. */
function bestSentenceScore(passage: IndexedPassage, sentenceCoverage: number[], kind: AnswerKind, bonus: number): number {
  let best = 0;
  sentenceCoverage.forEach((covered, i) => {
    let score = covered;
    const span = passage.sentences[i];
    if (score > 0 && bonus > 0 && span && holdsAnswerKind(passage.text.slice(span.start, span.end), kind)) score += bonus;
    best = Math.max(best, score);
  });
  return best;
}

export interface SearchOptions {
  index: SearchIndex;
  /** null or an index without vectors: lexical retrieval only. */
  embedder: Embedder | null;
  k: number;
  parameters?: SearchParameters;
  /** A precomputed question vector (the batch and check paths embed many questions at once). */
  queryVector?: Float32Array;
  /** Only passages of articles this accepts are searched (the outlet and date filters). */
  accept?: (article: ArticleRecord) => boolean;
  /** Questions this one follows (most recent first): their words count too, at their lower weight. */
  earlier?: readonly EarlierQuestion[];
}

/** The question's vector moved toward the earlier questions' by their weights, unit length; undefined when all are zero. */
function blendedVector(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array | undefined {
  const first = vectors[0];
  if (!first) return undefined;
  const sum = new Float32Array(first.length);
  vectors.forEach((vector, i) => {
    if (isZeroVector(vector)) return;
    for (let j = 0; j < sum.length; j += 1) sum[j] = sum[j]! + weights[i]! * vector[j]!;
  });
  let norm = 0;
  for (const value of sum) norm += value * value;
  if (norm === 0) return undefined;
  const inverse = 1 / Math.sqrt(norm);
  return sum.map((value) => value * inverse);
}

/** Soft matching's close-word table for an index's vocabulary; null without word vectors or soft matching. */
export function termNeighboursFor(index: SearchIndex, settings: SoftMatching | null): TermNeighbours | null {
  // No word vectors (none to be had, or `check --exact-words`): question words match only themselves.
  if (!settings || !index.wordVectors) return null;
  if (index.termNeighbours) return index.termNeighbours(settings);
  return termNeighboursOf(index.lexical, index.wordVectors, settings);
}

export async function search(question: string, options: SearchOptions): Promise<SearchResult> {
  const { k } = options;
  const parameters = options.parameters ?? DEFAULT_SEARCH;
  const earlier = (options.earlier ?? []).filter((one) => one.weight > 0 && one.text.trim() !== '');
  const mode: RetrievalMode = options.index.vectors && options.embedder ? 'hybrid' : 'lexical';

  let queryVector: Float32Array | undefined;
  if (mode === 'hybrid' && options.embedder) {
    if (earlier.length > 0) {
      const vectors = await options.embedder.embed([question, ...earlier.map((one) => one.text)], 'query');
      queryVector = blendedVector(vectors, [1, ...earlier.map((one) => Math.min(1, one.weight))]);
    } else {
      queryVector = options.queryVector ?? (await options.embedder.embed([question], 'query'))[0];
      if (queryVector && isZeroVector(queryVector)) queryVector = undefined;
    }
  }

  const { accept } = options;
  const narrowed = options.index.narrow ? await options.index.narrow({ question, earlier, queryVector, accept, parameters }) : null;
  const index = narrowed ?? options.index;
  const neighbours = termNeighboursFor(index, parameters.softMatching);
  const terms = queryTerms(question, index.lexical, neighbours, earlier);
  const kind = answerKind(question);
  const dense = mode === 'hybrid' ? index.vectors : null;
  const lexicalScores = index.lexical.search([...terms.searched.keys()], terms.searched);

  // Candidates: the best of each side, among the accepted articles' passages when a filter is set.
  const acceptLabel = accept
    ? (label: number) => {
        const passage = index.passages.get(label);
        const article = passage && index.articles.get(passage.file);
        return article !== undefined && accept(article);
      }
    : undefined;
  const candidates = new Set<number>();
  // The dense search runs while a second thread, where one helps, scores part of the lexical postings.
  let byDense: Array<{ label: number }> = [];
  const searchDense = dense && queryVector ? () => (byDense = dense.search(queryVector, parameters.candidates, acceptLabel)) : undefined;
  const byLexical = lexicalScores.top(parameters.candidates, acceptLabel, searchDense);
  for (const { label } of byLexical) candidates.add(label);
  for (const { label } of byDense) candidates.add(label);

  const bestLexical = byLexical[0]?.score ?? 0;
  // The lexical top's scores are already known (the same values a look-up gives, to the bit); only the
  // dense side's other candidates are looked up.
  const lexicalScoreOf = new Map(byLexical.map(({ label, score }) => [label, score]));
  const dateIntent = dateIntentOf(question);
  const dates = dateIntent?.kind === 'latest' ? dateRange(candidates, index) : null;
  const coverageQuery = coverageQueryOf(terms, index.lexical);
  const { weights } = parameters;
  const measured = (...signals: Array<keyof FusionWeights>) => parameters.measureAll || signals.some((signal) => weights[signal] !== 0);
  const softQuery =
    neighbours && measured('soft', 'softPassage')
      ? softCoverageQuery(coverageQuery, terms, candidates, index.lexical, neighbours, parameters.softCoverage)
      : null;
  const ranked: Array<Omit<Hit, 'matched'>> = [];
  for (const label of candidates) {
    const passage = index.passages.get(label);
    if (!passage) continue;
    const article = index.articles.get(passage.file);
    if (!article) continue;
    const lexicalSignal = bestLexical > 0 ? (lexicalScoreOf.get(label) ?? lexicalScores.score(label)) / bestLexical : 0;
    const denseSignal = dense && queryVector ? dense.similarity(label, queryVector) : 0;
    const covered = index.lexical.coverage(label, coverageQuery);
    const sentenceSignal = bestSentenceScore(passage, covered.sentences, kind, parameters.answerKindBonus);
    const softCovered = softQuery ? index.lexical.coverage(label, softQuery) : covered;
    const softSignal = softQuery ? bestSentenceScore(passage, softCovered.sentences, kind, parameters.answerKindBonus) : sentenceSignal;
    const preferred = dateIntent && parameters.dateBonus > 0 ? parameters.dateBonus * datePreference(dateIntent, article.date, dates) : 0;
    const signals: Signals = {
      lexical: lexicalSignal,
      dense: denseSignal,
      sentence: sentenceSignal,
      soft: softSignal,
      softPassage: softCovered.passage,
      article: 0,
      neighbour: 0,
      coverage: covered.passage,
    };
    ranked.push({ passage, article, score: preferred, signals });
  }
  if (measured('article', 'neighbour')) addContextSignals(ranked);
  for (const hit of ranked) {
    for (const signal of FUSION_SIGNALS) hit.score += weights[signal] * hit.signals[signal];
  }
  ranked.sort((a, b) => b.score - a.score || a.passage.label - b.passage.label);
  const hits = ranked.slice(0, k).map((hit) => ({ ...hit, matched: lexicalScores.matched(hit.passage.label) }));
  return { mode, terms, coverage: coverageQuery, hits, dateIntent, index };
}

/**
 * Makes the passages around `hits` readable in `result.index` (attribution looks there for a speaker named
 * earlier): nothing to do for an index in memory; one read for the part of a stored one a question got.
 */
export async function withContext(result: Pick<SearchResult, 'index'>, hits: readonly Hit[]): Promise<void> {
  const { addContext } = result.index as Partial<NarrowedIndex>;
  if (addContext && hits.length > 0) await addContext(hits);
}

/** The signals the fusion weights apply to, in a fixed order. */
export const FUSION_SIGNALS = [
  'lexical',
  'dense',
  'sentence',
  'soft',
  'softPassage',
  'article',
  'neighbour',
] as const satisfies ReadonlyArray<keyof FusionWeights>;

/** Each hit's article and neighbour signals, from the other candidates of its article. */
function addContextSignals(hits: ReadonlyArray<Omit<Hit, 'matched'>>): void {
  const articleBest = new Map<string, number>();
  const sentenceAt = new Map<string, number>();
  for (const hit of hits) {
    const { file, paragraph } = hit.passage;
    articleBest.set(file, Math.max(articleBest.get(file) ?? 0, hit.signals.lexical));
    const key = `${file}#${paragraph}`;
    sentenceAt.set(key, Math.max(sentenceAt.get(key) ?? 0, hit.signals.sentence));
  }
  for (const hit of hits) {
    const { file, paragraph } = hit.passage;
    hit.signals.article = articleBest.get(file) ?? 0;
    hit.signals.neighbour = Math.max(sentenceAt.get(`${file}#${paragraph - 1}`) ?? 0, sentenceAt.get(`${file}#${paragraph + 1}`) ?? 0);
  }
}

/** The oldest and newest day among the candidates' dated articles. */
function dateRange(labels: Iterable<number>, index: SearchIndex): { oldest: string; newest: string } | null {
  let oldest: string | undefined;
  let newest: string | undefined;
  for (const label of labels) {
    const passage = index.passages.get(label);
    const date = passage && index.articles.get(passage.file)?.date;
    if (!date) continue;
    if (oldest === undefined || date < oldest) oldest = date;
    if (newest === undefined || date > newest) newest = date;
  }
  return oldest && newest ? { oldest, newest } : null;
}
