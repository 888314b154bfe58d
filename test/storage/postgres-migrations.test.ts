/**
 * Opening the Postgres store: the schema's migrations (fresh, again, from several processes at once, on
 * top of an older version, refused on a newer one) and the messages for a database that cannot be
 * reached or a DATABASE_URL that cannot be one. Against a real Postgres (PGlite over the wire, see
 * test/support/postgres.ts); each test uses its own schema in the file's database.
 */
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/postgres/connection.js';
import { databaseAddress, databaseUrlProblem, displayDatabaseUrl } from '../../src/storage/postgres/database-url.js';
import { DatabaseUnreachable, SchemaTooNew } from '../../src/storage/postgres/errors.js';
import { migrate } from '../../src/storage/postgres/migrations.js';
import { MIGRATIONS, SCHEMA_VERSION, tablesIn, type Migration } from '../../src/storage/postgres/schema.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let server: TestPostgres;
let admin: pg.Pool;

beforeAll(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url, max: 1 });
});

afterAll(async () => {
  await admin?.end();
  await server?.stop();
});

async function versions(schema: string): Promise<Array<{ version: number; applied_at: Date }>> {
  const result = await admin.query(`SELECT version, applied_at FROM ${schema}.citebot_schema_version ORDER BY version`);
  return result.rows;
}

async function tableNames(schema: string): Promise<string[]> {
  const result = await admin.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return result.rows.map((row) => row.table_name);
}

/** A free loopback port: bound, then released. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('Postgres store migrations', () => {
  it('migrate a fresh database to the current version, with pgvector and every table', async () => {
    const db = await openDatabase(server.url, { schema: 'fresh' });
    try {
      expect(db.migration).toEqual({ from: 0, to: SCHEMA_VERSION, applied: MIGRATIONS.map((migration) => migration.version) });
      expect(await tableNames('fresh')).toEqual([
        'citebot_articles',
        'citebot_index',
        'citebot_passages',
        'citebot_postings',
        'citebot_schema_version',
        'citebot_terms',
      ]);
      expect((await versions('fresh')).map((row) => row.version)).toEqual([1]);
      const extensions = await admin.query<{ extname: string }>(`SELECT extname FROM pg_extension WHERE extname = 'vector'`);
      expect(extensions.rowCount).toBe(1);
      const meta = await admin.query(`SELECT generation, built FROM fresh.citebot_index`);
      expect(meta.rows).toEqual([{ generation: '0', built: false }]);
    } finally {
      await db.close();
    }
  });

  it('do nothing when run again', async () => {
    const first = await openDatabase(server.url, { schema: 'again' });
    await first.close();
    const before = await versions('again');
    const second = await openDatabase(server.url, { schema: 'again' });
    await second.close();
    expect(second.migration).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });
    expect(await versions('again')).toEqual(before);
  });

  it('run once when several processes start at the same time', async () => {
    const opened = await Promise.all(Array.from({ length: 4 }, () => openDatabase(server.url, { schema: 'together' })));
    await Promise.all(opened.map((db) => db.close()));
    const reports = opened.map((db) => db.migration);
    expect(reports.filter((report) => report.applied.length > 0)).toEqual([{ from: 0, to: SCHEMA_VERSION, applied: [1] }]);
    expect(reports.filter((report) => report.applied.length === 0)).toHaveLength(3);
    expect((await versions('together')).map((row) => row.version)).toEqual([1]);
    const meta = await admin.query(`SELECT count(*)::integer AS rows FROM together.citebot_index`);
    expect(meta.rows[0]).toEqual({ rows: 1 });
  });

  it('apply only the migrations a database lacks, in order, each once', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    try {
      const tables = tablesIn('stepwise');
      expect(await migrate(pool, tables, 'test', MIGRATIONS.slice(0, 1))).toEqual({ from: 0, to: 1, applied: [1] });
      const second: Migration = {
        version: 2,
        description: 'a later change',
        statements: (t) => [`ALTER TABLE ${t.articles} ADD COLUMN later text`],
      };
      expect(await migrate(pool, tables, 'test', [...MIGRATIONS, second])).toEqual({ from: 1, to: 2, applied: [2] });
      expect(await migrate(pool, tables, 'test', [...MIGRATIONS, second])).toEqual({ from: 2, to: 2, applied: [] });
      const column = await admin.query(
        `SELECT 1 FROM information_schema.columns WHERE table_schema = 'stepwise' AND table_name = 'citebot_articles' AND column_name = 'later'`,
      );
      expect(column.rowCount).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('roll back a migration that fails, leaving the version where it was', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    try {
      const tables = tablesIn('broken');
      await migrate(pool, tables, 'test');
      const failing: Migration = {
        version: 2,
        description: 'fails half-way',
        statements: (t) => [`ALTER TABLE ${t.articles} ADD COLUMN half text`, 'SELECT no_such_function()'],
      };
      await expect(migrate(pool, tables, 'test', [...MIGRATIONS, failing])).rejects.toThrow(/no_such_function/);
      expect((await versions('broken')).map((row) => row.version)).toEqual([1]);
      const column = await admin.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = 'broken' AND column_name = 'half'`);
      expect(column.rowCount).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('refuse a database migrated by a newer citebot, saying which versions, and change nothing', async () => {
    await (await openDatabase(server.url, { schema: 'newer' })).close();
    await admin.query(`INSERT INTO newer.citebot_schema_version (version, description) VALUES (99, 'from the future')`);
    const error = await openDatabase(server.url, { schema: 'newer' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SchemaTooNew);
    expect((error as Error).message).toMatch(/schema version 99; this citebot knows versions up to 1\. Update citebot/);
    expect((error as Error).message).not.toContain('postgres:postgres');
    expect((await versions('newer')).map((row) => row.version)).toEqual([1, 99]);
  });
});

describe('reaching the database', () => {
  it('say in one line that nothing listens at host:port, without the password', async () => {
    const port = await freePort();
    const url = `postgres://citebot:s3cret-pw@127.0.0.1:${port}/citebot?sslpassword=also-secret`;
    const started = Date.now();
    const error = await openDatabase(url, { connectTimeoutMs: 2_000 }).catch((caught: unknown) => caught);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(DatabaseUnreachable);
    const message = (error as Error).message;
    expect(message).toBe(
      `Cannot connect to the Postgres database at 127.0.0.1:${port} (connection refused: nothing is listening there); check that it is running and that DATABASE_URL (postgres://127.0.0.1:${port}/citebot) is right.`,
    );
    expect(message).not.toMatch(/s3cret|also-secret|citebot:/);
    expect(message).not.toContain('\n');
  });

  it('name the database that does not exist', async () => {
    // PGlite serves one database whatever the name; a real server answers 3D000, shown like this:
    const { connectionError } = await import('../../src/storage/postgres/connection.js');
    const failure = Object.assign(new Error('database "nope" does not exist'), { code: '3D000' });
    expect(connectionError(failure, 'postgresql://u:pw@db.example:6543/nope').message).toBe(
      'Cannot connect to the Postgres database at db.example:6543 (the database does not exist); check that it is running and that DATABASE_URL (postgresql://db.example:6543/nope) is right.',
    );
    const denied = Object.assign(new Error('password authentication failed for user "u"'), { code: '28P01' });
    expect(connectionError(denied, 'postgres://u:pw@db.example/x').message).toMatch(
      /at db\.example:5432 \(the server refused the user name or password\)/,
    );
  });

  it('check DATABASE_URL before connecting', async () => {
    expect(databaseUrlProblem('postgres://u:pw@localhost:5432/db')).toBeUndefined();
    expect(databaseUrlProblem('postgresql:///db?host=/var/run/postgresql')).toBeUndefined();
    expect(databaseUrlProblem('mysql://root:hunter2@localhost/db')).toBe(
      'expected a postgres:// or postgresql:// URL (such as postgres://user:password@host:5432/database), not a mysql URL',
    );
    expect(databaseUrlProblem('localhost:5432')).toMatch(/not a postgres:\/\/ or postgresql:\/\/ URL|not a localhost URL/);
    expect(databaseUrlProblem('postgres//user:hunter2@db:5432')).toBe(
      'db:5432 is not a URL (expected postgres://user:password@host:5432/database)',
    );
    expect(databaseUrlProblem('postgres:///db')).toMatch(/names no host/);
    await expect(openDatabase('mysql://root:hunter2@localhost/db')).rejects.toThrow(/^DATABASE_URL: expected a postgres:\/\//);
    expect(displayDatabaseUrl('postgres://u:pw@h:1/d?password=x')).toBe('postgres://h:1/d');
    expect(databaseAddress('postgresql:///db?host=/tmp')).toBe('/tmp (Unix socket)');
  });
});
