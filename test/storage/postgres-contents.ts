/**
 * What the Postgres store tests write: the contents a build hands its store, taken from the project's own
 * build path (a local store that keeps a copy of what `saveGeneration` was given) or from an index built
 * in memory.
 */
import type { Embedder } from '../../src/embedding/embedder.js';
import { memoryIndexContents, type MemoryIndex } from '../../src/index/memory.js';
import type { IndexUpdate } from '../../src/storage/postgres/pg-store.js';
import type { IndexContents, Store } from '../../src/storage/store.js';

/** `store`, keeping the contents of the last generation it saved. */
export function capturing(store: Store): Store & { last(): IndexContents } {
  let last: IndexContents | undefined;
  return {
    ...store,
    saveGeneration: (contents) => {
      last = contents;
      return store.saveGeneration(contents);
    },
    last: () => {
      if (!last) throw new Error('no generation was saved');
      return last;
    },
  };
}

/** The contents a build would save for an index built in memory. */
export function contentsOf(index: MemoryIndex, embedder: Embedder | null): IndexContents {
  return memoryIndexContents(index, embedder);
}

/** The setup an update made after writing `contents` carries (the same one, so the store takes it). */
export function setupOf(contents: IndexContents): Pick<IndexUpdate, 'lexicalOptions' | 'hnsw' | 'maxPassageChars'> {
  return { lexicalOptions: contents.lexicalOptions, hnsw: contents.hnsw, maxPassageChars: contents.maxPassageChars };
}
