/**
 * A writer to be killed: run as `tsx test/storage/postgres-killed-writer.ts <url> <schema>`, it starts a
 * full write of 3,000 made-up passages, prints "inside" once the first batch is in (the transaction is
 * open and has replaced the tables' contents), then stops the event loop so the transaction stays open
 * until the test kills the process.
 */
import { buildMemoryIndex } from '../../src/index/memory.js';
import { openDatabase } from '../../src/storage/postgres/connection.js';
import { pgIndexStore } from '../../src/storage/postgres/pg-store.js';
import { makeArticle } from '../helpers.js';
import { contentsOf } from './postgres-contents.js';

const [url, schema] = process.argv.slice(2);
if (!url || !schema) throw new Error('usage: postgres-killed-writer.ts <url> <schema>');
const articles = Array.from({ length: 300 }, (_, a) =>
  makeArticle(
    `doomed-${a}.txt`,
    Array.from({ length: 10 }, (_, p) => `Doomed paragraph ${p} of article ${a} mentions zeppelins and marmalade number ${a * 10 + p}.`),
    { title: `Doomed article ${a}` },
  ),
);
const db = await openDatabase(url, { schema });
const store = pgIndexStore(db);
await store.write(contentsOf(await buildMemoryIndex(articles, null), null), {
  batchPassages: 100,
  onProgress: (stage) => {
    if (stage !== 'passages') return;
    process.stdout.write('inside\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  },
});
process.stdout.write('committed\n');
await db.close();
