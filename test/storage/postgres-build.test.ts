/**
 * Building into Postgres from a seeds folder (src/storage/postgres/pg-build.ts): a full write the first
 * time, nothing when nothing changed, an update of only what changed, a full write again when the setup
 * changed, the start-up path that keeps an index with embeddings when no model is at hand, and the build
 * lock. Against a real Postgres (PGlite over the wire, see test/support/postgres.ts).
 */
import { rm, writeFile, appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedFolder } from '../../src/ingest/seed-files.js';
import { IndexLocked } from '../../src/storage/errors.js';
import { openDatabase, type PgDatabase } from '../../src/storage/postgres/connection.js';
import { buildIntoPostgres } from '../../src/storage/postgres/pg-build.js';
import { pgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { tablesIn } from '../../src/storage/postgres/schema.js';
import { copySeeds, createFakeEmbedder, removeTempDirs, SEED_FILES } from '../helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let server: TestPostgres;
let db: PgDatabase;
let seedsDir: string;

beforeAll(async () => {
  server = await startPostgres();
  db = await openDatabase(server.url, { schema: 'build' });
  seedsDir = await copySeeds();
}, 60_000);

afterAll(async () => {
  await db?.close();
  await server?.stop();
  await removeTempDirs();
});

describe('building into Postgres', () => {
  it('writes in full the first time, then finds nothing to do', async () => {
    const embedder = createFakeEmbedder();
    const first = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder });
    expect(first).toMatchObject({
      upToDate: false,
      wrote: 'full',
      fullRebuildReason: 'there was no index yet',
      articleCount: SEED_FILES.length,
    });
    expect(first.embeddedPassages).toBe(first.passageCount);
    const second = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder });
    expect(second).toMatchObject({ upToDate: true, generation: first.generation, embeddedPassages: 0, unchanged: SEED_FILES.length });
  });

  it('updates only the changed, added and removed articles, in one generation', async () => {
    const embedder = createFakeEmbedder();
    const before = await pgIndexStore(db).meta();
    await appendFile(path.join(seedsDir, SEED_FILES[0]!), '\n\nA paragraph added later about the withdrawal of troops.\n');
    await writeFile(path.join(seedsDir, 'added.txt'), 'Added headline\n\nThe troops left the base at dawn.\n');
    await rm(path.join(seedsDir, SEED_FILES[1]!));
    const report = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder });
    expect(report).toMatchObject({
      upToDate: false,
      wrote: 'update',
      added: ['added.txt'],
      changed: [SEED_FILES[0]],
      removed: [SEED_FILES[1]],
      unchanged: SEED_FILES.length - 2,
      generation: before.generation + 1,
    });
    const passages = await pgIndexStore(db).passages();
    const embeddedFiles = new Set(
      passages.filter((passage) => embedder.passageTexts().includes(passage.text)).map((passage) => passage.file),
    );
    expect([...embeddedFiles].sort()).toEqual(['added.txt', SEED_FILES[0]].sort());
    expect(passages.some((passage) => passage.file === SEED_FILES[1])).toBe(false);
    expect(report.passageCount).toBe(passages.length);
  });

  it('starting up without a model keeps an index with embeddings as it is; `npm run index` without one rebuilds it lexical-only', async () => {
    const kept = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder: null, startUp: true });
    expect(kept).toMatchObject({ upToDate: true, mode: 'hybrid' });
    const rebuilt = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder: null, modeReason: 'no model here' });
    expect(rebuilt).toMatchObject({ upToDate: false, wrote: 'full', mode: 'lexical' });
    expect(rebuilt.fullRebuildReason).toMatch(/has embeddings .* and the update has none/);
    expect((await pgIndexStore(db).meta()).modeReason).toBe('no model here');
  });

  it('a changed model is a full write with the reason; --rebuild is one too', async () => {
    const other = createFakeEmbedder({ model: 'test/other-model' });
    const changed = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder: other });
    expect(changed).toMatchObject({ wrote: 'full', mode: 'hybrid' });
    expect(changed.fullRebuildReason).toMatch(/lexical-only and the update has embeddings/);
    const rebuilt = await buildIntoPostgres(db, { source: seedFolder(seedsDir), embedder: other, rebuild: true });
    expect(rebuilt).toMatchObject({ wrote: 'full', fullRebuildReason: 'a rebuild was asked for' });
  });

  it('waits for another builder, then gives up with IndexLocked naming the database', async () => {
    // PGlite is one session, so two builders cannot hold its advisory locks against each other: a server
    // that always answers "taken" stands in for the other builder.
    const queries: string[] = [];
    const taken = {
      pool: {
        connect: async () => ({
          query: async (sql: string) => {
            queries.push(sql);
            return { rows: [{ locked: false }] };
          },
          release: () => undefined,
        }),
      },
      tables: tablesIn('build'),
      location: 'postgres://db.internal:5432/news',
    } as unknown as PgDatabase;
    const waits: string[] = [];
    const started = Date.now();
    const build = buildIntoPostgres(taken, {
      source: seedFolder(seedsDir),
      embedder: null,
      waitForLockMs: 600,
      warn: (message) => waits.push(message),
    });
    await expect(build).rejects.toBeInstanceOf(IndexLocked);
    await expect(build).rejects.toThrow('Another process is building the index in postgres://db.internal:5432/news (schema build)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(waits).toEqual(['Another process is building the index in postgres://db.internal:5432/news; waiting for it to finish.']);
    expect(queries.length).toBeGreaterThan(1);
    expect(queries.every((sql) => sql.startsWith('SELECT pg_try_advisory_lock('))).toBe(true);
  });
});
