/**
 * The index in Postgres: table names and the numbered migrations that create them. A migration is a
 * list of statements applied once, in order, in one transaction (see ./migrations.ts); a released
 * migration is never edited, a change is a new one.
 *
 * - `citebot_index`: one row, the manifest's equivalent: generation (bumped by every write; readers poll
 *   it), mode, embedder fingerprint, BM25 and HNSW parameters, next label, and the corpus statistics BM25
 *   needs (passage count, total term count per field).
 * - `citebot_articles`: an ArticleRecord per source file, with its content hash.
 * - `citebot_passages`: an IndexedPassage per label, the term count of its two lexical fields, its
 *   embedding (`vector`, given its dimension by a full write; NULL when the model knew none of its words),
 *   and (from version 2) its terms as analysed when written, sentence by sentence, and its headline's.
 * - `citebot_terms`: the vocabulary with each term's document frequency per field.
 * - `citebot_postings`: (term, field, label) → term frequency, with the field's length for that passage
 *   so BM25 reads no other table; field 0 is the passage text, 1 the headline and section heading.
 * - `citebot_posting_blocks` (from version 3): the same postings packed per term, field and block of
 *   labels, which is what a question reads; every write repacks the blocks it touched.
 */

/**
 * Lower-case, so that the quoted name (always used in SQL, see `quoteIdentifier`) is the one Postgres
 * folds an unquoted one to: `citebot_x` and `"citebot_x"` are the same schema to psql and to citebot.
 * Reserved words (`user`, `order`, `select`) are fine quoted. At most 30 bytes, well within Postgres's 63.
 */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,29}$/;

/** Why `schema` cannot name the index's schema; undefined when it can. */
export function schemaNameProblem(schema: string): string | undefined {
  if (!SCHEMA_NAME.test(schema)) return 'expected lower-case letters, digits and _, at most 30';
  if (schema.startsWith('pg_')) return 'Postgres keeps names beginning with pg_ for its own schemas';
  return undefined;
}

/** `name` as an SQL identifier: quoted, so that a reserved word or any other name means itself. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Qualified names of the index's tables and indexes in one Postgres schema. */
export interface Tables {
  /** The schema's name, as the catalogues (`pg_namespace.nspname`) and messages have it. */
  schema: string;
  /** The schema's name as SQL statements write it (quoted). */
  schemaSql: string;
  /** Qualified and quoted table names, ready to go into SQL. */
  version: string;
  index: string;
  articles: string;
  passages: string;
  terms: string;
  postings: string;
  postingBlocks: string;
  /** Unqualified names of the indexes a full write drops and builds again around its bulk load. */
  indexNames: { postingsKey: string; postingsLabel: string; hnsw: string; bm25: string };
}

/** The table names in `schema`, quoted wherever they go into SQL. */
export function tablesIn(schema: string): Tables {
  const problem = schemaNameProblem(schema);
  if (problem) throw new Error(`"${schema}" cannot name the index's Postgres schema (${problem})`);
  const schemaSql = quoteIdentifier(schema);
  return {
    schema,
    schemaSql,
    version: `${schemaSql}.citebot_schema_version`,
    index: `${schemaSql}.citebot_index`,
    articles: `${schemaSql}.citebot_articles`,
    passages: `${schemaSql}.citebot_passages`,
    terms: `${schemaSql}.citebot_terms`,
    postings: `${schemaSql}.citebot_postings`,
    postingBlocks: `${schemaSql}.citebot_posting_blocks`,
    indexNames: {
      postingsKey: 'citebot_postings_key',
      postingsLabel: 'citebot_postings_label',
      hnsw: 'citebot_passages_embedding_hnsw',
      bm25: 'citebot_passages_text_bm25',
    },
  };
}

export interface Migration {
  version: number;
  description: string;
  statements: (tables: Tables) => string[];
}

/** Field numbers in `citebot_postings`. */
export const TEXT_FIELD = 0;
export const TITLE_FIELD = 1;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'articles, passages with embeddings, postings and term statistics, index metadata',
    statements: (t) => [
      `CREATE TABLE ${t.index} (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        generation bigint NOT NULL DEFAULT 0,
        built boolean NOT NULL DEFAULT false,
        mode text CHECK (mode IN ('hybrid', 'lexical')),
        mode_reason text,
        embedding jsonb,
        lexical jsonb,
        hnsw jsonb,
        max_passage_chars integer,
        parser_version integer,
        next_label integer NOT NULL DEFAULT 0,
        article_count integer NOT NULL DEFAULT 0,
        passage_count integer NOT NULL DEFAULT 0,
        text_length_total bigint NOT NULL DEFAULT 0,
        title_length_total bigint NOT NULL DEFAULT 0,
        textsearch boolean NOT NULL DEFAULT false,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `INSERT INTO ${t.index} DEFAULT VALUES`,
      `CREATE TABLE ${t.articles} (
        file text PRIMARY KEY,
        hash text NOT NULL,
        title text NOT NULL,
        title_source text NOT NULL,
        outlet text,
        byline text,
        date text,
        url text,
        lang text,
        paragraph_count integer NOT NULL,
        size bigint,
        mtime_ms double precision
      )`,
      `CREATE TABLE ${t.passages} (
        label integer PRIMARY KEY,
        file text NOT NULL REFERENCES ${t.articles} (file) ON DELETE CASCADE,
        id text NOT NULL,
        paragraph integer NOT NULL,
        text text NOT NULL,
        start_offset integer NOT NULL,
        end_offset integer NOT NULL,
        sentences jsonb NOT NULL,
        section text,
        text_length integer NOT NULL,
        title_length integer NOT NULL,
        embedding vector
      )`,
      `CREATE INDEX citebot_passages_file ON ${t.passages} (file)`,
      `CREATE TABLE ${t.terms} (
        id integer PRIMARY KEY,
        term text NOT NULL UNIQUE,
        text_df integer NOT NULL DEFAULT 0,
        title_df integer NOT NULL DEFAULT 0
      )`,
      `CREATE TABLE ${t.postings} (
        term_id integer NOT NULL,
        field smallint NOT NULL CHECK (field IN (${TEXT_FIELD}, ${TITLE_FIELD})),
        label integer NOT NULL,
        tf integer NOT NULL,
        length integer NOT NULL
      )`,
      `CREATE UNIQUE INDEX ${t.indexNames.postingsKey} ON ${t.postings} (term_id, field, label) INCLUDE (tf, length)`,
      `CREATE INDEX ${t.indexNames.postingsLabel} ON ${t.postings} (label)`,
    ],
  },
  {
    version: 2,
    description: 'each passage with its terms as analysed when written, so a question does not analyse its candidates again',
    // Sentences' stems on one line each, separated by spaces (a stem holds neither); the headline field's
    // terms likewise. NULL for rows written before: those are analysed when read.
    statements: (t) => [`ALTER TABLE ${t.passages} ADD COLUMN sentence_terms text, ADD COLUMN title_terms text`],
  },
  {
    version: 3,
    description: 'postings packed per term, field and block of labels, so a question reads bytes instead of rows',
    statements: (t) => [
      `CREATE TABLE ${t.postingBlocks} (
        term_id integer NOT NULL,
        field smallint NOT NULL,
        block integer NOT NULL,
        labels bytea NOT NULL,
        tfs bytea NOT NULL,
        lengths bytea NOT NULL,
        highest integer NOT NULL,
        PRIMARY KEY (term_id, field, block)
      )`,
      packBlocksSql(t, ''),
    ],
  },
];

/** Labels per posting block: an update repacks only the blocks whose labels it added or withdrew. */
export const BLOCK_LABELS = 4096;

/**
 * Packs postings into `citebot_posting_blocks`: per term, field and block of BLOCK_LABELS labels, the
 * labels, term frequencies and field lengths as big-endian int4s in label order, and the highest label.
 * `join` narrows the postings packed (an update's blocks), aliased `p`.
 */
export function packBlocksSql(t: Tables, join: string): string {
  return `INSERT INTO ${t.postingBlocks} (term_id, field, block, labels, tfs, lengths, highest)
    SELECT p.term_id, p.field, p.label / ${BLOCK_LABELS},
      string_agg(int4send(p.label), ''::bytea ORDER BY p.label),
      string_agg(int4send(p.tf), ''::bytea ORDER BY p.label),
      string_agg(int4send(p.length), ''::bytea ORDER BY p.label),
      max(p.label)
    FROM ${t.postings} AS p ${join}
    GROUP BY p.term_id, p.field, p.label / ${BLOCK_LABELS}`;
}

/** The newest schema version this code knows. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;
