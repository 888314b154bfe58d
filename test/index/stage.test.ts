import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embedding/embedder.js';
import { EMBED_CHUNK } from '../../src/embedding/schedule.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex } from '../../src/index/bm25.js';
import { VectorIndex } from '../../src/index/hnsw.js';
import { embedAndIndex } from '../../src/index/stage.js';
import { articlePassages } from '../../src/ingest/passages.js';
import type { IndexedPassage } from '../../src/model.js';
import { makeArticle, makeTempDir, removeTempDirs } from '../helpers.js';

afterAll(removeTempDirs);

const DIMENSION = 8;

/** A fixed pseudo-random unit vector per text, so both builds get the same vectors whoever embeds them. */
function vectorOf(text: string): Float32Array {
  let seed = 2166136261;
  for (let i = 0; i < text.length; i += 1) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619);
  const vector = new Float32Array(DIMENSION);
  for (let i = 0; i < DIMENSION; i += 1) {
    seed = Math.imul(seed ^ (seed >>> 15), 2246822507) >>> 0;
    vector[i] = (seed / 2 ** 32) * 2 - 1;
  }
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/**
 * An embedder with a worker: `workerDelayMs` per chunk there, none here. A slow worker leaves the building
 * thread to embed most chunks itself, from the end, in an order that depends on timing.
 */
function embedderWithWorker(workerDelayMs: number) {
  const embeddedHere: string[] = [];
  const embedder: Embedder = {
    fingerprint: { model: 'test', dimension: DIMENSION, pooling: 'mean', dtype: 'fp32', queryPrefix: '', passagePrefix: '' },
    async embed(texts: string[]) {
      embeddedHere.push(texts[0]!);
      return texts.map(vectorOf);
    },
    async embedElsewhere(texts: string[]) {
      await new Promise((resolve) => setTimeout(resolve, workerDelayMs));
      return texts.map(vectorOf);
    },
  };
  return { embedder, embeddedHere };
}

function passages(count: number): IndexedPassage[] {
  const paragraphs = Array.from({ length: count }, (_, i) => `Paragraph ${i} of the test corpus talks about topic ${i % 97}.`);
  return articlePassages(makeArticle('corpus.txt', paragraphs)).map((passage, label) => ({ ...passage, label }));
}

async function graphBytes(workerDelayMs: number, added: IndexedPassage[]) {
  const { embedder, embeddedHere } = embedderWithWorker(workerDelayMs);
  const { vectors } = await embedAndIndex(added, [], {
    embedder,
    vectors: VectorIndex.create(DIMENSION, added.length),
    lexical: LexicalIndex.create(DEFAULT_LEXICAL_OPTIONS),
    titleOf: () => 'Test corpus',
  });
  const file = path.join(await makeTempDir(), 'graph.hnsw');
  vectors!.writeGraph(file);
  return { bytes: await readFile(file), embeddedHere };
}

describe('embedAndIndex', () => {
  it('builds the same HNSW graph whichever thread embedded which chunk', async () => {
    const added = passages(EMBED_CHUNK * 12 + 100);
    expect(added).toHaveLength(EMBED_CHUNK * 12 + 100);
    const quickWorker = await graphBytes(0, added);
    const slowWorker = await graphBytes(25, added);
    // The slow worker's build embedded chunks here, out of label order (from the end): the case to hold.
    expect(slowWorker.embeddedHere.length).toBeGreaterThan(quickWorker.embeddedHere.length);
    expect(slowWorker.embeddedHere[0]).toBe(added[EMBED_CHUNK * 12]!.text);
    expect(Buffer.compare(quickWorker.bytes, slowWorker.bytes)).toBe(0);
  });
});
