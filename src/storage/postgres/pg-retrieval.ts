/**
 * Retrieval primitives over the index in Postgres, for a search that takes its candidates from SQL: the
 * lexical top N by citebot's own BM25+ (equal to `LexicalIndex.search(…).top`, scores included), the
 * dense top N through pgvector's HNSW, pg_textsearch's BM25 where the server has it (for comparison),
 * and for a handful of candidates the rows their per-candidate signals are computed from: text,
 * sentences and their stems, article, and the exact vector.
 *
 * `snapshot` runs several of them against one consistent state of the index (a repeatable-read,
 * read-only transaction), so a question's statistics, candidates and rows all come from one generation
 * even while a writer commits.
 */
import type pg from 'pg';
import { TopN } from '../../index/top-k.js';
import { isZeroVector } from '../../embedding/embedder.js';
import { DEFAULT_LEXICAL_OPTIONS, type AnalysedDocument, type Bm25Parameters } from '../../index/bm25.js';
import type { ArticleRecord, IndexedPassage } from '../../model.js';
import {
  bm25Idf,
  MAX_QUERY_TERMS,
  matchedTerms,
  postingsSql,
  scorePostings,
  type ScoringRows,
  scoringRows,
  type PackedPostings,
  type CorpusStats,
  type TermStat,
} from './bm25-query.js';
import type { PgDatabase } from './connection.js';
import { sentenceStems } from './passage-terms.js';
import {
  articleFromRow,
  PASSAGE_ROW_COLUMNS,
  passageFromRow,
  termsFromText,
  vectorFromBinary,
  vectorText,
  type ArticleRow,
  type PassageRow,
} from './rows.js';
import type { Tables } from './schema.js';
import { withTransaction } from './transaction.js';

/** Only passages of these articles (the outlet and date filters, resolved to files by the caller). */
export interface PassageFilter {
  files: readonly string[];
}

/** The statistics of a question's terms, with the corpus's: what query weights and BM25 need. */
export interface TermStats {
  corpus: CorpusStats;
  terms: ReadonlyMap<string, TermStat>;
  /** `LexicalIndex.documentFrequency`: passages whose text holds the term. */
  documentFrequency(term: string): number;
  /** `LexicalIndex.idf`. */
  idf(term: string): number;
}

export interface LexicalHit {
  label: number;
  score: number;
  /** The question terms the passage holds (text or title). */
  matched: string[];
}

export interface DenseHit {
  label: number;
  /** Cosine similarity as pgvector computes it (float32 sums); `CandidateRow.similarity` is exact. */
  similarity: number;
}

/** What the per-candidate signals of search are computed from. */
export interface CandidateRow {
  passage: IndexedPassage;
  article: ArticleRecord;
  /** The analyser's stems of each sentence, as the lexical index holds them (coverage is computed on them); computed when read. */
  readonly sentenceStems: string[][];
  /** The stored embedding; undefined for a passage without one. */
  vector: Float32Array | undefined;
  /** Exact cosine with the query vector, summed as `VectorIndex.similarity` does; 0 without a vector or query. */
  similarity: number;
}

export interface PgRetrieval {
  /** The index's generation: poll it, and reload what was cached when it moves. */
  generation(): Promise<number>;
  /** Document frequencies of `terms` (the first 32 distinct are what BM25 scores) and the corpus statistics. */
  termStats(terms: Iterable<string>): Promise<TermStats>;
  /** The n best passages by citebot's BM25+, best first, ties by label: `LexicalIndex.search(terms, weights).top(n)`. */
  lexicalTop(
    weighted: ReadonlyMap<string, number>,
    n: number,
    options?: { filter?: PassageFilter; stats?: TermStats },
  ): Promise<LexicalHit[]>;
  /** Exact BM25+ of given passages (those the dense side found): the score and matched terms of each that matches. */
  lexicalScores(
    weighted: ReadonlyMap<string, number>,
    labels: readonly number[],
    options?: { stats?: TermStats },
  ): Promise<Map<number, LexicalHit>>;
  /** The n nearest passages by cosine through the HNSW index (`hnsw.ef_search` set per connection, or per snapshot). */
  denseTop(vector: Float32Array, n: number, filter?: PassageFilter): Promise<DenseHit[]>;
  /** The n best passages by pg_textsearch's BM25 over the text alone; throws where the server lacks it. */
  textsearchTop(question: string, n: number): Promise<Array<{ label: number; score: number }>>;
  /** Rows of the given passages, in the order asked (labels not in the index are left out). */
  candidateRows(labels: readonly number[], queryVector?: Float32Array): Promise<CandidateRow[]>;
  /** The given passages with their stored vectors (undefined for one without), in label order; no article read. */
  storedPassages(
    labels: readonly number[],
  ): Promise<Array<{ passage: IndexedPassage; vector: Float32Array | undefined; analysed: AnalysedDocument | undefined }>>;
  /** Every term some passage's text holds: the candidates of soft term matching (`LexicalIndex.liveTerms`). */
  vocabulary(): Promise<string[]>;
  /** The passages of each given passage's article from `before` labels before it to `after` after it, by label. */
  passagesAround(passages: ReadonlyArray<{ label: number; file: string }>, before: number, after: number): Promise<IndexedPassage[]>;
  /** Runs `work` on one consistent snapshot of the index. */
  snapshot<T>(work: (retrieval: PgRetrieval) => Promise<T>): Promise<T>;
}

interface Queryable {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

interface StatsRow {
  generation: string;
  passage_count: number;
  text_length_total: string;
  title_length_total: string;
  lexical: { bm25: Bm25Parameters; titleBoost: number } | null;
  id: number | null;
  term: string | null;
  text_df: number | null;
  title_df: number | null;
}

function termStatsOf(rows: StatsRow[]): TermStats {
  const first = rows[0];
  if (!first) throw new Error('the index metadata row is missing');
  const lexical = first.lexical ?? { bm25: DEFAULT_LEXICAL_OPTIONS.bm25, titleBoost: DEFAULT_LEXICAL_OPTIONS.titleBoost };
  const corpus: CorpusStats = {
    generation: Number(first.generation),
    passages: first.passage_count,
    textLengthTotal: Number(first.text_length_total),
    titleLengthTotal: Number(first.title_length_total),
    bm25: lexical.bm25,
    titleBoost: lexical.titleBoost,
  };
  const terms = new Map<string, TermStat>();
  for (const row of rows)
    if (row.term !== null && row.id !== null) terms.set(row.term, { id: row.id, textDf: row.text_df ?? 0, titleDf: row.title_df ?? 0 });
  const documentFrequency = (term: string) => terms.get(term)?.textDf ?? 0;
  return { corpus, terms, documentFrequency, idf: (term) => bm25Idf(corpus.passages, documentFrequency(term)) };
}

/**
 * Pooled connections whose dense search settings are made for the session (they last as long as the
 * connection). A connection is marked only after both settings were made outside any transaction: a
 * setting made inside one is undone when it rolls back, and the mark would outlive it.
 */
const denseReady = new WeakSet<pg.PoolClient>();

/** pgvector's search settings: `hnsw.ef_search`, and iterative scans (see `withDenseSettings`). */
function denseSettings(db: PgDatabase, scope: 'SET' | 'SET LOCAL'): string[] {
  return [`${scope} hnsw.ef_search = ${Math.trunc(db.efSearch)}`, `${scope} hnsw.iterative_scan = strict_order`];
}

/**
 * Runs `work` on a connection with pgvector's search settings: `hnsw.ef_search`, and iterative scans so a
 * filtered search keeps walking the graph until it has its n passages instead of coming back short.
 * (PGlite ignores settings sent when connecting, so they are made here.) A pooled connection gets them
 * for its session, once. Inside a snapshot's transaction (`local`) they are made with SET LOCAL, once per
 * transaction: they end with it, committed or rolled back, and the connection is not marked, so the next
 * search on it (in a transaction or not) makes them again instead of running at pgvector's defaults
 * (ef_search 40, no iterative scan).
 */
async function withDenseSettings<T>(
  db: PgDatabase,
  local: { client: pg.PoolClient; settingsMade: boolean } | undefined,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  if (local) {
    if (!local.settingsMade && !denseReady.has(local.client)) {
      for (const statement of denseSettings(db, 'SET LOCAL')) await local.client.query(statement);
      local.settingsMade = true;
    }
    return work(local.client as Queryable);
  }
  const client = await db.pool.connect();
  try {
    if (!denseReady.has(client)) {
      for (const statement of denseSettings(db, 'SET')) await client.query(statement);
      denseReady.add(client);
    }
    return await work(client as Queryable);
  } finally {
    client.release();
  }
}

function boundTo(db: PgDatabase, pinned: pg.PoolClient | undefined, settingsMade = false): PgRetrieval {
  const t: Tables = db.tables;
  const client = (pinned ?? db.pool) as Queryable;
  /** The snapshot's transaction, and whether its dense settings are made (SET LOCAL: they end with it). */
  const local = pinned ? { client: pinned, settingsMade } : undefined;

  const termStats = async (terms: Iterable<string>) => {
    const result = await client.query<StatsRow>(
      `SELECT i.generation, i.passage_count, i.text_length_total, i.title_length_total, i.lexical, t.id, t.term, t.text_df, t.title_df
       FROM ${t.index} AS i LEFT JOIN ${t.terms} AS t ON t.term = ANY($1::text[])`,
      [[...new Set(terms)]],
    );
    return termStatsOf(result.rows);
  };

  /**
   * BM25 of the passages holding any of `weighted`'s terms, from their packed posting blocks
   * (`postingsSql`); only those `keep` accepts are kept.
   */
  const score = async (
    weighted: ReadonlyMap<string, number>,
    stats: TermStats | undefined,
    each: (label: number, score: number, mask: number) => void,
  ): Promise<ScoringRows> => {
    const used = stats ?? (await termStats([...weighted.keys()].slice(0, MAX_QUERY_TERMS)));
    const rows = scoringRows(weighted, used.corpus, used.terms);
    if (rows.termIds.length === 0) return rows;
    const result = await client.query<PackedPostings>(postingsSql(t), [rows.termIds, rows.fields]);
    scorePostings(rows, result.rows, used.corpus.bm25, each);
    return rows;
  };

  const retrieval: PgRetrieval = {
    generation: async () => {
      const result = await client.query<{ generation: string }>(`SELECT generation FROM ${t.index}`);
      return Number(result.rows[0]?.generation ?? 0);
    },

    termStats,

    lexicalTop: async (weighted, n, options = {}) => {
      if (n <= 0) return [];
      const { filter, stats } = options;
      let keep: ((label: number) => boolean) | undefined;
      if (filter) {
        const allowed = await client.query<{ label: number }>(`SELECT label FROM ${t.passages} WHERE file = ANY($1::text[])`, [
          filter.files,
        ]);
        const labels = new Set(allowed.rows.map((row) => row.label));
        keep = (label) => labels.has(label);
      }
      const best = new TopN(n);
      const masks = new Map<number, number>();
      const rows = await score(weighted, stats, (label, value, mask) => {
        if (value < best.floor || (keep && !keep(label))) return;
        best.offer(label, value);
        masks.set(label, mask);
      });
      return best.result.map(({ label, score: value }): LexicalHit => ({
        label,
        score: value,
        matched: matchedTerms(masks.get(label)!, rows.terms),
      }));
    },

    lexicalScores: async (weighted, labels, options = {}) => {
      if (labels.length === 0) return new Map();
      const wanted = new Set(labels);
      const scored: Array<{ label: number; score: number; mask: number }> = [];
      const rows = await score(weighted, options.stats, (label, value, mask) => {
        if (wanted.has(label)) scored.push({ label, score: value, mask });
      });
      return new Map(
        scored.map(({ label, score: value, mask }) => [label, { label, score: value, matched: matchedTerms(mask, rows.terms) }]),
      );
    },

    denseTop: async (vector, n, filter) => {
      if (n <= 0 || isZeroVector(vector)) return [];
      // Passages without a vector are not in the HNSW graph; on a plan without it they sort last as NULL.
      const result = await withDenseSettings(db, local, (dense) =>
        dense.query<{ label: number; similarity: number | null }>(
          `SELECT label, 1 - (embedding <=> $1::vector) AS similarity FROM ${t.passages}
           ${filter ? 'WHERE file = ANY($3::text[])' : ''}
           ORDER BY embedding <=> $1::vector LIMIT $2`,
          filter ? [vectorText(vector), n, filter.files] : [vectorText(vector), n],
        ),
      );
      return result.rows.filter((row): row is DenseHit => row.similarity !== null && !Number.isNaN(row.similarity));
    },

    // pg_textsearch analyses with Postgres's `english` text search configuration, not citebot's
    // analyser: the default parser (which keeps "U.S." as one host-like token, splits hyphenated words
    // into the whole and its parts, and reads "2,000" as two numbers), the Snowball English stemmer
    // instead of Porter's, Snowball's stopword list (which drops "us" and keeps "said" and "told"), no
    // accent folding, no headline field, classic BM25 with its own idf and no BM25+ floor (d).
    textsearchTop: async (question, n) => {
      if (n <= 0) return [];
      // Named as regclass input reads it: the quoted schema, so that any schema name means itself.
      const index = `${t.schemaSql}.${t.indexNames.bm25}`;
      try {
        const result = await client.query<{ label: number; score: number }>(
          `SELECT label, -(text <@> to_bm25query($1, $3::text)) AS score FROM ${t.passages}
           ORDER BY text <@> to_bm25query($1, $3::text) LIMIT $2`,
          [question, n, index],
        );
        return result.rows.filter((row) => row.score > 0);
      } catch (error) {
        const message = (error as Error).message;
        if (/bm25|does not exist|to_bm25query/i.test(message))
          throw new Error(`pg_textsearch is not available for the index in ${db.location} (${message})`, { cause: error });
        throw error;
      }
    },

    candidateRows: async (labels, queryVector) => {
      if (labels.length === 0) return [];
      const result = await client.query<PassageRow & { vector: Buffer | null; article: ArticleRow }>(
        `SELECT ${PASSAGE_ROW_COLUMNS.split(', ')
          .map((column) => `p.${column}`)
          .join(', ')}, vector_send(p.embedding) AS vector, to_jsonb(a.*) AS article
         FROM ${t.passages} AS p JOIN ${t.articles} AS a ON a.file = p.file
         WHERE p.label = ANY($1::integer[])`,
        [labels],
      );
      const byLabel = new Map<number, CandidateRow>();
      for (const row of result.rows) {
        const passage = passageFromRow(row);
        const vector = row.vector ? vectorFromBinary(row.vector) : undefined;
        let similarity = 0;
        if (vector && queryVector && vector.length === queryVector.length) {
          for (let i = 0; i < vector.length; i += 1) similarity += vector[i]! * queryVector[i]!;
        }
        byLabel.set(passage.label, {
          passage,
          article: articleFromRow(row.article),
          // Analysed when read: search analyses the candidates itself (candidate-view.ts).
          get sentenceStems() {
            return sentenceStems(passage.text, passage.sentences);
          },
          vector,
          similarity,
        });
      }
      return labels.flatMap((label) => byLabel.get(label) ?? []);
    },

    storedPassages: async (labels) => {
      if (labels.length === 0) return [];
      const result = await client.query<PassageRow & { vector: Buffer | null; sentence_terms: string | null; title_terms: string | null }>(
        `SELECT ${PASSAGE_ROW_COLUMNS}, vector_send(embedding) AS vector, sentence_terms, title_terms
         FROM ${t.passages} WHERE label = ANY($1::integer[]) ORDER BY label`,
        [labels],
      );
      return result.rows.map((row) => ({
        passage: passageFromRow(row),
        vector: row.vector ? vectorFromBinary(row.vector) : undefined,
        // Rows written before the schema kept terms have none: they are analysed by the reader.
        analysed:
          row.sentence_terms !== null && row.title_terms !== null
            ? { sentences: termsFromText(row.sentence_terms), title: termsFromText(row.title_terms)[0] ?? [] }
            : undefined,
      }));
    },

    passagesAround: async (passages, before, after) => {
      if (passages.length === 0) return [];
      const result = await client.query<PassageRow>(
        `SELECT DISTINCT ${PASSAGE_ROW_COLUMNS.split(', ')
          .map((column) => `p.${column}`)
          .join(', ')}
         FROM ${t.passages} AS p
         JOIN unnest($1::text[], $2::integer[], $3::integer[]) AS around(file, low, high)
           ON p.file = around.file AND p.label BETWEEN around.low AND around.high
         ORDER BY p.label`,
        [passages.map((one) => one.file), passages.map((one) => one.label - before), passages.map((one) => one.label + after)],
      );
      return result.rows.map(passageFromRow);
    },

    vocabulary: async () => {
      const result = await client.query<{ term: string }>(`SELECT term FROM ${t.terms} WHERE text_df > 0 ORDER BY id`);
      return result.rows.map((row) => row.term);
    },

    snapshot: (work) => {
      if (pinned) return work(retrieval);
      // The dense search settings go with BEGIN (SET LOCAL): one round trip fewer for each question.
      return withTransaction(db.pool, (snapshotClient) => work(boundTo(db, snapshotClient, true)), {
        isolation: 'repeatable read',
        readOnly: true,
        atStart: denseSettings(db, 'SET LOCAL'),
      });
    },
  };
  return retrieval;
}

/** Retrieval over the index in `db`; each call on its own pooled connection, or within `snapshot`. */
export function pgRetrieval(db: PgDatabase): PgRetrieval {
  return boundTo(db, undefined);
}
