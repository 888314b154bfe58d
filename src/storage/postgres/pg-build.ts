/**
 * Building the index into Postgres from a source (the seeds folder): the same scan as a local build
 * (only new and changed articles, by content hash, are parsed and embedded), written as one update by
 * source hash, or in full the first time and whenever the setup changed. One builder at a time per
 * schema: a session advisory lock, which the server releases if the builder dies.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Embedder } from '../../embedding/embedder.js';
import { EMBED_CHUNK } from '../../embedding/schedule.js';
import type { BuildOptions, BuildReport } from '../../index/build.js';
import { DEFAULT_LEXICAL_OPTIONS } from '../../index/bm25.js';
import { articleRecord, scanSource, type IndexedSources } from '../../index/changes.js';
import { DEFAULT_HNSW } from '../../index/hnsw.js';
import { MAX_PASSAGE_CHARS } from '../../ingest/passages.js';
import { byFile } from '../../ingest/source.js';
import type { ArticleRecord } from '../../model.js';
import { IndexLocked } from '../errors.js';
import type { PgDatabase } from './connection.js';
import { lockObject } from './migrations.js';
import { pgIndexStore, setupDifference, type PgIndexMeta } from './pg-store.js';

/** "buld": the advisory lock class of builds; the object is the schema's hash, as for migrations. */
const BUILD_LOCK_CLASS = 0x62756c64;

export type PgBuildOptions = Omit<BuildOptions, 'store' | 'maxDeltaPassages'>;

export type PgBuildReport = Omit<BuildReport, 'manifest' | 'index' | 'wrote'> & {
  /** What was written: the whole index, or an update of the changed articles' rows. */
  wrote?: 'full' | 'update';
  generation: number;
  meta: PgIndexMeta;
};

/** Runs `work` holding the schema's build lock; waits up to `waitMs` for another builder, then IndexLocked. */
async function withBuildLock<T>(db: PgDatabase, waitMs: number, onWait: (message: string) => void, work: () => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  const lock = `${BUILD_LOCK_CLASS}, ${lockObject(db.tables.schema)}`;
  /** Set when the lock could not be given back: that connection is closed, not pooled still holding it. */
  let unreleased: Error | undefined;
  try {
    const deadline = Date.now() + waitMs;
    let told = false;
    for (;;) {
      const result = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${lock}) AS locked`);
      if (result.rows[0]?.locked) break;
      if (Date.now() >= deadline)
        throw new IndexLocked(
          `Another process is building the index in ${db.location} (schema ${db.tables.schema}); try again when it is done.`,
        );
      if (!told) onWait(`Another process is building the index in ${db.location}; waiting for it to finish.`);
      told = true;
      await sleep(250);
    }
    try {
      return await work();
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${lock})`).catch((error: Error) => {
        unreleased = error;
      });
    }
  } finally {
    client.release(unreleased);
  }
}

/** Vectors of `texts` in chunks, with progress. */
async function embedAll(
  embedder: Embedder,
  texts: readonly string[],
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let from = 0; from < texts.length; from += EMBED_CHUNK) {
    vectors.push(...(await embedder.embed(texts.slice(from, from + EMBED_CHUNK), 'passage')));
    onProgress?.(vectors.length, texts.length);
  }
  return vectors;
}

/** The stored articles as a scan compares the source with them. */
function indexedSources(articles: readonly ArticleRecord[], meta: PgIndexMeta): IndexedSources {
  return {
    sources: articles.map((article) => ({
      file: article.file,
      sha256: article.hash,
      ...(article.size !== undefined ? { size: article.size } : {}),
      ...(article.mtimeMs !== undefined ? { mtimeMs: article.mtimeMs } : {}),
    })),
    build: { nextLabel: meta.nextLabel },
  };
}

/** Brings the index in `db` up to date with `options.source`: nothing, an update, or a full write. */
export async function buildIntoPostgres(db: PgDatabase, options: PgBuildOptions): Promise<PgBuildReport> {
  const started = performance.now();
  const warn = options.warn ?? (() => undefined);
  const store = pgIndexStore(db);
  const { embedder } = options;
  const fingerprint = embedder?.fingerprint ?? null;
  const hnsw = options.hnsw ?? DEFAULT_HNSW;
  const lexicalOptions = options.lexical ?? DEFAULT_LEXICAL_OPTIONS;
  const setup = { embedding: fingerprint, lexicalOptions, hnsw, maxPassageChars: MAX_PASSAGE_CHARS };

  // Starting up on a current index (the common case for every process but the first): no lock taken, so
  // processes starting together do not queue behind each other.
  if (options.startUp && !options.rebuild) {
    const meta = await store.meta();
    // Without a model, an index with embeddings still answers (lexically): it is kept as it is.
    const keptWithoutModel = meta.built && !embedder && meta.mode === 'hybrid';
    if (keptWithoutModel) return unchanged(meta, [], { load: 0, read: 0, total: performance.now() - started });
    if (meta.built && !setupDifference(meta, setup)) {
      const readStarted = performance.now();
      const scan = await scanSource(options.source, indexedSources(await store.articles(), meta), { chunkSize: EMBED_CHUNK });
      if (scan.fresh.length === 0 && scan.removed.length === 0) {
        for (const entry of scan.skipped) warn(`Skipped ${entry.reason}`);
        return unchanged(meta, scan.skipped, { load: 0, read: performance.now() - readStarted, total: performance.now() - started });
      }
    }
  }

  return withBuildLock(db, options.waitForLockMs ?? 0, warn, async () => {
    const loadStarted = performance.now();
    const meta = await store.meta();
    let fullReason: string | undefined = options.rebuild ? 'a rebuild was asked for' : undefined;
    let previous: { articles: ArticleRecord[]; sources: IndexedSources } | undefined;
    if (meta.built && !options.rebuild) {
      fullReason = setupDifference(meta, setup);
      if (!fullReason) {
        const articles = await store.articles();
        previous = { articles, sources: indexedSources(articles, meta) };
      }
    }
    const loadMs = performance.now() - loadStarted;

    const readStarted = performance.now();
    const scan = await scanSource(options.source, previous?.sources, { chunkSize: EMBED_CHUNK });
    for (const entry of scan.skipped) warn(`Skipped ${entry.reason}`);
    const readMs = performance.now() - readStarted;
    if (previous && scan.fresh.length === 0 && scan.removed.length === 0) {
      return unchanged(meta, scan.skipped, { load: loadMs, read: readMs, total: performance.now() - started });
    }

    const embedStarted = performance.now();
    const vectors = embedder
      ? await embedAll(
          embedder,
          scan.freshPassages.map((passage) => passage.text),
          options.onEmbedProgress,
        )
      : null;
    const embedMs = performance.now() - embedStarted;

    const kept = (previous?.articles ?? []).filter((article) => scan.keptFiles.has(article.file));
    const articles = [...kept.map((article) => articleRecord(article, scan.stamps.get(article.file))), ...scan.fresh].sort(byFile);
    const saveStarted = performance.now();
    let generation: number;
    if (previous) {
      generation = (await store.update({ ...setup, articles, passages: scan.freshPassages, vectors, nextLabel: scan.nextLabel }))
        .generation;
    } else {
      const byLabel = new Map(scan.freshPassages.map((passage, i) => [passage.label, vectors?.[i]]));
      generation = (
        await store.write({
          mode: fingerprint ? 'hybrid' : 'lexical',
          ...(fingerprint ? {} : { modeReason: options.modeReason }),
          embedding: fingerprint,
          articles,
          passages: scan.freshPassages,
          vectors: fingerprint ? { dimension: fingerprint.dimension, vector: (label) => byLabel.get(label) } : null,
          hnsw,
          lexicalOptions,
          maxPassageChars: MAX_PASSAGE_CHARS,
          nextLabel: scan.nextLabel,
        })
      ).generation;
    }
    const saveMs = performance.now() - saveStarted;
    const written = await store.meta();
    return {
      mode: written.mode ?? 'lexical',
      upToDate: false,
      wrote: previous ? 'update' : 'full',
      ...(previous ? {} : { fullRebuildReason: fullReason ?? 'there was no index yet' }),
      added: scan.added,
      changed: scan.changed,
      removed: scan.removed,
      unchanged: scan.keptFiles.size,
      skipped: scan.skipped,
      articleCount: written.articleCount,
      passageCount: written.passageCount,
      embeddedPassages: scan.freshPassages.length,
      timingsMs: { load: loadMs, read: readMs, embed: embedMs, vectors: 0, lexical: 0, save: saveMs, total: performance.now() - started },
      generation,
      meta: written,
    };
  });
}

function unchanged(
  meta: PgIndexMeta,
  skipped: PgBuildReport['skipped'],
  timings: { load: number; read: number; total: number },
): PgBuildReport {
  return {
    mode: meta.mode ?? 'lexical',
    upToDate: true,
    added: [],
    changed: [],
    removed: [],
    unchanged: meta.articleCount,
    skipped,
    articleCount: meta.articleCount,
    passageCount: meta.passageCount,
    embeddedPassages: 0,
    timingsMs: { ...timings, embed: 0, vectors: 0, lexical: 0, save: 0 },
    generation: meta.generation,
    meta,
  };
}
