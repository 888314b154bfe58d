/**
 * An index that cannot be written (permissions, a read-only disk) and seeds that changed since it was
 * built: start-up answers from the index as it was, with a warning that says why; `npm run index` fails
 * with a sentence that says what to do, never with a raw EACCES.
 */
import { execFileSync } from 'node:child_process';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../src/index/build.js';
import { seedFolder } from '../../src/ingest/seed-files.js';
import { IndexReadOnly } from '../../src/storage/errors.js';
import { localStore } from '../../src/storage/local-store.js';
import type { Store } from '../../src/storage/store.js';
import { copySeeds, createFakeEmbedder, makeTempDir, removeTempDirs, SEED_FILES } from '../helpers.js';

afterAll(removeTempDirs);

/** The store as it behaves on a folder it may not write: reads work, the lock is refused. */
function unwritable(store: Store): Store {
  return {
    ...store,
    lock: async () => {
      throw new IndexReadOnly(`The index folder ${store.location} cannot be written (EACCES), so the index cannot be updated.`);
    },
  };
}

async function builtIndexWithChangedSeeds() {
  const seedsDir = await copySeeds();
  const indexDir = await makeTempDir('citebot-index-');
  const embedder = createFakeEmbedder();
  await buildIndex({ source: seedFolder(seedsDir), store: localStore(indexDir), embedder });
  await appendFile(path.join(seedsDir, SEED_FILES[0]!), '\n\nA paragraph added after the index was built, about troops in Syria.\n');
  return { seedsDir, indexDir, embedder };
}

describe('an index that cannot be written', () => {
  it('at start-up, answers from the index as it was built and says why it is not updated', async () => {
    const { seedsDir, indexDir, embedder } = await builtIndexWithChangedSeeds();
    const warnings: string[] = [];
    const report = await buildIndex({
      source: seedFolder(seedsDir),
      store: unwritable(localStore(indexDir)),
      embedder,
      startUp: true,
      warn: (message) => warnings.push(message),
    });
    expect(report.index?.articles.size).toBe(SEED_FILES.length);
    expect(report.wrote).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/cannot be written \(EACCES\).*Answering from the index as it was built/)]);
  });

  it('for an update, fails with IndexReadOnly, not a raw errno', async () => {
    const { seedsDir, indexDir, embedder } = await builtIndexWithChangedSeeds();
    await expect(buildIndex({ source: seedFolder(seedsDir), store: unwritable(localStore(indexDir)), embedder })).rejects.toBeInstanceOf(
      IndexReadOnly,
    );
  });

  // A folder made immutable refuses writes even to root (who the tests may run as); where chattr is
  // not available (no root, another file system), the store's translation of the errno goes unchecked here.
  const immutable = (dir: string, on: boolean) => {
    try {
      execFileSync('chattr', [on ? '+i' : '-i', dir], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };

  it('the local store turns EACCES/EPERM/EROFS on the index folder into IndexReadOnly with what to do', async (context) => {
    const { seedsDir, indexDir, embedder } = await builtIndexWithChangedSeeds();
    if (!immutable(indexDir, true)) return context.skip();
    try {
      const update = buildIndex({ source: seedFolder(seedsDir), store: localStore(indexDir), embedder });
      await expect(update).rejects.toBeInstanceOf(IndexReadOnly);
      await expect(update).rejects.toThrow(/cannot be written \(EPERM\).*Give this user write access to it, or set INDEX_DIR/);
      const warnings: string[] = [];
      const startUp = await buildIndex({
        source: seedFolder(seedsDir),
        store: localStore(indexDir),
        embedder,
        startUp: true,
        warn: (m) => warnings.push(m),
      });
      expect(startUp.index?.articles.size).toBe(SEED_FILES.length);
      expect(warnings.join('\n')).toMatch(/Answering from the index as it was built/);
    } finally {
      immutable(indexDir, false);
    }
  });
});
