/**
 * Brings a database's schema up to the version this code knows: every pending migration, in order, in one
 * transaction that first takes an advisory lock, so two processes starting at once migrate once (the
 * second waits, then finds nothing to do). A database migrated by a newer citebot is refused, not
 * touched: its tables may mean something this version does not know.
 *
 * Every statement here goes through the simple query protocol (no parameters; names come quoted from
 * ./schema.ts and numbers from this file), which any Postgres front end, poolers included, passes intact.
 */
import type pg from 'pg';
import { SchemaTooNew } from './errors.js';
import { MIGRATIONS, type Migration, type Tables } from './schema.js';
import { withTransaction } from './transaction.js';

/** "cite": the advisory lock class of citebot's migrations; the object is the schema's hash. */
const LOCK_CLASS = 0x63697465;

export interface MigrationReport {
  /** Schema version found. */
  from: number;
  /** Schema version now. */
  to: number;
  /** Versions applied by this call (empty when another process had already done it). */
  applied: number[];
}

/** A 31-bit FNV-1a hash of the schema name: advisory locks of different schemas do not wait on each other. */
export function lockObject(schema: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(schema, 'utf8')) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash & 0x7fffffff;
}

/** Creates pgvector when it is missing, or says precisely why it cannot be. */
async function ensureVectorExtension(client: pg.PoolClient, location: string): Promise<void> {
  const installed = await client.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`);
  if (installed.rowCount) return;
  const available = await client.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`);
  if (!available.rowCount)
    throw new Error(
      `The Postgres server at ${location} does not have pgvector, which the index needs for its embeddings. Install it (the pgvector/pgvector Docker image has it) or keep the index in a folder (the default).`,
    );
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (error) {
    throw new Error(
      `pgvector is available on ${location} but could not be enabled (${(error as Error).message}). Run CREATE EXTENSION vector once as a user allowed to, then start again.`,
      { cause: error },
    );
  }
}

/**
 * Applies the pending migrations of `tables.schema`. `migrations` is for tests; the application always
 * uses the list this version ships.
 */
export async function migrate(
  pool: pg.Pool,
  tables: Tables,
  location: string,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationReport> {
  const known = migrations.at(-1)?.version ?? 0;
  return withTransaction(pool, async (client) => {
    // Held until COMMIT or ROLLBACK, and released by the server if this process dies.
    await client.query(`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${lockObject(tables.schema)})`);
    const schemaExists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = ${client.escapeLiteral(tables.schema)}`);
    if (!schemaExists.rowCount) await client.query(`CREATE SCHEMA ${tables.schemaSql}`);
    // Looked up before creating: a role that may only read and write the tables can still open a migrated database.
    const versionTable = await client.query(`SELECT to_regclass(${client.escapeLiteral(tables.version)}) IS NOT NULL AS present`);
    if (!versionTable.rows[0]?.present)
      await client.query(
        `CREATE TABLE ${tables.version} (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
    const found = await client.query<{ version: number }>(`SELECT coalesce(max(version), 0)::integer AS version FROM ${tables.version}`);
    const from = found.rows[0]?.version ?? 0;
    if (from > known)
      throw new SchemaTooNew(
        `The index database at ${location} (schema ${tables.schema}) has schema version ${from}; this citebot knows versions up to ${known}. Update citebot, or point DATABASE_URL at another database.`,
      );
    const pending = migrations.filter((migration) => migration.version > from);
    if (pending.length > 0) await ensureVectorExtension(client, location);
    for (const migration of pending) {
      for (const statement of migration.statements(tables)) await client.query(statement);
      await client.query(
        `INSERT INTO ${tables.version} (version, description) VALUES (${migration.version}, ${client.escapeLiteral(migration.description)})`,
      );
    }
    return { from, to: Math.max(from, known), applied: pending.map((migration) => migration.version) };
  });
}
