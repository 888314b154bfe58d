/**
 * INDEX_STORE=postgres: the index kept in DATABASE_URL's database, in DATABASE_SCHEMA. Built from the
 * seeds folder like a local index (./pg-build.ts), opened for answering with its passages left in the
 * database (./pg-candidates.ts); processes sharing the database reopen it when its generation moves.
 */
import type { BackendReport, IndexBackend } from '../index-backend.js';
import { displayDatabaseUrl } from './database-url.js';
import { openDatabase, queryError, type PgDatabase } from './connection.js';
import { buildIntoPostgres } from './pg-build.js';
import { openPgSearchIndex, pgVersion } from './pg-candidates.js';
import { pgIndexStore, type WriteReport } from './pg-store.js';
import type { EmbedderFingerprint } from '../../embedding/embedder.js';
import { PARSER_VERSION } from '../../ingest/article.js';
import { MAX_PASSAGE_CHARS } from '../../ingest/passages.js';
import { byFile } from '../../ingest/source.js';
import type { LoadedIndex } from '../store.js';

export function postgresBackend(
  setting: { url: string; schema: string; efSearch?: number },
  options: { warn?: (message: string) => void } = {},
): IndexBackend {
  const location = `${displayDatabaseUrl(setting.url)}, schema ${setting.schema}`;
  let opening: Promise<PgDatabase> | undefined;
  /** Opened on first use, and again after a failed attempt (the server may come up later). */
  const database = () => {
    opening ??= openDatabase(setting.url, {
      schema: setting.schema,
      ...(setting.efSearch === undefined ? {} : { efSearch: setting.efSearch }),
      onIdleError: (error) => options.warn?.(`A connection to ${location} broke (${error.message}); the next query reconnects.`),
    }).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
  return {
    location,
    build: async (buildOptions): Promise<BackendReport> => {
      const { meta, generation, wrote, ...report } = await buildIntoPostgres(await database(), buildOptions);
      const notes = wrote === 'update' ? [`written as an update of the changed articles' rows (generation ${generation})`] : [];
      return {
        ...report,
        ...(wrote ? { wrote: wrote === 'full' ? 'generation' : 'update' } : {}),
        summary: {
          location,
          mode: meta.mode ?? 'lexical',
          ...(meta.modeReason ? { modeReason: meta.modeReason } : {}),
          embedding: meta.embedding,
          articleCount: meta.articleCount,
          passageCount: meta.passageCount,
          version: pgVersion(generation),
        },
        notes,
      };
    },
    open: async ({ wordVectors }) => (await openPgSearchIndex(await database(), { wordVectors })).index,
    version: async () => {
      const db = await database();
      try {
        return pgVersion(await pgIndexStore(db).generation());
      } catch (error) {
        throw queryError(error, db.location);
      }
    },
    close: async () => {
      const pending = opening;
      opening = undefined;
      if (pending) await (await pending.catch(() => undefined))?.close();
    },
  };
}

/**
 * Copies an index from local files into the database as they are (`npm run index -- --from-files`):
 * articles, passages and vectors, with no article parsed or embedded again. Updates by source hash then
 * go on from there. Refused when the files were written by another article parser or passage size,
 * which an update would then mix with this code's.
 */
export async function importLocalIndex(
  setting: { url: string; schema: string },
  index: LoadedIndex,
): Promise<WriteReport & { location: string }> {
  const { manifest } = index;
  if (manifest.build.parserVersion !== PARSER_VERSION || manifest.build.maxPassageChars !== MAX_PASSAGE_CHARS)
    throw new Error(
      'The local index was written by another version of the article parser or passage splitter; run `npm run index` (without --from-files) to build the database index from the articles.',
    );
  const db = await openDatabase(setting.url, { schema: setting.schema });
  try {
    const report = await pgIndexStore(db).write({
      mode: manifest.mode,
      ...(manifest.modeReason ? { modeReason: manifest.modeReason } : {}),
      embedding: manifest.embedding as EmbedderFingerprint | null,
      articles: [...index.articles.values()].sort(byFile),
      passages: [...index.passages.values()].sort((a, b) => a.label - b.label),
      vectors: index.vectors,
      hnsw: { ...manifest.build.hnsw },
      lexicalOptions: { bm25: manifest.build.bm25, titleBoost: manifest.build.titleBoost },
      maxPassageChars: manifest.build.maxPassageChars,
      nextLabel: manifest.build.nextLabel,
    });
    return { ...report, location: `${db.location}, schema ${db.tables.schema}` };
  } finally {
    await db.close();
  }
}
