/**
 * The index in Postgres as search takes it: a question's candidates and the corpus's statistics for its
 * words, read on one snapshot (`narrowedIndex` in src/retrieval/candidate-view.ts ranks them with the same
 * code as an index in memory), and the articles and soft matching's close-word table kept in memory,
 * reloaded when another process writes a new generation.
 */
import { LRUCache } from 'lru-cache';
import { DEFAULT_LEXICAL_OPTIONS, type AnalysedDocument, type LexicalOptions, type LexicalStatistics } from '../../index/bm25.js';
import type { ArticleRecord, WordVectorTable } from '../../model.js';
import { storeSearchIndex, type CandidateReads, type CandidateSource } from '../../retrieval/candidate-view.js';
import { TermNeighbours, type SoftMatching } from '../../retrieval/soft-terms.js';
import type { TermStat } from './bm25-query.js';
import { queryError, type PgDatabase } from './connection.js';
import { pgRetrieval, type PgRetrieval, type TermStats } from './pg-retrieval.js';
import { pgIndexStore, type PgIndexMeta } from './pg-store.js';
import { IndexMissing } from '../errors.js';
import type { IndexSummary, PassageLookup, ServedIndex } from '../served-index.js';
import { PASSAGE_ROW_COLUMNS, passageFromRow, type PassageRow } from './rows.js';

function lexicalStatistics(stats: TermStats): LexicalStatistics {
  const terms = new Map<string, { text: number; title: number }>();
  for (const [term, stat] of stats.terms) terms.set(term, { text: stat.textDf, title: stat.titleDf });
  return {
    passages: stats.corpus.passages,
    textLengthTotal: stats.corpus.textLengthTotal,
    titleLengthTotal: stats.corpus.titleLengthTotal,
    terms,
  };
}

/** The reads of one question, on one snapshot: the term statistics read are kept for its BM25 query. */
function snapshotReads(snapshot: PgRetrieval): CandidateReads {
  let latest: TermStats | undefined;
  const known = new Map<string, TermStat>();
  const asked = new Set<string>();
  const read = async (terms: readonly string[]) => {
    const stats = await snapshot.termStats(terms);
    for (const term of terms) asked.add(term);
    for (const [term, stat] of stats.terms) known.set(term, stat);
    latest = { ...stats, terms: known, documentFrequency: (term) => known.get(term)?.textDf ?? 0 };
    return latest;
  };
  return {
    statistics: async (terms) => lexicalStatistics(await read(terms)),
    lexicalTop: async (weighted, n, files) => {
      const unread = [...weighted.keys()].filter((term) => !asked.has(term));
      const stats = unread.length > 0 || !latest ? await read(unread) : latest;
      const hits = await snapshot.lexicalTop(weighted, n, { stats, filter: files && { files } });
      return hits.map((hit) => hit.label);
    },
    denseTop: (vector, n, files) => snapshot.denseTop(vector, n, files && { files }),
    passages: (labels) => snapshot.storedPassages(labels),
  };
}

/** `work`, with a lost connection reported as DatabaseUnreachable naming the database (`queryError`). */
async function reaching<T>(location: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw queryError(error, location);
  }
}

export function pgCandidateSource(retrieval: PgRetrieval, location: string): CandidateSource {
  return {
    read: (work) => reaching(location, () => retrieval.snapshot((snapshot) => work(snapshotReads(snapshot)))),
    around: (passages, before, after) => reaching(location, () => retrieval.passagesAround(passages, before, after)),
  };
}

/** Analysed candidates kept per process (a few kilobytes each). */
const ANALYSED_PASSAGES = 20_000;

/** An index in Postgres, opened for answering. */
export interface PgSearchIndex {
  /** What search takes; replaced by `refresh` when the stored generation moved. */
  readonly index: ServedIndex;
  readonly meta: PgIndexMeta;
  /** Rereads the articles and vocabulary when another process wrote a new generation; true when it did. */
  refresh(): Promise<boolean>;
}

/** The version of an index in Postgres, as `IndexSummary.version` names it. */
export function pgVersion(generation: number): string {
  return `generation ${generation}`;
}

/** Passage look-ups that read the database; the passage count of each article is read with the articles. */
function pgLookup(db: PgDatabase, counts: ReadonlyMap<string, number>): PassageLookup {
  const t = db.tables;
  const rows = (where: string, values: unknown[]) =>
    reaching(db.location, async () =>
      (await db.pool.query<PassageRow>(`SELECT ${PASSAGE_ROW_COLUMNS} FROM ${t.passages} WHERE ${where} ORDER BY label`, values)).rows.map(
        passageFromRow,
      ),
    );
  return {
    passageCount: (file) => counts.get(file) ?? 0,
    passage: async (label) => (Number.isInteger(label) ? (await rows('label = $1', [label]))[0] : undefined),
    labelOf: async (passageId) => {
      const file = passageId.slice(0, Math.max(0, passageId.lastIndexOf('#')));
      const result = await reaching(db.location, () =>
        db.pool.query<{ label: number }>(`SELECT label FROM ${t.passages} WHERE file = $1 AND id = $2`, [file, passageId]),
      );
      return result.rows[0]?.label;
    },
    paragraphs: (file, from, to) => rows('file = $1 AND paragraph BETWEEN $2 AND $3', [file, from, to]),
    all: async () => new Map((await rows('true', [])).map((passage) => [passage.label, passage])),
  };
}

/**
 * Opens the index in `db` for answering. Articles (one row each), their passage counts and the
 * close-word table of the corpus's vocabulary are held in memory for the generation read; passages stay
 * in the database.
 */
export async function openPgSearchIndex(db: PgDatabase, options: { wordVectors: WordVectorTable | null }): Promise<PgSearchIndex> {
  const store = pgIndexStore(db);
  const retrieval = pgRetrieval(db);
  const source = pgCandidateSource(retrieval, db.location);
  // Analysing a candidate is most of a question's own work here; questions on a topic meet the same ones.
  const analysed = new LRUCache<number, AnalysedDocument>({ max: ANALYSED_PASSAGES });

  const load = () => reaching(db.location, loadOnce);
  const loadOnce = async () => {
    // Metadata, articles and vocabulary of one generation: read again when a write came in between.
    for (;;) {
      const meta = await store.meta();
      if (!meta.built)
        throw new IndexMissing(
          `No index in ${db.location} (schema ${db.tables.schema}) yet: run \`npm run index\` with INDEX_STORE=postgres.`,
        );
      const articles = await store.articles();
      const counts = await db.pool.query<{ file: string; passages: number }>(
        `SELECT file, count(*)::integer AS passages FROM ${db.tables.passages} GROUP BY file`,
      );
      const vocabulary = options.wordVectors ? await retrieval.vocabulary() : [];
      if ((await store.generation()) === meta.generation)
        return indexOf(meta, articles, new Map(counts.rows.map((row) => [row.file, row.passages])), vocabulary);
    }
  };

  const indexOf = (meta: PgIndexMeta, articles: ArticleRecord[], counts: Map<string, number>, vocabulary: string[]) => {
    const lexicalOptions: LexicalOptions = meta.lexical ? { ...DEFAULT_LEXICAL_OPTIONS, ...meta.lexical } : DEFAULT_LEXICAL_OPTIONS;
    const tables = new Map<SoftMatching, TermNeighbours>();
    const termNeighbours = (settings: SoftMatching) => {
      if (!options.wordVectors) return null;
      let table = tables.get(settings);
      if (!table) tables.set(settings, (table = new TermNeighbours(options.wordVectors, vocabulary, settings)));
      return table;
    };
    const mode = meta.mode ?? 'lexical';
    const searchIndex = storeSearchIndex(
      {
        articles: new Map<string, ArticleRecord>(articles.map((article) => [article.file, article])),
        lexicalOptions,
        wordVectors: options.wordVectors,
        termNeighbours,
        analysed,
      },
      source,
      { hasVectors: mode === 'hybrid' },
    );
    const summary: IndexSummary = {
      location: `${db.location}, schema ${db.tables.schema}`,
      mode,
      ...(meta.modeReason ? { modeReason: meta.modeReason } : {}),
      embedding: meta.embedding,
      articleCount: meta.articleCount,
      passageCount: meta.passageCount,
      version: pgVersion(meta.generation),
    };
    const index: ServedIndex = { ...searchIndex, summary, lookup: pgLookup(db, counts) };
    return { meta, index };
  };

  let current = await load();
  return {
    get index() {
      return current.index;
    },
    get meta() {
      return current.meta;
    },
    refresh: async () => {
      if ((await reaching(db.location, () => store.generation())) === current.meta.generation) return false;
      current = await load();
      return true;
    },
  };
}
