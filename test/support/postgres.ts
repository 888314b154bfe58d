/**
 * A real Postgres for tests, with nothing installed on the machine: PGlite (Postgres 18 compiled to
 * WebAssembly, an npm package) with the pgvector and pg_textsearch extensions, served over the wire
 * protocol on a free loopback port by @electric-sql/pglite-socket, so the code under test reaches it
 * through the ordinary `pg` driver and a postgres:// URL, as it would a server.
 *
 * Each call starts a fresh in-memory database; `stop` closes the server and the database. Call it in
 * `beforeAll` and stop it in `afterAll`: Vitest runs each test file in its own process (pool: forks), so
 * every file gets its own database and nothing outlives the file.
 *
 * PGlite is one Postgres backend: the socket server queues the connections' messages onto it, and while
 * one connection is inside a transaction the others wait until it ends. Locks therefore never meet in
 * it as they would on a server; what the tests check about concurrency is that the code takes them and
 * that interleaved callers end in the right state.
 */
import { PGlite } from '@electric-sql/pglite';
import { pg_textsearch } from '@electric-sql/pglite-pg_textsearch';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface TestPostgres {
  /** postgres://postgres:postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  const db = await PGlite.create({ extensions: { vector, pg_textsearch } });
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 32 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  const port = Number(server.getServerConn().split(':').at(-1));
  let stopped = false;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await db.close();
    },
  };
}
