/**
 * A Postgres with pgvector to try INDEX_STORE=postgres on a machine without one: PGlite (Postgres in
 * WebAssembly, the tests' database, test/support/postgres.ts) behind its wire-protocol server on a
 * loopback port, in memory, until Ctrl-C. Prints the DATABASE_URL to use. One backend, single-threaded:
 * for trying and measuring, not for serving a community.
 *
 *   npx tsx bench/pglite-server.ts
 */
import { startPostgres } from '../test/support/postgres.js';

const server = await startPostgres();
process.stdout.write(`DATABASE_URL=${server.url}\n`);
const stop = () => void server.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
