/**
 * Opening the index database: a node-postgres pool, a first round trip that turns every way of not
 * reaching the server into one line naming host:port (never the password), and the schema migrated to
 * this version. Every other module takes the `PgDatabase` this returns.
 */
import pg from 'pg';
import { databaseAddress, databaseUrlProblem, displayDatabaseUrl } from './database-url.js';
import { DatabaseUnreachable } from './errors.js';
import { migrate, type MigrationReport } from './migrations.js';
import { PG_EF_SEARCH } from './search-settings.js';
import { tablesIn, type Tables } from './schema.js';

export interface PgDatabase {
  pool: pg.Pool;
  tables: Tables;
  /** The database as messages name it: no credentials. */
  location: string;
  /** What opening it migrated. */
  migration: MigrationReport;
  /** pgvector's `hnsw.ef_search` for dense searches. */
  efSearch: number;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Postgres schema holding the index's tables (default `public`); several indexes can share a database. */
  schema?: string;
  /** Connections the pool may open (default 4). */
  maxConnections?: number;
  /** Candidates the HNSW search keeps (pgvector's `hnsw.ef_search`, default `PG_EF_SEARCH`). */
  efSearch?: number;
  /** How long to wait for the server to answer a connection (default 10 s). */
  connectTimeoutMs?: number;
  /** Told about errors of idle connections (a restarted server); the next query reports them anyway. */
  onIdleError?: (error: Error) => void;
}

/** A pg error with the fields node-postgres and Node's sockets put on it. */
type ConnectionFailure = Error & { code?: string; errno?: number };

/** What went wrong, in words, for the errors that mean "could not get in". */
function reasonOf(error: ConnectionFailure, timeoutMs: number): string | undefined {
  switch (error.code) {
    case '57014':
      // A statement cancelled (statement_timeout, a cancel request): the server is there.
      return undefined;
    case 'ECONNREFUSED':
      return 'connection refused: nothing is listening there';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name is unknown';
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host cannot be reached';
    case 'ECONNRESET':
      return 'the server closed the connection';
    case '28P01':
    case '28000':
      return 'the server refused the user name or password';
    case '3D000':
      return 'the database does not exist';
    case '53300':
      return 'the server has no connections left';
    case '57P03':
      return 'the server is starting up or shutting down';
  }
  if (/timeout/i.test(error.message)) return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (/terminated unexpectedly|Connection terminated/i.test(error.message)) return 'the server closed the connection';
  return undefined;
}

/**
 * The error to show for a failed first contact: one line naming host:port and the URL without
 * credentials. Errors that are not about reaching the server are returned as they are.
 */
export function connectionError(error: unknown, url: string, timeoutMs = 10_000): Error {
  const failure = error as ConnectionFailure;
  const reason = failure instanceof Error ? reasonOf(failure, timeoutMs) : undefined;
  if (!reason) return error instanceof Error ? error : new Error(String(error));
  return new DatabaseUnreachable(
    `Cannot connect to the Postgres database at ${databaseAddress(url)} (${reason}); check that it is running and that DATABASE_URL (${displayDatabaseUrl(url)}) is right.`,
    { cause: error },
  );
}

/**
 * The error to show for a query that failed because the database went away (stopped, restarted, the
 * network): DatabaseUnreachable naming it by `location` (no credentials). Other errors are returned as they are.
 */
export function queryError(error: unknown, location: string, timeoutMs = 10_000): Error {
  const failure = error as ConnectionFailure;
  const reason = failure instanceof Error ? reasonOf(failure, timeoutMs) : undefined;
  if (!reason) return error instanceof Error ? error : new Error(String(error));
  return new DatabaseUnreachable(`The index database at ${location} cannot be reached (${reason}); answers resume once it is back.`, {
    cause: error,
  });
}

/** Opens the database at `url`, checks it answers, and migrates its schema. */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<PgDatabase> {
  const problem = databaseUrlProblem(url);
  if (problem) throw new Error(`DATABASE_URL: ${problem}`);
  const tables = tablesIn(options.schema ?? 'public');
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const efSearch = Math.trunc(options.efSearch ?? PG_EF_SEARCH);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections ?? 4,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'citebot',
    // A command that has answered exits without closing the pool by hand; a bot stays up for Discord anyway.
    allowExitOnIdle: true,
  });
  // An idle connection that breaks (a server restart) must not take the process down.
  pool.on('error', (error) => options.onIdleError?.(error));
  const location = displayDatabaseUrl(url);
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectionError(error, url, timeoutMs);
  }
  let migration: MigrationReport;
  try {
    migration = await migrate(pool, tables, location);
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectionError(error, url, timeoutMs);
  }
  return { pool, tables, location, migration, efSearch, close: () => pool.end() };
}
