/**
 * The retrieval check against Postgres (`npm run check -- --dataset DIR` with INDEX_STORE=postgres): the
 * labelled set, indexed in memory, is written into a schema of its own in the configured database (the
 * configured schema's name + `_check`, rewritten each run, never the index the bot answers from), and
 * every question is answered from there.
 */
import type { Embedder } from '../../embedding/embedder.js';
import { memoryIndexContents, type MemoryIndex } from '../../index/memory.js';
import type { ServedIndex } from '../served-index.js';
import { openDatabase } from './connection.js';
import { lockObject } from './migrations.js';
import { openPgSearchIndex } from './pg-candidates.js';
import { pgIndexStore } from './pg-store.js';

/**
 * The schema a check writes its set into, beside the configured one and never the same: the name +
 * `_check`, or for a name too long for that, its first 17 characters, a hash of the whole and `_check`.
 */
export function checkSchemaOf(schema: string): string {
  const check =
    schema.length <= 24 ? `${schema}_check` : `${schema.slice(0, 17)}_${lockObject(schema).toString(36).padStart(6, '0').slice(-6)}_check`;
  if (check === schema) throw new Error(`DATABASE_SCHEMA ${schema} is the name its check would write into; choose another name.`);
  return check;
}

export async function checkInPostgres<T>(
  setting: { url: string; schema: string },
  index: MemoryIndex,
  embedder: Embedder | null,
  run: (answering: ServedIndex) => Promise<T>,
): Promise<T> {
  const db = await openDatabase(setting.url, { schema: checkSchemaOf(setting.schema) });
  try {
    const started = performance.now();
    await pgIndexStore(db).write(memoryIndexContents(index, embedder));
    process.stderr.write(
      `check: ${index.passages.size} passages written to ${db.location}, schema ${db.tables.schema}, in ${Math.round(performance.now() - started)} ms; answering from there\n`,
    );
    const opened = await openPgSearchIndex(db, { wordVectors: index.wordVectors ?? null });
    return await run(opened.index);
  } finally {
    await db.close();
  }
}
