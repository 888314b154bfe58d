/**
 * Writing the index into Postgres and reading its records back. A full write replaces everything; an
 * update compares each article's source hash with the stored one and touches only the articles that are
 * new, changed or gone. Each runs in one transaction that ends by bumping the generation, so a reader
 * sees the index before or after, never half of it, and a writer that dies mid-way (killed, disconnected)
 * leaves the previous generation as it was. Writers take the metadata row's lock, so two never
 * interleave; readers are not blocked by it.
 *
 * Rows go in through `INSERT … SELECT FROM unnest($1::int[], …)`: one parameterised statement per batch
 * of thousands of rows, which node-postgres supports without a COPY extension. A full write drops the
 * secondary indexes first and builds them once at the end (HNSW, the postings key, pg_textsearch's bm25),
 * which is far faster than maintaining them row by row.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { isZeroVector, type EmbedderFingerprint } from '../../embedding/embedder.js';
import { PARSER_VERSION } from '../../ingest/article.js';
import type { Bm25Parameters, LexicalOptions } from '../../index/bm25.js';
import type { HnswParameters } from '../../index/hnsw.js';
import type { ArticleRecord, IndexedPassage, RetrievalMode } from '../../model.js';
import { IndexMissing } from '../errors.js';
import { SchemaTooNew } from './errors.js';
import type { IndexContents } from '../store.js';
import type { PgDatabase } from './connection.js';
import { passageTerms, type PassageTerms } from './passage-terms.js';
import {
  ARTICLE_COLUMNS,
  ARTICLE_UNNEST,
  articleColumns,
  articleFromRow,
  PASSAGE_COLUMNS,
  PASSAGE_ROW_COLUMNS,
  PASSAGE_SELECT,
  passageColumns,
  passageFromRow,
  type ArticleRow,
  type PassageExtras,
  type PassageRow,
} from './rows.js';
import { BLOCK_LABELS, packBlocksSql, SCHEMA_VERSION, TEXT_FIELD, TITLE_FIELD, type Tables } from './schema.js';
import { withTransaction } from './transaction.js';

/** The index's metadata row: what the local store keeps in its manifest. */
export interface PgIndexMeta {
  generation: number;
  /** False until the first full write. */
  built: boolean;
  mode: RetrievalMode | null;
  modeReason?: string;
  embedding: EmbedderFingerprint | null;
  lexical: { bm25: Bm25Parameters; titleBoost: number } | null;
  hnsw: HnswParameters | null;
  maxPassageChars: number | null;
  parserVersion: number | null;
  nextLabel: number;
  articleCount: number;
  passageCount: number;
  textLengthTotal: number;
  titleLengthTotal: number;
  /** Whether passages have a pg_textsearch bm25 index (the extension was available at the last full write). */
  textsearch: boolean;
  updatedAt: string;
}

/**
 * What a full write takes: what a build hands a store, less the in-memory indexes the database builds
 * its own of (the lexical index is analysed again row by row, the HNSW graph built by pgvector): only
 * each passage's vector is read (`IndexContents` fits).
 */
export type PgWriteContents = Omit<IndexContents, 'lexical' | 'vectors'> & {
  vectors: { dimension: number; vector(label: number): Float32Array | undefined } | null;
};

/** What an update writes: every article the index is to hold, and the passages of the new and changed ones. */
export interface IndexUpdate {
  /**
   * The setup the update was made with: each must be the stored one, else the update is refused and the
   * index must be written in full (see `setupDifference`). The passages were parsed by this code's parser.
   */
  embedding: EmbedderFingerprint | null;
  lexicalOptions: LexicalOptions;
  hnsw: HnswParameters;
  maxPassageChars: number;
  /** Every article after the update, with its source hash: stored ones absent here are removed. */
  articles: readonly ArticleRecord[];
  /** Passages of the articles whose hash is new or changed, labelled from the stored `nextLabel` on. */
  passages: readonly IndexedPassage[];
  /** One vector per passage (a zero vector for a text the model knows no word of); null when lexical. */
  vectors: readonly Float32Array[] | null;
  /** Label after the last passage. */
  nextLabel: number;
}

export type WriteStage = 'articles' | 'passages' | 'terms' | 'indexes';

export interface WriteOptions {
  /** Passages per insert statement (default 500; fewer when their text is long). */
  batchPassages?: number;
  /** Called after each batch, inside the transaction. */
  onProgress?: (stage: WriteStage, done: number, total: number) => void;
  /** Build pg_textsearch's bm25 index when the server has the extension (default true). */
  textsearch?: boolean;
  /** Vacuum and analyse the tables after committing (default true); see `tidy`. */
  vacuum?: boolean;
}

export interface WriteReport {
  generation: number;
  articles: number;
  passages: number;
  postings: number;
  terms: number;
  textsearch: boolean;
  timingsMs: { analyse: number; insert: number; indexes: number; total: number };
}

export interface UpdateReport {
  generation: number;
  /** Nothing changed: nothing was written and the generation stayed. */
  upToDate: boolean;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
  passagesAdded: number;
  passagesRemoved: number;
  timingsMs: { total: number };
}

/** About 4 MB of passage text per insert statement at most. */
const MAX_BATCH_CHARS = 4_000_000;
const POSTINGS_PER_INSERT = 20_000;
const TERMS_PER_INSERT = 20_000;

interface MetaRow {
  generation: string;
  built: boolean;
  mode: RetrievalMode | null;
  mode_reason: string | null;
  embedding: EmbedderFingerprint | null;
  lexical: { bm25: Bm25Parameters; titleBoost: number } | null;
  hnsw: HnswParameters | null;
  max_passage_chars: number | null;
  parser_version: number | null;
  next_label: number;
  article_count: number;
  passage_count: number;
  text_length_total: string;
  title_length_total: string;
  textsearch: boolean;
  updated_at: Date;
}

function metaFromRow(row: MetaRow): PgIndexMeta {
  return {
    generation: Number(row.generation),
    built: row.built,
    mode: row.mode,
    ...(row.mode_reason === null ? {} : { modeReason: row.mode_reason }),
    embedding: row.embedding,
    lexical: row.lexical,
    hnsw: row.hnsw,
    maxPassageChars: row.max_passage_chars,
    parserVersion: row.parser_version,
    nextLabel: row.next_label,
    articleCount: row.article_count,
    passageCount: row.passage_count,
    textLengthTotal: Number(row.text_length_total),
    titleLengthTotal: Number(row.title_length_total),
    textsearch: row.textsearch,
    updatedAt: row.updated_at.toISOString(),
  };
}

/**
 * Refuses to write a schema that another process migrated past this code since it opened the database:
 * it would write rows without what the newer schema keeps beside them (a writer holds the metadata row's
 * lock, so no migration can come in between this check and its commit).
 */
async function checkSchemaVersion(client: pg.PoolClient, db: PgDatabase): Promise<void> {
  const found = await client.query<{ version: number }>(`SELECT coalesce(max(version), 0)::integer AS version FROM ${db.tables.version}`);
  const version = found.rows[0]?.version ?? 0;
  if (version > SCHEMA_VERSION)
    throw new SchemaTooNew(
      `The index database at ${db.location} (schema ${db.tables.schema}) was migrated to schema version ${version} after this process opened it; this citebot writes version ${SCHEMA_VERSION}. Update citebot before writing to it.`,
    );
}

async function readMeta(client: pg.Pool | pg.PoolClient, tables: Tables, lock = false): Promise<PgIndexMeta> {
  const result = await client.query<MetaRow>(`SELECT * FROM ${tables.index}${lock ? ' FOR UPDATE' : ''}`);
  const row = result.rows[0];
  if (!row) throw new Error(`${tables.index} has no row; the schema is damaged`);
  return metaFromRow(row);
}

/** Postings of a batch of passages, as the columns of one insert, with the term ids they use. */
class PostingsBuffer {
  termIds: number[] = [];
  fields: number[] = [];
  labels: number[] = [];
  tfs: number[] = [];
  lengths: number[] = [];
  written = 0;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly tables: Tables,
  ) {}

  push(termId: number, field: number, label: number, tf: number, length: number): void {
    this.termIds.push(termId);
    this.fields.push(field);
    this.labels.push(label);
    this.tfs.push(tf);
    this.lengths.push(length);
  }

  async flush(force = false): Promise<void> {
    if (this.termIds.length === 0 || (!force && this.termIds.length < POSTINGS_PER_INSERT)) return;
    await this.client.query(
      `INSERT INTO ${this.tables.postings} (term_id, field, label, tf, length) SELECT * FROM unnest($1::integer[], $2::smallint[], $3::integer[], $4::integer[], $5::integer[])`,
      [this.termIds, this.fields, this.labels, this.tfs, this.lengths],
    );
    this.written += this.termIds.length;
    this.termIds = [];
    this.fields = [];
    this.labels = [];
    this.tfs = [];
    this.lengths = [];
  }
}

/**
 * Term ids and document frequency changes while a write analyses passages: ids of stored terms are
 * given to it, new terms are numbered on from `nextId`.
 */
class Vocabulary {
  readonly ids = new Map<string, number>();
  /** Per term id: change of its text and title document frequency. */
  readonly dfChange = new Map<number, [number, number]>();
  /** Terms first seen in this write, with their ids. */
  readonly added = new Map<string, number>();

  constructor(private nextId: number) {}

  id(term: string): number {
    let id = this.ids.get(term);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(term, id);
      this.added.set(term, id);
    }
    return id;
  }

  count(id: number, field: number, change: number): void {
    const entry = this.dfChange.get(id) ?? [0, 0];
    entry[field] = entry[field]! + change;
    this.dfChange.set(id, entry);
  }
}

/** Batches of passages whose text stays under `MAX_BATCH_CHARS`. */
function* batches(passages: readonly IndexedPassage[], size: number): Generator<[number, number]> {
  let from = 0;
  while (from < passages.length) {
    let to = from;
    let chars = 0;
    while (to < passages.length && to - from < size && (to === from || chars + passages[to]!.text.length <= MAX_BATCH_CHARS)) {
      chars += passages[to]!.text.length;
      to += 1;
    }
    yield [from, to];
    from = to;
  }
}

/**
 * Inserts passages with their postings, taking each one's terms from `termsOf` batch by batch (a full
 * write analyses them there, so memory stays bounded at any size). Returns the term count totals of both
 * fields.
 */
async function insertPassages(
  client: pg.PoolClient,
  tables: Tables,
  passages: readonly IndexedPassage[],
  vectorOf: (i: number) => Float32Array | undefined,
  termsOf: (i: number) => PassageTerms,
  vocabulary: Vocabulary,
  options: WriteOptions,
  timings: { analyse: number; insert: number },
): Promise<{ textLength: number; titleLength: number; postings: number }> {
  const postings = new PostingsBuffer(client, tables);
  let textLength = 0;
  let titleLength = 0;
  for (const [from, to] of batches(passages, options.batchPassages ?? 500)) {
    const analyseStarted = performance.now();
    const batch = passages.slice(from, to);
    const extras: PassageExtras[] = batch.map((passage, j) => {
      const terms = termsOf(from + j);
      // Ids in the order the in-memory index gives them: text terms as first met, then title terms.
      for (const [term, tf] of terms.text) {
        const id = vocabulary.id(term);
        postings.push(id, TEXT_FIELD, passage.label, tf, terms.textLength);
        vocabulary.count(id, TEXT_FIELD, 1);
      }
      for (const [term, tf] of terms.title) {
        const id = vocabulary.id(term);
        postings.push(id, TITLE_FIELD, passage.label, tf, terms.titleLength);
        vocabulary.count(id, TITLE_FIELD, 1);
      }
      textLength += terms.textLength;
      titleLength += terms.titleLength;
      const vector = vectorOf(from + j);
      return {
        textLength: terms.textLength,
        titleLength: terms.titleLength,
        vector: vector && !isZeroVector(vector) ? vector : undefined,
        analysed: { sentences: terms.sentenceStems, title: terms.titleTerms },
      };
    });
    timings.analyse += performance.now() - analyseStarted;
    const insertStarted = performance.now();
    await client.query(`INSERT INTO ${tables.passages} (${PASSAGE_COLUMNS}) ${PASSAGE_SELECT}`, passageColumns(batch, extras));
    await postings.flush();
    timings.insert += performance.now() - insertStarted;
    options.onProgress?.('passages', to, passages.length);
  }
  const insertStarted = performance.now();
  await postings.flush(true);
  timings.insert += performance.now() - insertStarted;
  return { textLength, titleLength, postings: postings.written };
}

/** Inserts new terms and applies document frequency changes to stored ones. */
async function writeTerms(client: pg.PoolClient, tables: Tables, vocabulary: Vocabulary, options: WriteOptions): Promise<void> {
  const fresh: Array<[number, string, number, number]> = [];
  for (const [term, id] of vocabulary.added) {
    const [text, title] = vocabulary.dfChange.get(id) ?? [0, 0];
    fresh.push([id, term, text, title]);
  }
  const addedIds = new Set(vocabulary.added.values());
  const changed: Array<[number, number, number]> = [];
  for (const [id, [text, title]] of vocabulary.dfChange)
    if (!addedIds.has(id) && (text !== 0 || title !== 0)) changed.push([id, text, title]);
  for (let from = 0; from < fresh.length; from += TERMS_PER_INSERT) {
    const rows = fresh.slice(from, from + TERMS_PER_INSERT);
    await client.query(
      `INSERT INTO ${tables.terms} (id, term, text_df, title_df) SELECT * FROM unnest($1::integer[], $2::text[], $3::integer[], $4::integer[])`,
      [rows.map((row) => row[0]), rows.map((row) => row[1]), rows.map((row) => row[2]), rows.map((row) => row[3])],
    );
    options.onProgress?.('terms', from + rows.length, fresh.length);
  }
  for (let from = 0; from < changed.length; from += TERMS_PER_INSERT) {
    const rows = changed.slice(from, from + TERMS_PER_INSERT);
    await client.query(
      `UPDATE ${tables.terms} AS t SET text_df = t.text_df + c.text, title_df = t.title_df + c.title
       FROM unnest($1::integer[], $2::integer[], $3::integer[]) AS c(id, text, title) WHERE t.id = c.id`,
      [rows.map((row) => row[0]), rows.map((row) => row[1]), rows.map((row) => row[2])],
    );
  }
}

async function insertArticles(
  client: pg.PoolClient,
  tables: Tables,
  articles: readonly ArticleRecord[],
  options: WriteOptions,
): Promise<void> {
  const size = 5_000;
  for (let from = 0; from < articles.length; from += size) {
    const batch = articles.slice(from, from + size);
    await client.query(`INSERT INTO ${tables.articles} (${ARTICLE_COLUMNS}) SELECT * FROM ${ARTICLE_UNNEST}`, articleColumns(batch));
    options.onProgress?.('articles', from + batch.length, articles.length);
  }
}

/** Whether pg_textsearch can be used here: created now if the server has it and this user may. */
async function enableTextsearch(client: pg.PoolClient): Promise<boolean> {
  const installed = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_textsearch'`);
  if (installed.rowCount) return true;
  const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_textsearch'`);
  if (!available.rowCount) return false;
  // It needs shared_preload_libraries on a real server; a failure here must not abort the write.
  await client.query('SAVEPOINT citebot_textsearch');
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_textsearch');
    await client.query('RELEASE SAVEPOINT citebot_textsearch');
    return true;
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT citebot_textsearch');
    return false;
  }
}

/** Builds the bm25 index on passage text, if pg_textsearch will; false when it will not. */
async function buildTextsearchIndex(client: pg.PoolClient, tables: Tables, bm25: Bm25Parameters): Promise<boolean> {
  if (!(await enableTextsearch(client))) return false;
  await client.query('SAVEPOINT citebot_bm25_index');
  try {
    await client.query(
      `CREATE INDEX ${tables.indexNames.bm25} ON ${tables.passages} USING bm25 (text) WITH (text_config = 'english', k1 = ${Number(bm25.k)}, b = ${Number(bm25.b)})`,
    );
    await client.query('RELEASE SAVEPOINT citebot_bm25_index');
    return true;
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT citebot_bm25_index');
    return false;
  }
}

function checkAnalyzer(options: LexicalOptions): void {
  if (options.analyze)
    throw new Error(
      'The Postgres store indexes with citebot’s own analyser (stemmed content words); an index built with another `analyze` cannot be stored in it.',
    );
}

/** Replaces the whole index with `contents`, in one transaction. */
async function writeIndex(db: PgDatabase, contents: PgWriteContents, options: WriteOptions = {}): Promise<WriteReport> {
  checkAnalyzer(contents.lexicalOptions);
  const { tables } = db;
  const started = performance.now();
  const dimension = contents.vectors ? (contents.embedding?.dimension ?? contents.vectors.dimension) : null;
  if (dimension !== null && (!Number.isInteger(dimension) || dimension <= 0 || dimension > 16_000))
    throw new Error(`cannot store vectors of dimension ${dimension}`);
  const titles = new Map(contents.articles.map((article) => [article.file, article.title]));
  const timings = { analyse: 0, insert: 0, indexes: 0 };
  const passages = [...contents.passages].sort((a, b) => a.label - b.label);
  const report = await withTransaction(db.pool, async (client) => {
    const previous = await readMeta(client, tables, true);
    await checkSchemaVersion(client, db);
    const insertStarted = performance.now();
    const names = tables.indexNames;
    for (const name of [names.hnsw, names.bm25, names.postingsKey, names.postingsLabel])
      await client.query(`DROP INDEX IF EXISTS ${tables.schemaSql}.${name}`);
    await client.query(`TRUNCATE ${tables.postingBlocks}, ${tables.postings}, ${tables.terms}, ${tables.passages}, ${tables.articles}`);
    await client.query(
      `ALTER TABLE ${tables.passages} ALTER COLUMN embedding TYPE ${dimension === null ? 'vector' : `vector(${dimension})`}`,
    );
    await insertArticles(client, tables, contents.articles, options);
    timings.insert += performance.now() - insertStarted;

    const vocabulary = new Vocabulary(0);
    const lengths = await insertPassages(
      client,
      tables,
      passages,
      (i) => contents.vectors?.vector(passages[i]!.label),
      (i) => passageTerms(passages[i]!, titles.get(passages[i]!.file) ?? '', contents.lexicalOptions.analyze),
      vocabulary,
      options,
      timings,
    );
    const termsStarted = performance.now();
    await writeTerms(client, tables, vocabulary, options);
    timings.insert += performance.now() - termsStarted;

    const indexesStarted = performance.now();
    await client.query(`CREATE UNIQUE INDEX ${names.postingsKey} ON ${tables.postings} (term_id, field, label) INCLUDE (tf, length)`);
    await client.query(`CREATE INDEX ${names.postingsLabel} ON ${tables.postings} (label)`);
    await client.query(packBlocksSql(tables, ''));
    if (dimension !== null) {
      // The graph of 100k 100-d vectors takes about 100 MB; built in memory it is several times faster.
      await client.query(`SET LOCAL maintenance_work_mem = '256MB'`);
      await client.query(
        `CREATE INDEX ${names.hnsw} ON ${tables.passages} USING hnsw (embedding vector_cosine_ops) WITH (m = ${Math.trunc(contents.hnsw.m)}, ef_construction = ${Math.trunc(contents.hnsw.efConstruction)})`,
      );
    }
    options.onProgress?.('indexes', 1, 2);
    const textsearch = options.textsearch !== false && (await buildTextsearchIndex(client, tables, contents.lexicalOptions.bm25));
    options.onProgress?.('indexes', 2, 2);
    timings.indexes = performance.now() - indexesStarted;

    const generation = previous.generation + 1;
    await client.query(
      `UPDATE ${tables.index} SET generation = $1, built = true, mode = $2, mode_reason = $3, embedding = $4, lexical = $5, hnsw = $6,
         max_passage_chars = $7, parser_version = $8, next_label = $9, article_count = $10, passage_count = $11,
         text_length_total = $12, title_length_total = $13, textsearch = $14, updated_at = now()`,
      [
        generation,
        contents.mode,
        contents.modeReason ?? null,
        JSON.stringify(contents.embedding),
        JSON.stringify({ bm25: contents.lexicalOptions.bm25, titleBoost: contents.lexicalOptions.titleBoost }),
        JSON.stringify(contents.hnsw),
        contents.maxPassageChars,
        PARSER_VERSION,
        contents.nextLabel,
        contents.articles.length,
        passages.length,
        lengths.textLength,
        lengths.titleLength,
        textsearch,
      ],
    );
    return {
      generation,
      articles: contents.articles.length,
      passages: passages.length,
      postings: lengths.postings,
      terms: vocabulary.ids.size,
      textsearch,
      timingsMs: { ...timings, total: performance.now() - started },
    };
  });
  if (options.vacuum !== false) await tidy(db);
  return report;
}

/**
 * VACUUM (ANALYZE) after a write: it marks the new pages all-visible, so BM25 reads postings by
 * index-only scans (twice as fast at 10k passages here), and gives the planner the new row counts.
 * A server's autovacuum would do it too, later; PGlite has none. VACUUM cannot run inside the write's
 * transaction, and failing (a role that does not own the tables) only costs speed.
 */
async function tidy(db: PgDatabase): Promise<void> {
  const { tables } = db;
  await db.pool
    .query(`VACUUM (ANALYZE) ${tables.postingBlocks}, ${tables.postings}, ${tables.passages}, ${tables.terms}, ${tables.articles}`)
    .catch(() => {});
}

const FINGERPRINT_KEYS = ['model', 'dimension', 'pooling', 'dtype', 'queryPrefix', 'passagePrefix'] as const;

/** A setting's value in a message: strings quoted, so that an empty prefix shows. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** `name a → b` for each of `keys` that differs between `stored` and `wanted`. */
function changedKeys<T extends object>(stored: T, wanted: T, keys: ReadonlyArray<keyof T & string>): string[] {
  return keys.filter((key) => stored[key] !== wanted[key]).map((key) => `${key} ${shown(stored[key])} → ${shown(wanted[key])}`);
}

/**
 * Why `update` cannot go into the index `meta` describes, or undefined when it can: the setup it was made
 * with differs from the one the stored rows were written with. The same comparisons as src/index/changes.ts
 * `setupChange` makes for the local store's manifest (written here because that one takes a whole
 * manifest, and its reasons speak of rebuilding); each parameter is compared by itself, since jsonb does
 * not keep the key order a JSON comparison would depend on.
 */
export function setupDifference(
  meta: PgIndexMeta,
  update: Pick<IndexUpdate, 'embedding' | 'lexicalOptions' | 'hnsw' | 'maxPassageChars'>,
): string | undefined {
  const stored = meta.embedding;
  const wanted = update.embedding;
  if (stored === null && wanted !== null) return 'the index is lexical-only and the update has embeddings';
  if (stored !== null && wanted === null) return `the index has embeddings (${stored.model}) and the update has none`;
  if (stored !== null && wanted !== null) {
    const embedding = changedKeys(stored, wanted, FINGERPRINT_KEYS);
    if (embedding.length > 0)
      return `the embedding setup changed (${embedding.join(', ')}): new vectors could not be compared with the stored ones`;
  }
  if (meta.lexical) {
    const bm25 = changedKeys(meta.lexical.bm25, update.lexicalOptions.bm25, ['k', 'b', 'd']);
    if (meta.lexical.titleBoost !== update.lexicalOptions.titleBoost)
      bm25.push(`titleBoost ${meta.lexical.titleBoost} → ${update.lexicalOptions.titleBoost}`);
    if (bm25.length > 0) return `the BM25 parameters changed (${bm25.join(', ')}): the index would go on scoring with the stored ones`;
  }
  // efSearch is left out: here it is no property of what was written but a setting of each search
  // (`openDatabase(…, { efSearch })`), so it cannot make an update's rows differ from the stored ones.
  if (meta.hnsw) {
    const hnsw = changedKeys(meta.hnsw, update.hnsw, ['m', 'efConstruction']);
    if (hnsw.length > 0) return `the HNSW parameters changed (${hnsw.join(', ')}): the stored graph was built with the old ones`;
  }
  if (meta.maxPassageChars !== update.maxPassageChars)
    return `the passage size changed (${meta.maxPassageChars} → ${update.maxPassageChars} characters): new passages would be split unlike the stored ones`;
  if (meta.parserVersion !== PARSER_VERSION)
    return `the article parser changed (version ${meta.parserVersion} → ${PARSER_VERSION}): new articles would be read unlike the stored ones`;
  return undefined;
}

/** Packs the given posting blocks again from the postings (an update's: the blocks whose labels it touched). */
async function repackBlocks(
  client: pg.PoolClient,
  tables: Tables,
  blocks: ReadonlyArray<{ term_id: number; field: number; block: number }>,
): Promise<void> {
  if (blocks.length === 0) return;
  const keys = [blocks.map((one) => one.term_id), blocks.map((one) => one.field), blocks.map((one) => one.block)];
  await client.query(
    `DELETE FROM ${tables.postingBlocks} AS b USING unnest($1::integer[], $2::smallint[], $3::integer[]) AS k(term_id, field, block)
     WHERE b.term_id = k.term_id AND b.field = k.field AND b.block = k.block`,
    keys,
  );
  await client.query(
    packBlocksSql(
      tables,
      `JOIN (SELECT DISTINCT * FROM unnest($1::integer[], $2::smallint[], $3::integer[]) AS k(term_id, field, block)) AS k
         ON p.term_id = k.term_id AND p.field = k.field AND p.label BETWEEN k.block * ${BLOCK_LABELS} AND k.block * ${BLOCK_LABELS} + ${BLOCK_LABELS - 1}`,
    ),
    keys,
  );
}

/** Applies an update by source hash, in one transaction; nothing is written when nothing changed. */
async function updateIndex(db: PgDatabase, update: IndexUpdate, options: WriteOptions = {}): Promise<UpdateReport> {
  const { tables } = db;
  const started = performance.now();
  const updated = await withTransaction(db.pool, async (client) => {
    const meta = await readMeta(client, tables, true);
    await checkSchemaVersion(client, db);
    if (!meta.built) throw new IndexMissing(`No index in ${db.location} yet: write it in full first.`);
    checkAnalyzer(update.lexicalOptions);
    const difference = setupDifference(meta, update);
    if (difference)
      throw new Error(
        `Cannot update the index in ${db.location}: ${difference}. An update only adds and removes rows under the stored setup; write the index in full instead.`,
      );
    if (update.vectors && update.vectors.length !== update.passages.length) throw new Error('an update needs one vector per passage');

    const stored = await client.query<{ file: string; hash: string; size: string | null; mtime_ms: number | null }>(
      `SELECT file, hash, size, mtime_ms FROM ${tables.articles}`,
    );
    const storedByFile = new Map(stored.rows.map((row) => [row.file, row]));
    const wanted = new Map(update.articles.map((article) => [article.file, article]));
    const added: string[] = [];
    const changed: string[] = [];
    const restamped: ArticleRecord[] = [];
    for (const article of update.articles) {
      const row = storedByFile.get(article.file);
      if (!row) added.push(article.file);
      else if (row.hash !== article.hash) changed.push(article.file);
      else if ((row.size === null ? undefined : Number(row.size)) !== article.size || (row.mtime_ms ?? undefined) !== article.mtimeMs)
        restamped.push(article);
    }
    const removed = [...storedByFile.keys()].filter((file) => !wanted.has(file));
    const report = (generation: number, passagesAdded: number, passagesRemoved: number): UpdateReport => ({
      generation,
      upToDate: generation === meta.generation,
      added,
      changed,
      removed,
      unchanged: update.articles.length - added.length - changed.length,
      passagesAdded,
      passagesRemoved,
      timingsMs: { total: performance.now() - started },
    });

    // A touched file that kept its hash only gets its new size and time, so the next scan need not read it;
    // what search sees is unchanged, so the generation stays.
    if (restamped.length > 0)
      await client.query(
        `UPDATE ${tables.articles} AS a SET size = r.size, mtime_ms = r.mtime_ms FROM unnest($1::text[], $2::bigint[], $3::float8[]) AS r(file, size, mtime_ms) WHERE a.file = r.file`,
        [
          restamped.map((article) => article.file),
          restamped.map((article) => article.size ?? null),
          restamped.map((article) => article.mtimeMs ?? null),
        ],
      );
    if (added.length + changed.length + removed.length === 0) return report(meta.generation, 0, 0);

    const fresh = new Set([...added, ...changed]);
    const replaced = [...changed, ...removed];
    const freshIndexes: number[] = [];
    update.passages.forEach((passage, i) => {
      if (fresh.has(passage.file)) freshIndexes.push(i);
    });
    const freshPassages = freshIndexes.map((i) => update.passages[i]!);
    const below = freshPassages.find((passage) => passage.label < meta.nextLabel);
    if (below) throw new Error(`passage ${below.id} has label ${below.label}; new passages are labelled from ${meta.nextLabel} on`);

    // Analysed once: the terms give the ids to look up here, then the postings inserted below.
    const analysed: Array<PassageTerms | undefined> = freshPassages.map((passage) =>
      passageTerms(passage, wanted.get(passage.file)?.title ?? ''),
    );
    // Known terms keep their ids; new ones are numbered after the highest.
    const termsUsed = new Set<string>();
    for (const terms of analysed) {
      for (const term of terms!.text.keys()) termsUsed.add(term);
      for (const term of terms!.title.keys()) termsUsed.add(term);
    }
    const known = await client.query<{ id: number; term: string }>(`SELECT id, term FROM ${tables.terms} WHERE term = ANY($1::text[])`, [
      [...termsUsed],
    ]);
    const highest = await client.query<{ id: number }>(`SELECT coalesce(max(id), -1)::integer AS id FROM ${tables.terms}`);
    const vocabulary = new Vocabulary(highest.rows[0]!.id + 1);
    for (const row of known.rows) vocabulary.ids.set(row.term, row.id);

    // The withdrawn passages' terms and lengths come off the statistics before their postings go.
    const withdrawn = await client.query<{ label: number; text_length: number; title_length: number }>(
      `SELECT label, text_length, title_length FROM ${tables.passages} WHERE file = ANY($1::text[])`,
      [replaced],
    );
    const withdrawnLabels = withdrawn.rows.map((row) => row.label);
    let textLength = -withdrawn.rows.reduce((sum, row) => sum + row.text_length, 0);
    let titleLength = -withdrawn.rows.reduce((sum, row) => sum + row.title_length, 0);
    // The posting blocks holding a withdrawn or a new passage are packed again once the postings changed.
    const repack: Array<{ term_id: number; field: number; block: number }> = [];
    if (withdrawnLabels.length > 0) {
      const counts = await client.query<{ term_id: number; field: number; block: number; passages: number }>(
        `SELECT term_id, field, label / ${BLOCK_LABELS} AS block, count(*)::integer AS passages FROM ${tables.postings}
         WHERE label = ANY($1::integer[]) GROUP BY term_id, field, label / ${BLOCK_LABELS}`,
        [withdrawnLabels],
      );
      for (const row of counts.rows) vocabulary.count(row.term_id, row.field, -row.passages);
      repack.push(...counts.rows);
      await client.query(`DELETE FROM ${tables.postings} WHERE label = ANY($1::integer[])`, [withdrawnLabels]);
    }
    // Passages follow their article (ON DELETE CASCADE).
    await client.query(`DELETE FROM ${tables.articles} WHERE file = ANY($1::text[])`, [replaced]);
    await insertArticles(
      client,
      tables,
      update.articles.filter((article) => fresh.has(article.file)),
      options,
    );
    const lengths = await insertPassages(
      client,
      tables,
      freshPassages,
      (i) => update.vectors?.[freshIndexes[i]!],
      (i) => {
        // Each passage's terms are needed once more, then let go.
        const terms = analysed[i]!;
        analysed[i] = undefined;
        return terms;
      },
      vocabulary,
      options,
      { analyse: 0, insert: 0 },
    );
    textLength += lengths.textLength;
    titleLength += lengths.titleLength;
    await writeTerms(client, tables, vocabulary, options);
    if (freshPassages.length > 0) {
      const added = await client.query<{ term_id: number; field: number; block: number }>(
        `SELECT DISTINCT term_id, field, label / ${BLOCK_LABELS} AS block FROM ${tables.postings} WHERE label = ANY($1::integer[])`,
        [freshPassages.map((passage) => passage.label)],
      );
      repack.push(...added.rows);
    }
    await repackBlocks(client, tables, repack);

    const generation = meta.generation + 1;
    const passageCount = meta.passageCount - withdrawnLabels.length + freshPassages.length;
    await client.query(
      `UPDATE ${tables.index} SET generation = $1, next_label = greatest(next_label, $2), article_count = $3, passage_count = $4,
         text_length_total = text_length_total + $5, title_length_total = title_length_total + $6, updated_at = now()`,
      [generation, update.nextLabel, update.articles.length, passageCount, textLength, titleLength],
    );
    return report(generation, freshPassages.length, withdrawnLabels.length);
  });
  if (!updated.upToDate && options.vacuum !== false) await tidy(db);
  return updated;
}

/** The index in a Postgres database: its writes, and its records read back. */
export interface PgIndexStore {
  readonly location: string;
  /** The metadata row; `built` is false until the first full write. */
  meta(): Promise<PgIndexMeta>;
  /** The current generation: cheap enough to poll, it changes with every write. */
  generation(): Promise<number>;
  write(contents: PgWriteContents, options?: WriteOptions): Promise<WriteReport>;
  update(update: IndexUpdate, options?: WriteOptions): Promise<UpdateReport>;
  /** Every article, by file name. */
  articles(): Promise<ArticleRecord[]>;
  /** Passages by label, all of them or those of `labels`. */
  passages(labels?: readonly number[]): Promise<IndexedPassage[]>;
}

export function pgIndexStore(db: PgDatabase): PgIndexStore {
  const { tables } = db;
  return {
    location: db.location,
    meta: () => readMeta(db.pool, tables),
    generation: async () => {
      const result = await db.pool.query<{ generation: string }>(`SELECT generation FROM ${tables.index}`);
      return Number(result.rows[0]?.generation ?? 0);
    },
    write: (contents, options) => writeIndex(db, contents, options),
    update: (update, options) => updateIndex(db, update, options),
    articles: async () => {
      const result = await db.pool.query<ArticleRow>(`SELECT ${ARTICLE_COLUMNS} FROM ${tables.articles} ORDER BY file`);
      return result.rows.map(articleFromRow);
    },
    passages: async (labels) => {
      const result = labels
        ? await db.pool.query<PassageRow>(
            `SELECT ${PASSAGE_ROW_COLUMNS} FROM ${tables.passages} WHERE label = ANY($1::integer[]) ORDER BY label`,
            [labels],
          )
        : await db.pool.query<PassageRow>(`SELECT ${PASSAGE_ROW_COLUMNS} FROM ${tables.passages} ORDER BY label`);
      return result.rows.map(passageFromRow);
    },
  };
}
