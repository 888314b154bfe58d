/**
 * LanceDB (embedded) as a peer in the benchmark: the same passages and the same vectors as citebot,
 * set up as its documentation does for hybrid search: a full-text index on the text (its defaults) and the
 * vectors (cosine), queried together and merged by its reciprocal-rank-fusion reranker. Lives with the benchmark, not in src: LanceDB is a native
 * package the bot itself does not need.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type * as LanceDb from '@lancedb/lancedb';
import { isZeroVector } from '../src/embedding/embedder.js';
import type { PeerRetriever } from '../src/eval/peers.js';
import type { VectorIndex } from '../src/index/hnsw.js';
import type { IndexedPassage } from '../src/model.js';

export interface LanceDbPeer extends PeerRetriever {
  close(): Promise<void>;
}

const BATCH = 20_000;

export async function lanceDbPeer(passages: Iterable<IndexedPassage>, vectors: VectorIndex): Promise<LanceDbPeer> {
  // Its Rust logger prints a deprecation warning per query at the default level; it reads this once, at load.
  process.env.LANCEDB_LOG ??= 'error';
  const lancedb: typeof LanceDb = await import('@lancedb/lancedb');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'citebot-lancedb-'));
  let db: LanceDb.Connection | undefined;
  let table: LanceDb.Table | undefined;
  const close = async () => {
    table?.close();
    db?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    db = await lancedb.connect(dir);
    const zero = new Array<number>(vectors.dimension).fill(0);
    const rows = [...passages].map((passage) => {
      const vector = vectors.vector(passage.label);
      return { id: passage.label, text: passage.text, vector: vector ? Array.from(vector) : zero };
    });
    const created = await db.createTable('passages', rows.slice(0, BATCH));
    table = created;
    for (let start = BATCH; start < rows.length; start += BATCH) await created.add(rows.slice(start, start + BATCH));
    await created.createIndex('text', { config: lancedb.Index.fts() });
    // No vector index: its HNSW-SQ build (cosine, one partition) never finished on 100k rows here (every
    // thread asleep after five minutes), so the vectors are searched exhaustively, which is exact.
    const reranker = await lancedb.rerankers.RRFReranker.create();
    return {
      name: 'LanceDB (hybrid)',
      usesQueryVector: true,
      async search(question, queryVector, k) {
        if (k <= 0 || question.trim() === '') return [];
        const text = new lancedb.MatchQuery(question, 'text');
        const query =
          queryVector && !isZeroVector(queryVector)
            ? created.query().fullTextSearch(text).nearestTo(Array.from(queryVector)).distanceType('cosine').rerank(reranker)
            : created.query().fullTextSearch(text);
        const found = await query.select(['id']).limit(k).toArray();
        return found.map((row: { id: number }) => Number(row.id));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
