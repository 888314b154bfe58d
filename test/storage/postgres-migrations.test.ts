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
import { buildMemoryIndex, memoryIndexContents } from '../../src/index/memory.js';
import { pgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { makeArticle } from '../helpers.js';
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
        'citebot_posting_blocks',
        'citebot_postings',
        'citebot_schema_version',
        'citebot_terms',
      ]);
      expect((await versions('fresh')).map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
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
    expect(reports.filter((report) => report.applied.length > 0)).toEqual([
      { from: 0, to: SCHEMA_VERSION, applied: MIGRATIONS.map((migration) => migration.version) },
    ]);
    expect(reports.filter((report) => report.applied.length === 0)).toHaveLength(3);
    expect((await versions('together')).map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
    const meta = await admin.query(`SELECT count(*)::integer AS rows FROM together.citebot_index`);
    expect(meta.rows[0]).toEqual({ rows: 1 });
  });

  it('apply only the migrations a database lacks, in order, each once', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    try {
      const tables = tablesIn('stepwise');
      expect(await migrate(pool, tables, 'test', MIGRATIONS.slice(0, 1))).toEqual({ from: 0, to: 1, applied: [1] });
      const later: Migration = {
        version: SCHEMA_VERSION + 1,
        description: 'a later change',
        statements: (t) => [`ALTER TABLE ${t.articles} ADD COLUMN later text`],
      };
      const rest = MIGRATIONS.slice(1).map((migration) => migration.version);
      expect(await migrate(pool, tables, 'test', [...MIGRATIONS, later])).toEqual({
        from: 1,
        to: later.version,
        applied: [...rest, later.version],
      });
      expect(await migrate(pool, tables, 'test', [...MIGRATIONS, later])).toEqual({ from: later.version, to: later.version, applied: [] });
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
        version: SCHEMA_VERSION + 1,
        description: 'fails half-way',
        statements: (t) => [`ALTER TABLE ${t.articles} ADD COLUMN half text`, 'SELECT no_such_function()'],
      };
      await expect(migrate(pool, tables, 'test', [...MIGRATIONS, failing])).rejects.toThrow(/no_such_function/);
      expect((await versions('broken')).map((row) => row.version)).toEqual(MIGRATIONS.map((migration) => migration.version));
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
    expect((error as Error).message).toMatch(
      new RegExp(`schema version 99; this citebot knows versions up to ${SCHEMA_VERSION}\\. Update citebot`),
    );
    expect((error as Error).message).not.toContain('postgres:postgres');
    expect((await versions('newer')).map((row) => row.version)).toEqual([...MIGRATIONS.map((migration) => migration.version), 99]);
  });
});

describe('a schema migrated past this code while it has the database open', () => {
  it('is not written to: the write is refused with both versions, and nothing changes', async () => {
    const db = await openDatabase(server.url, { schema: 'overtaken' });
    try {
      const articles = [makeArticle('a.txt', ['Troops left the base at dawn.'], { title: 'Base' })];
      const contents = memoryIndexContents(await buildMemoryIndex(articles, null), null);
      await pgIndexStore(db).write(contents);
      await admin.query(
        `INSERT INTO overtaken.citebot_schema_version (version, description) VALUES (${SCHEMA_VERSION + 1}, 'a later citebot')`,
      );
      const error = await pgIndexStore(db)
        .write(contents)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SchemaTooNew);
      expect((error as Error).message).toContain(`was migrated to schema version ${SCHEMA_VERSION + 1} after this process opened it`);
      expect((await pgIndexStore(db).meta()).generation).toBe(1);
    } finally {
      await db.close();
    }
  });
});

describe('schema names', () => {
  it('take reserved words (user, order, select) as they are, quoted in every statement', async () => {
    for (const schema of ['user', 'order', 'select']) {
      const db = await openDatabase(server.url, { schema });
      try {
        expect(db.migration, schema).toEqual({ from: 0, to: SCHEMA_VERSION, applied: MIGRATIONS.map((migration) => migration.version) });
        expect(db.tables.index).toBe(`"${schema}".citebot_index`);
        expect(await tableNames(schema)).toContain('citebot_index');
        const meta = await admin.query(`SELECT generation, built FROM "${schema}".citebot_index`);
        expect(meta.rows).toEqual([{ generation: '0', built: false }]);
      } finally {
        await db.close();
      }
      // Opened again: found migrated, nothing applied.
      const again = await openDatabase(server.url, { schema });
      await again.close();
      expect(again.migration.applied).toEqual([]);
    }
  });

  it('refuse, with the reason, names that are no plain lower-case identifier or that Postgres keeps for itself', async () => {
    expect(() => tablesIn('User')).toThrow(
      /^"User" cannot name the index's Postgres schema \(expected lower-case letters, digits and _, at most 30\)$/,
    );
    expect(() => tablesIn('a"; DROP SCHEMA public; --')).toThrow(/cannot name the index's Postgres schema/);
    expect(() => tablesIn('x'.repeat(31))).toThrow(/at most 30/);
    await expect(openDatabase(server.url, { schema: 'pg_citebot' })).rejects.toThrow(
      /^"pg_citebot" cannot name the index's Postgres schema \(Postgres keeps names beginning with pg_ for its own schemas\)$/,
    );
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
    expect(databaseUrlProblem('localhost:5432')).toMatch(/^not a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(databaseUrlProblem('postgres//user:hunter2@db:5432')).toBe(
      'not a postgres:// or postgresql:// URL (expected postgres://user:password@host:5432/database); it is not repeated here, as it may hold a password',
    );
    expect(databaseUrlProblem('postgres:///db')).toMatch(/names no host/);
    await expect(openDatabase('mysql://root:hunter2@localhost/db')).rejects.toThrow(/^DATABASE_URL: expected a postgres:\/\//);
    expect(displayDatabaseUrl('postgres://u:pw@h:1/d?password=x')).toBe('postgres://h:1/d');
    expect(databaseAddress('postgresql:///db?host=/tmp')).toBe('/tmp (Unix socket)');
  });

  it('never repeat a password, whatever DATABASE_URL holds', async () => {
    const secrets = /hunter2|12345|tail|s3cr|p@ss|pa:ss|p%40ss|citebot/;
    /** What every message made of `url` says, checked to hold none of its secrets. */
    const shown = (url: string) => {
      const messages = [databaseUrlProblem(url) ?? '', displayDatabaseUrl(url), databaseAddress(url)];
      for (const message of messages) expect(message, url).not.toMatch(secrets);
      return messages;
    };

    // A libpq key/value string: refused, and not one word of it repeated.
    const keyValue = 'host=db user=citebot password=hunter2';
    const [keyValueProblem, keyValueShown, keyValueAddress] = shown(keyValue);
    expect(keyValueProblem).toMatch(
      /^a key=value connection string, not a URL \(expected postgres:\/\/user:password@host:5432\/database\)/,
    );
    expect(keyValueShown).toBe('(not shown: not a well-formed postgres:// URL)');
    expect(keyValueAddress).toBe(keyValueShown);
    for (const url of ['citebot:hunter2@db/idx', 'postgres:hunter2', 'postgres:citebot:hunter2@db']) {
      expect(shown(url)[0], url).toMatch(/^not a postgres:\/\/ or postgresql:\/\/ URL/);
      expect(shown(url)[1], url).toBe(keyValueShown);
    }
    await expect(openDatabase(keyValue)).rejects.toThrow(/^DATABASE_URL: a key=value connection string/);
    expect(await openDatabase(keyValue).catch((error: Error) => error.message)).not.toMatch(secrets);

    // A # ends a URL: `citebot:12345` would read as host and port. Refused, whatever follows it.
    for (const url of ['postgres://citebot:12345#tail@db/idx', 'postgres://citebot:pw#x@db/idx', 'postgres://db/idx#x']) {
      expect(shown(url)[0], url).toMatch(/^the URL has a #, which would end it there \(write a # in a password as %23\)/);
      expect(shown(url)[1], url).toBe(keyValueShown);
    }
    // So does an unencoded / or ? in the password: the @ and the real host come after them.
    for (const url of [
      'postgres://citebot:12345/x@db/idx',
      'postgres://citebot:12345?x@db/idx',
      'postgres://db/idx?application_name=citebot@x',
    ]) {
      expect(shown(url)[0], url).toMatch(/^the URL has an @ after its host/);
      expect(shown(url)[1], url).toBe(keyValueShown);
    }

    // Passwords holding @, : or %40, and a password in the query: accepted, and shown without any of it.
    expect(shown('postgres://citebot:p@ss@db:5433/idx')).toEqual(['', 'postgres://db:5433/idx', 'db:5433']);
    expect(shown('postgres://citebot:pa:ss@db/idx')).toEqual(['', 'postgres://db/idx', 'db:5432']);
    expect(shown('postgresql://citebot:p%40ss@db/idx')).toEqual(['', 'postgresql://db/idx', 'db:5432']);
    expect(shown('postgres://db/idx?user=citebot&password=hunter2&sslpassword=s3cr')).toEqual(['', 'postgres://db/idx', 'db:5432']);
    expect(shown('mysql://citebot:hunter2@db/idx')).toEqual([
      'expected a postgres:// or postgresql:// URL (such as postgres://user:password@host:5432/database), not a mysql URL',
      'mysql://db/idx',
      'db:5432',
    ]);
  });
});
