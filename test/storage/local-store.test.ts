import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, rm, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256 } from '../../src/hash.js';
import { decodeArticleBytes, parseArticle } from '../../src/ingest/article.js';
import { resolveModelSettings } from '../../src/embedding/transformers.js';
import { buildIndex } from '../../src/index/build.js';
import { articlePassages } from '../../src/ingest/passages.js';
import { search } from '../../src/retrieval/search.js';
import { contentStems } from '../../src/text/tokens.js';
import { DEFAULT_HNSW, VectorIndex } from '../../src/index/hnsw.js';
import {
  copySeeds,
  createFakeEmbedder,
  listTree,
  makeTempDir,
  MODELS_DIR,
  OFFLINE_MODEL,
  removeTempDirs,
  loadIndex,
  folders,
} from '../helpers.js';
import { checkModel, MANIFEST_FILE, readManifest, writeManifest } from '../../src/storage/manifest.js';
import { IndexCorrupt, IndexLocked, IndexMissing, ModelMismatch } from '../../src/storage/errors.js';
import type { LoadedIndex } from '../../src/storage/store.js';
import { localStore } from '../../src/storage/local-store.js';
import { describeError } from '../../src/app/cli.js';
import { buildMemoryIndex } from '../../src/index/memory.js';

const A = '000_9269c2b80335e754.txt';
const B = '004_c6458dd0e0f282a6.txt';
const NEW_PARAGRAPH = '\nThe xylophonist Quentin Zzyzx performed for the troops at the Tanf base in Syria on Friday evening.\n';

afterEach(removeTempDirs);

async function setup() {
  const seedsDir = await copySeeds([A, B]);
  const indexDir = path.join(await makeTempDir('citebot-index-'), 'index');
  const embedder = createFakeEmbedder();
  return { seedsDir, indexDir, embedder };
}

async function parsedSeed(dir: string, file: string) {
  const bytes = await readFile(path.join(dir, file));
  return parseArticle(file, decodeArticleBytes(file, bytes), sha256(bytes));
}

function passagesOf(index: LoadedIndex, file: string) {
  return [...index.passages.values()].filter((passage) => passage.file === file);
}

async function expectRejects(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/** A process id that certainly ran once and has exited. */

describe('buildIndex and loadIndex', () => {
  it('round-trips: what is built is what loads, and it searches like the in-memory index', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const articles = [await parsedSeed(seedsDir, A), await parsedSeed(seedsDir, B)];
    const passageCount = articles.reduce((sum, article) => sum + articlePassages(article).length, 0);

    expect(report).toMatchObject({ mode: 'hybrid', upToDate: false, added: [A, B], changed: [], removed: [], unchanged: 0, skipped: [] });
    expect(report.articleCount).toBe(2);
    expect(report.passageCount).toBe(passageCount);
    expect(report.embeddedPassages).toBe(passageCount);
    expect(embedder.passageTexts()).toHaveLength(passageCount);

    const loaded = await loadIndex(indexDir);
    expect(loaded.manifest).toEqual(report.manifest);
    expect(loaded.manifest.embedding).toEqual(embedder.fingerprint);
    // Each source also records its size and modification time, so later builds can skip reading it.
    expect(loaded.manifest.sources).toEqual(
      articles.map((article) => ({
        file: article.file,
        sha256: article.hash,
        passages: articlePassages(article).length,
        size: expect.any(Number),
        mtimeMs: expect.any(Number),
      })),
    );
    for (const article of articles) {
      const { paragraphs, ...record } = article;
      expect(loaded.articles.get(article.file)).toEqual({
        ...record,
        paragraphCount: paragraphs.length,
        size: expect.any(Number),
        mtimeMs: expect.any(Number),
      });
      expect(passagesOf(loaded, article.file).map((p) => [p.id, p.text, p.sentences])).toEqual(
        articlePassages(article).map((p) => [p.id, p.text, p.sentences]),
      );
    }
    expect(loaded.lexical.documentCount).toBe(passageCount);

    // Vectors survive the trip: each passage's stored vector is the one the embedder made for its text.
    const expected = await createFakeEmbedder().embed(
      [...loaded.passages.values()].map((p) => p.text),
      'passage',
    );
    [...loaded.passages.values()].forEach((passage, i) => {
      const want = expected[i]!;
      const got = loaded.vectors!.vector(passage.label);
      if (want.every((value) => value === 0)) expect(got).toBeUndefined();
      else expect(Array.from(got!)).toEqual(Array.from(want));
    });

    const memory = await buildMemoryIndex(articles, createFakeEmbedder());
    for (const question of ['How many US troops are in Syria?', 'What did Lavrov say about the Euphrates?']) {
      const fromDisk = await search(question, { index: loaded, embedder, k: 5 });
      const fromMemory = await search(question, { index: memory, embedder, k: 5 });
      expect(fromDisk.mode).toBe('hybrid');
      expect(fromDisk.hits.map((hit) => [hit.passage.id, hit.score.toFixed(9)])).toEqual(
        fromMemory.hits.map((hit) => [hit.passage.id, hit.score.toFixed(9)]),
      );
    }
  });

  it('inserts each passage into the vector index once', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const add = vi.spyOn(VectorIndex.prototype, 'add');
    try {
      const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
      const labels = add.mock.calls.map(([label]) => label);
      expect(labels).toHaveLength(report.passageCount);
      expect(new Set(labels).size).toBe(report.passageCount);
    } finally {
      add.mockRestore();
    }
  });

  it('a second build of unchanged seeds reports upToDate and writes nothing', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const tree = await listTree(indexDir);
    const manifestBytes = await readFile(path.join(indexDir, MANIFEST_FILE));
    const embedded = embedder.passageTexts().length;

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report).toMatchObject({ upToDate: true, added: [], changed: [], removed: [], unchanged: 2, embeddedPassages: 0 });
    expect(await listTree(indexDir)).toEqual(tree);
    expect(await readFile(path.join(indexDir, MANIFEST_FILE))).toEqual(manifestBytes);
    expect(embedder.passageTexts()).toHaveLength(embedded);
    expect(existsSync(path.join(indexDir, '.build.lock'))).toBe(false);
  });

  it('re-embeds only the passages of a changed file, and keeps the labels of the others', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const before = await loadIndex(indexDir);
    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const embeddedBefore = embedder.passageTexts().length;

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const changedArticle = await parsedSeed(seedsDir, A);
    const changedPassages = articlePassages(changedArticle);
    expect(report).toMatchObject({ upToDate: false, added: [], changed: [A], removed: [], unchanged: 1 });
    expect(report.embeddedPassages).toBe(changedPassages.length);
    const newlyEmbedded = embedder.passageTexts().slice(embeddedBefore);
    expect(newlyEmbedded).toEqual(changedPassages.map((p) => p.text));

    const after = await loadIndex(indexDir);
    expect(passagesOf(after, B).map((p) => [p.label, p.id])).toEqual(passagesOf(before, B).map((p) => [p.label, p.id]));
    expect(after.articles.get(A)!.hash).toBe(changedArticle.hash);
    // A small change is written as a delta over the same generation.
    expect(report.wrote).toBe('delta');
    expect(after.manifest.generation).toBe(before.manifest.generation);
    expect(after.manifest.delta).toMatchObject({ passages: changedPassages.length, withdrawn: passagesOf(before, A).length });
    // The new paragraph is searchable, lexically and densely.
    const hit = (await search('Who is Quentin Zzyzx the xylophonist?', { index: after, embedder, k: 1 })).hits[0];
    expect(hit?.passage.text).toContain('Quentin Zzyzx');
    expect(hit?.passage.file).toBe(A);
    expect(after.vectors!.vector(hit!.passage.label)).toBeDefined();
    // Only the current generation and its delta are left on disk.
    expect((await listTree(indexDir)).filter((name) => /^gen-[^/]+$/.test(name))).toEqual([after.manifest.generation]);
    expect((await listTree(indexDir)).filter((name) => name.includes('/delta-'))).toEqual([
      `${after.manifest.generation}/${after.manifest.delta!.file}`,
    ]);
  });

  it('an index updated by deltas searches exactly like one built from scratch, until a merge folds them in', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const extra = 'extra.md';
    const steps: Array<[string, () => Promise<void>]> = [
      ['change A', () => appendFile(path.join(seedsDir, A), NEW_PARAGRAPH)],
      [
        'add a file',
        () =>
          writeFile(
            path.join(seedsDir, extra),
            '# Troops leave Tanf\n\nThe Pentagon said on Monday that 400 troops left the Tanf garrison in Syria.\n',
          ),
      ],
      [
        'change A again',
        () => appendFile(path.join(seedsDir, A), '\nA second late paragraph about the Euphrates crossing near Deir ez-Zor.\n'),
      ],
      ['change the added file', () => appendFile(path.join(seedsDir, extra), '\nThe garrison is expected to close by spring.\n')],
      ['remove B', () => rm(path.join(seedsDir, B))],
    ];
    const questions = [
      'How many troops left Tanf?',
      'Who is Quentin Zzyzx?',
      'What about the Euphrates crossing?',
      'How many US troops are in Syria?',
      'Russia tells the U.S. military to get out',
    ];
    const ranking = async (index: LoadedIndex) =>
      Promise.all(
        questions.map(async (question) =>
          (await search(question, { index, embedder, k: 5 })).hits.map((hit) => [hit.passage.id, hit.score.toFixed(9)]),
        ),
      );
    for (const [step, edit] of steps) {
      await edit();
      const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
      expect(report.wrote, step).toBe('delta');
      const updated = await loadIndex(indexDir);
      const scratchDir = path.join(await makeTempDir('citebot-scratch-'), 'index');
      const fresh = await buildIndex({ ...folders(seedsDir, scratchDir), embedder });
      const rebuilt = await loadIndex(scratchDir);
      expect(updated.manifest.sources, step).toEqual(fresh.manifest.sources);
      expect(updated.manifest.passageCount, step).toBe(rebuilt.passages.size);
      expect(updated.passages.size, step).toBe(rebuilt.passages.size);
      expect(updated.lexical.documentCount, step).toBe(rebuilt.lexical.documentCount);
      expect([...updated.articles.keys()].sort(), step).toEqual([...rebuilt.articles.keys()].sort());
      expect(await ranking(updated), step).toEqual(await ranking(rebuilt));
    }
    const beforeMerge = await loadIndex(indexDir);
    // Over the delta limit, the next update merges everything into a new generation without a delta.
    await appendFile(path.join(seedsDir, A), '\nOne more paragraph, about a convoy on the M4 highway.\n');
    const merged = await buildIndex({ ...folders(seedsDir, indexDir), embedder, maxDeltaPassages: 1 });
    expect(merged.wrote).toBe('generation');
    expect(merged.manifest.generation).not.toBe(beforeMerge.manifest.generation);
    expect(merged.manifest.delta).toBeUndefined();
    expect((await listTree(indexDir)).filter((name) => name.includes('delta-'))).toEqual([]);
    const after = await loadIndex(indexDir);
    expect([...after.passages.values()].some((p) => p.text.includes('M4 highway'))).toBe(true);
    expect(passagesOf(after, B)).toEqual([]);
    expect(after.passages.size).toBe(merged.passageCount);
  });

  it('updates a lexical-only index with a delta too', async () => {
    const { seedsDir, indexDir } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder: null, modeReason: 'no model in this test' });
    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder: null });
    expect(report).toMatchObject({ mode: 'lexical', wrote: 'delta', changed: [A] });
    const after = await loadIndex(indexDir);
    expect(after.vectors).toBeNull();
    expect(after.manifest.modeReason).toBe('no model in this test');
    const hit = (await search('Who is Quentin Zzyzx the xylophonist?', { index: after, embedder: null, k: 1 })).hits[0];
    expect(hit?.passage.text).toContain('Quentin Zzyzx');
  });

  it('drops a removed file from every part of the index', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const before = await loadIndex(indexDir);
    const removedLabels = passagesOf(before, B).map((p) => p.label);
    await rm(path.join(seedsDir, B));
    const embeddedBefore = embedder.passageTexts().length;

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report).toMatchObject({
      upToDate: false,
      added: [],
      changed: [],
      removed: [B],
      unchanged: 1,
      articleCount: 1,
      embeddedPassages: 0,
    });
    expect(embedder.passageTexts()).toHaveLength(embeddedBefore);

    const after = await loadIndex(indexDir);
    expect([...after.articles.keys()]).toEqual([A]);
    expect(passagesOf(after, B)).toEqual([]);
    expect(after.manifest.sources.map((source) => source.file)).toEqual([A]);
    // "Haltiwanger" and "Newsweek" are words of B only.
    expect(after.lexical.search(contentStems('Haltiwanger jaxie')).top(Infinity)).toEqual([]);
    for (const label of removedLabels) expect(after.vectors!.vector(label)).toBeUndefined();
    const hits = (await search('Russia tells the U.S. military to get out', { index: after, embedder, k: 50 })).hits;
    expect(hits.every((hit) => hit.passage.file === A)).toBe(true);
  });

  it('rebuilds from scratch when asked, embedding everything again', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const first = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, rebuild: true });
    expect(report.upToDate).toBe(false);
    expect(report.embeddedPassages).toBe(first.passageCount);
    expect(report.fullRebuildReason).toMatch(/rebuild/);
  });

  it('rebuilds for another graph (M, efConstruction) but not for another efSearch, which searches use as set now', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder, hnsw: { ...DEFAULT_HNSW, efSearch: 50 } });
    expect((await loadIndex(indexDir)).vectors!.parameters.efSearch).toBe(DEFAULT_HNSW.efSearch);
    expect(await buildIndex({ ...folders(seedsDir, indexDir), embedder })).toMatchObject({ upToDate: true });
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, hnsw: { ...DEFAULT_HNSW, m: 8 } });
    expect(report.fullRebuildReason).toBe('the HNSW parameters changed (m 16 → 8)');
  });

  it('skips an oversized file by its size, without reading it, and indexes the rest', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await writeFile(path.join(seedsDir, 'dump.txt'), `${'Troops stayed in Syria. '.repeat(250_000)}\n`);
    const warnings: string[] = [];
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(report.skipped.map((entry) => entry.file)).toEqual(['dump.txt']);
    expect(warnings).toEqual([expect.stringMatching(/dump\.txt: the file is \d+ bytes; articles over \d+ bytes are skipped/)]);
    expect(report.added).toEqual([A, B]);
  });

  it('follows symbolic links to articles and folders, once each, and skips loops and broken links with warnings', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const elsewhere = await makeTempDir('citebot-elsewhere-');
    await writeFile(path.join(elsewhere, 'linked.md'), '---\ntitle: Linked\n---\nThe xylophonist Quentin Zzyzx toured Syria.\n');
    await mkdir(path.join(elsewhere, 'folder'));
    await writeFile(
      path.join(elsewhere, 'folder', 'inside.md'),
      '---\ntitle: Inside\n---\nThe glockenspiel player Yolanda Qwerty visited Damascus.\n',
    );
    await symlink(path.join(elsewhere, 'linked.md'), path.join(seedsDir, 'linked.md'));
    await symlink(path.join(elsewhere, 'linked.md'), path.join(seedsDir, 'again.md'));
    await symlink(path.join(elsewhere, 'folder'), path.join(seedsDir, 'folder'));
    await symlink(seedsDir, path.join(elsewhere, 'folder', 'back'));
    await symlink(path.join(elsewhere, 'gone.md'), path.join(seedsDir, 'broken.md'));
    const warnings: string[] = [];

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(report.added.sort()).toEqual([A, B, 'again.md', 'folder/inside.md'].sort());
    expect(report.skipped.map((entry) => entry.file).sort()).toEqual(['broken.md', 'folder/back', 'linked.md']);
    expect(warnings.join('\n')).toMatch(/broken\.md: a symbolic link whose target is missing/);
    expect(warnings.join('\n')).toMatch(/folder\/back: a link back to a folder already read \(a loop\)/);
    expect(warnings.join('\n')).toMatch(/linked\.md: another name \(a link\) for an article already listed/);
  });

  it('skips a binary and an empty file with warnings that name them, and indexes the rest', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await writeFile(
      path.join(seedsDir, 'photo.txt'),
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]),
    );
    await writeFile(path.join(seedsDir, 'empty.md'), '');
    await mkdir(path.join(seedsDir, 'more'));
    await writeFile(
      path.join(seedsDir, 'more', 'note.md'),
      '---\ntitle: A Note\n---\nThe xylophonist Quentin Zzyzx played for the troops in Syria on Friday.\n',
    );
    await writeFile(path.join(seedsDir, 'ignored.pdf'), 'not an article type');
    const warnings: string[] = [];

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(report.skipped.map((entry) => entry.file).sort()).toEqual(['empty.md', 'photo.txt']);
    expect(warnings.some((message) => message.includes('photo.txt') && /binary/.test(message))).toBe(true);
    expect(warnings.some((message) => message.includes('empty.md') && /empty/.test(message))).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(report.added).toEqual([A, B, 'more/note.md']);
    const loaded = await loadIndex(indexDir);
    expect([...loaded.articles.keys()].sort()).toEqual([A, B, 'more/note.md']);
  });
});

describe('loadIndex refusing a bad index', () => {
  async function built() {
    const context = await setup();
    const report = await buildIndex({ ...folders(context.seedsDir, context.indexDir), embedder: context.embedder });
    const generationDir = path.join(context.indexDir, report.manifest.generation);
    return { ...context, generation: report.manifest.generation, generationDir };
  }

  it('throws IndexMissing, saying what to run, when there is no index', async () => {
    const dir = await makeTempDir();
    const error = await expectRejects(loadIndex(dir));
    expect(error).toBeInstanceOf(IndexMissing);
    expect((error as IndexMissing).remedy).toBe('build-index');
    expect(describeError(error)).toContain('npm run index');
    await expect(loadIndex(path.join(dir, 'does-not-exist'))).rejects.toBeInstanceOf(IndexMissing);
  });

  it('throws ModelMismatch, saying to run `npm run index`, for an index built with another model', async () => {
    const { indexDir, embedder } = await built();
    const index = await loadIndex(indexDir);
    const configured = resolveModelSettings({ model: OFFLINE_MODEL, modelsDir: MODELS_DIR, cacheDir: '.cache', allowRemote: false });
    let error: Error | undefined;
    try {
      checkModel(index.manifest.embedding, configured);
    } catch (caught) {
      error = caught as Error;
    }
    expect(error).toBeInstanceOf(ModelMismatch);
    expect((error as ModelMismatch).remedy).toBe('reindex-for-model');
    expect(describeError(error)).toContain('npm run index');
    expect(error!.message).toContain(embedder.fingerprint.model);
    expect(error!.message).toContain(OFFLINE_MODEL);
    // The same setup, or a lexical side, is no mismatch.
    expect(() => checkModel(index.manifest.embedding, embedder.fingerprint)).not.toThrow();
    expect(() => checkModel(null, configured)).not.toThrow();
    // A different query prefix is a mismatch too.
    expect(() => checkModel(index.manifest.embedding, { ...embedder.fingerprint, queryPrefix: 'query: ' })).toThrow(ModelMismatch);
  });

  it.each(['corpus.json', 'lexical.bin', 'vectors.f32', 'graph.hnsw'])(
    'throws IndexCorrupt naming %s when it is truncated',
    async (name) => {
      const { indexDir, generation, generationDir } = await built();
      const file = path.join(generationDir, name);
      const size = (await readFile(file)).length;
      await truncate(file, Math.floor(size / 2));
      const error = await expectRejects(loadIndex(indexDir));
      expect(error).toBeInstanceOf(IndexCorrupt);
      expect(error.message).toContain(`${generation}/${name}`);
      expect(error.message).toMatch(/truncated/);
    },
  );

  it('throws IndexCorrupt naming a data file that is missing', async () => {
    const { indexDir, generationDir } = await built();
    await rm(path.join(generationDir, 'lexical.bin'));
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toContain('lexical.bin');
  });

  it.each(['corpus.json', 'vectors.f32'])('throws IndexCorrupt (checksum) when bytes of %s change but not its length', async (name) => {
    const { indexDir, generationDir } = await built();
    const file = path.join(generationDir, name);
    const bytes = await readFile(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    await writeFile(file, bytes);
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/checksum/);
  });

  it.each([
    ['garbage', '{"format": 1, "generation": "gen-'],
    ['not an object', '"hello"'],
    ['a manifest missing fields', '{"format": 1}'],
    ['an empty file', ''],
  ])('throws IndexCorrupt for %s in manifest.json', async (_what, content) => {
    const { indexDir } = await built();
    await writeFile(path.join(indexDir, MANIFEST_FILE), content);
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toContain('manifest');
    expect((error as IndexCorrupt).remedy).toBe('rebuild-index');
    expect(describeError(error)).toContain('npm run index -- --rebuild');
  });

  it('loads an index written before the corpus file had one passage a line, as it is', async () => {
    const { indexDir, generationDir } = await built();
    const before = await loadIndex(indexDir);
    const file = path.join(generationDir, 'corpus.json');
    const lines = await readFile(file);
    expect(lines.toString('utf8').split('\n').length).toBeGreaterThan(before.passages.size);
    const oneLine = Buffer.from(JSON.stringify(JSON.parse(lines.toString('utf8'))));
    await writeFile(file, oneLine);
    const manifest = await readManifest(indexDir);
    await writeManifest(indexDir, {
      ...manifest,
      files: { ...manifest.files, 'corpus.json': { bytes: oneLine.length, sha256: sha256(oneLine) } },
    });
    const after = await loadIndex(indexDir);
    expect([...after.passages.values()]).toEqual([...before.passages.values()]);
    expect([...after.articles.values()]).toEqual([...before.articles.values()]);
  });

  it('throws IndexCorrupt for a manifest of another format version', async () => {
    const { indexDir } = await built();
    const manifest = JSON.parse(await readFile(path.join(indexDir, MANIFEST_FILE), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(indexDir, MANIFEST_FILE), JSON.stringify({ ...manifest, format: 99 }));
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toContain('format 99');
  });

  it('catches a hand-edited manifest (its source list emptied) and rebuilds instead of indexing everything twice', async () => {
    const { seedsDir, indexDir, embedder } = await built();
    const file = path.join(indexDir, MANIFEST_FILE);
    const manifest = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...manifest, sources: [] }, null, 2));
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toMatch(/does not match its checksum/);

    const warnings: string[] = [];
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(warnings.some((warning) => /checksum.*Rebuilding/.test(warning))).toBe(true);
    const index = await loadIndex(indexDir);
    expect(index.passages.size).toBe(report.passageCount);
    const ids = [...index.passages.values()].map((passage) => passage.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('refuses a corrupt delta, and a build over it rebuilds the index', async () => {
    const { seedsDir, indexDir, embedder } = await built();
    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const update = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const deltaFile = path.join(indexDir, update.manifest.generation, update.manifest.delta!.file);
    const bytes = await readFile(deltaFile);
    bytes[bytes.length >> 1]! ^= 0x20;
    await writeFile(deltaFile, bytes);
    const error = await expectRejects(loadIndex(indexDir));
    expect(error).toBeInstanceOf(IndexCorrupt);
    expect(error.message).toContain(update.manifest.delta!.file);

    await appendFile(path.join(seedsDir, B), NEW_PARAGRAPH);
    const warnings: string[] = [];
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(report).toMatchObject({ wrote: 'generation', fullRebuildReason: expect.stringMatching(/unreadable/) });
    expect(warnings.some((message) => message.includes('checksum'))).toBe(true);
    expect((await loadIndex(indexDir)).passages.size).toBe(report.passageCount);
  });

  it('an update over a truncated generation file rebuilds instead of writing a delta on top of it', async () => {
    const { seedsDir, indexDir, embedder, generationDir } = await built();
    await truncate(path.join(generationDir, 'graph.hnsw'), 100);
    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: () => {} });
    expect(report).toMatchObject({ wrote: 'generation', fullRebuildReason: expect.stringMatching(/unreadable/) });
    expect((await loadIndex(indexDir)).passages.size).toBe(report.passageCount);
  });

  it('a build over a corrupt index warns and rebuilds it from the seeds', async () => {
    const { seedsDir, indexDir, embedder, generationDir } = await built();
    await truncate(path.join(generationDir, 'corpus.json'), 10);
    const warnings: string[] = [];
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder, warn: (message) => warnings.push(message) });
    expect(report.upToDate).toBe(false);
    expect(report.fullRebuildReason).toMatch(/unreadable/);
    expect(warnings.some((message) => message.includes('corpus.json'))).toBe(true);
    await expect(loadIndex(indexDir)).resolves.toMatchObject({ manifest: { articleCount: 2 } });
  });
});

describe('interrupted and concurrent builds', () => {
  it('a build that fails halfway through embedding leaves the previous index loadable and intact', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const manifestBefore = await readFile(path.join(indexDir, MANIFEST_FILE));
    const treeBefore = await listTree(indexDir);

    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    embedder.failNextPassageBatch = new Error('the model crashed halfway');
    const progress: Array<[number, number]> = [];
    await expect(
      buildIndex({ ...folders(seedsDir, indexDir), embedder, onEmbedProgress: (done, total) => progress.push([done, total]) }),
    ).rejects.toThrow('the model crashed halfway');
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)![0]).toBeLessThan(progress.at(-1)![1]);

    expect(await readFile(path.join(indexDir, MANIFEST_FILE))).toEqual(manifestBefore);
    expect(await listTree(indexDir)).toEqual(treeBefore);
    const previous = await loadIndex(indexDir);
    expect(previous.manifest.articleCount).toBe(2);
    expect([...previous.passages.values()].some((p) => p.text.includes('Zzyzx'))).toBe(false);
    expect(existsSync(path.join(indexDir, '.build.lock'))).toBe(false);

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report).toMatchObject({ upToDate: false, changed: [A] });
    const after = await loadIndex(indexDir);
    expect([...after.passages.values()].some((p) => p.text.includes('Zzyzx'))).toBe(true);
  });

  it('a generation left behind by a build killed while writing is ignored, then cleaned up', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const first = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const stray = path.join(indexDir, 'gen-killed-000000');
    await mkdir(stray);
    await writeFile(path.join(stray, 'corpus.json'), '{"articles": [');

    const loaded = await loadIndex(indexDir);
    expect(loaded.manifest.generation).toBe(first.manifest.generation);

    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(existsSync(stray)).toBe(false);
    // A small update keeps the generation and adds a delta; a rebuild replaces the generation.
    expect(report.manifest.generation).toBe(first.manifest.generation);
    const rebuilt = await buildIndex({ ...folders(seedsDir, indexDir), embedder, rebuild: true });
    expect(existsSync(path.join(indexDir, first.manifest.generation))).toBe(false);
    expect(existsSync(path.join(indexDir, rebuilt.manifest.generation))).toBe(true);
  });

  it('a delta left behind by an update killed before switching the manifest is ignored, then cleaned up', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const first = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    const stray = path.join(indexDir, first.manifest.generation, 'delta-killed-000000.json');
    await writeFile(stray, '{"articles": [');
    const loaded = await loadIndex(indexDir);
    expect(loaded.manifest.delta).toBeUndefined();
    expect(loaded.passages.size).toBe(first.passageCount);

    await appendFile(path.join(seedsDir, A), NEW_PARAGRAPH);
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report.wrote).toBe('delta');
    expect(existsSync(stray)).toBe(false);
  });

  it('loads while updates keep switching the manifest, never mistaking a replaced delta for corruption', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    let updating = true;
    const updates = (async () => {
      for (let i = 0; i < 25; i += 1) {
        await appendFile(path.join(seedsDir, A), `\nUpdate ${i}: the xylophonist Quentin Zzyzx played again.\n`);
        await buildIndex({ ...folders(seedsDir, indexDir), embedder });
      }
      updating = false;
    })();
    let loads = 0;
    while (updating) {
      const index = await loadIndex(indexDir);
      expect(index.passages.size).toBe(index.manifest.passageCount);
      loads += 1;
    }
    await updates;
    expect(loads).toBeGreaterThan(5);
  });

  it('takes over a stale lock left by a build that no longer runs (its lock not refreshed for a minute)', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const lock = path.join(indexDir, '.build.lock');
    await mkdir(lock, { recursive: true });
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, aMinuteAgo, aMinuteAgo);

    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report.articleCount).toBe(2);
    expect(existsSync(lock)).toBe(false);
    await expect(loadIndex(indexDir)).resolves.toBeDefined();
  });

  it('takes over a pid lock file left by an earlier version whose process is gone, and refuses one whose process runs', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await mkdir(indexDir, { recursive: true });
    const lock = path.join(indexDir, '.build.lock');
    await writeFile(lock, String(process.ppid));
    await expect(buildIndex({ ...folders(seedsDir, indexDir), embedder })).rejects.toBeInstanceOf(IndexLocked);
    expect(await readFile(lock, 'utf8')).toBe(String(process.ppid));

    await writeFile(lock, String(deadPid()));
    await expect(buildIndex({ ...folders(seedsDir, indexDir), embedder })).resolves.toMatchObject({ articleCount: 2 });
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose recorded process is alive but which nobody refreshes (a reused pid)', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    const lock = path.join(indexDir, '.build.lock');
    await mkdir(lock, { recursive: true });
    // The parent of this test worker is alive, but it holds no lock: only the mtime can tell.
    await writeFile(`${lock}.owner`, String(process.ppid));
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, aMinuteAgo, aMinuteAgo);
    await expect(buildIndex({ ...folders(seedsDir, indexDir), embedder })).resolves.toMatchObject({ articleCount: 2 });
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(`${lock}.owner`)).toBe(false);
  });

  it('finishes a build whose lock was removed under it, with a warning, and does not fail on release', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await mkdir(indexDir, { recursive: true });
    const warnings: string[] = [];
    const release = await localStore(indexDir).lock({ onCompromised: (message) => warnings.push(message) });
    await rm(path.join(indexDir, '.build.lock'), { recursive: true });
    // proper-lockfile notices at its next refresh (every 3 s).
    await vi.waitFor(() => expect(warnings.some((warning) => warning.includes('was lost'))).toBe(true), { timeout: 10_000, interval: 200 });
    await expect(release()).resolves.toBeUndefined();
    await expect(buildIndex({ ...folders(seedsDir, indexDir), embedder })).resolves.toMatchObject({ articleCount: 2 });
  });

  it('refuses to build while another build holds the lock, naming its process, and leaves its lock alone', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await mkdir(indexDir, { recursive: true });
    const release = await localStore(indexDir).lock({});
    try {
      const error = await expectRejects(buildIndex({ ...folders(seedsDir, indexDir), embedder }));
      expect(error).toBeInstanceOf(IndexLocked);
      expect(error.message).toContain(`process ${process.pid}`);
      expect(existsSync(path.join(indexDir, '.build.lock'))).toBe(true);
      await expect(readManifest(indexDir)).rejects.toBeInstanceOf(IndexMissing);
    } finally {
      await release();
    }
  });

  it('waits for a build in progress, says so, and builds once it is done', async () => {
    const { seedsDir, indexDir, embedder } = await setup();
    await mkdir(indexDir, { recursive: true });
    const release = await localStore(indexDir).lock({});
    const warnings: string[] = [];
    const waiting = buildIndex({
      ...folders(seedsDir, indexDir),
      embedder,
      waitForLockMs: 5_000,
      warn: (message) => warnings.push(message),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await release();
    await expect(waiting).resolves.toMatchObject({ articleCount: 2 });
    expect(warnings.some((warning) => /Another build \(process \d+\) is writing .*; waiting up to 5 s/.test(warning))).toBe(true);
  });
});

/** A process id that certainly ran once and has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.pid).toBeGreaterThan(0);
  return child.pid!;
}
