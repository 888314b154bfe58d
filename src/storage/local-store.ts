/**
 * The index in a local folder: `manifest.json` and one generation folder of data files, plus at most one
 * delta file in it. A full build writes a complete new generation; an update that changes little writes
 * only a delta (the passages added since the generation was written, with their vectors, and the
 * articles whose passages are withdrawn), which loading applies on top. Either way the manifest is
 * replaced atomically (write + rename) last, and what it no longer names is removed after; a build killed
 * at any point leaves the previous manifest and its files intact.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PARSER_VERSION } from '../ingest/article.js';
import { LexicalIndex, lexicalDocument, type LexicalOptions } from '../index/bm25.js';
import { DEFAULT_HNSW, VectorIndex } from '../index/hnsw.js';
import { scoringThread } from '../index/scoring-thread.js';
import { corpusParts, EMPTY_DELTA, parseDelta, readCorpus, writeDelta, type IndexDelta } from './codec.js';
import { IndexCorrupt, IndexReadOnly } from './errors.js';
import { lockIndexDir, type LockOptions } from './lock.js';
import { INDEX_FORMAT, MANIFEST_FILE, readManifest, writeManifest, type Manifest } from './manifest.js';
import type { DeltaUpdate, IndexContents, LoadedIndex, Store } from './store.js';
import { checkSizes, flushWritten, readVerified, verifyFile, writeFlushed, writeFlushedParts } from './verified-files.js';

const CORPUS_FILE = 'corpus.json';
const LEXICAL_FILE = 'lexical.bin';
const VECTORS_FILE = 'vectors.f32';
const GRAPH_FILE = 'graph.hnsw';

/** The index kept in the folder `indexDir`. */
export function localStore(indexDir: string): Store {
  return {
    location: indexDir,
    readManifest: () => readManifest(indexDir),
    load: () => loadIndex(indexDir),
    readDelta: (manifest) => readDeltaFile(indexDir, manifest),
    checkFiles: (manifest) => checkSizes(indexDir, manifest.generation, manifest.files),
    saveGeneration: (contents) => saveGeneration(indexDir, contents),
    saveDelta: (previous, update) => saveDelta(indexDir, previous, update),
    lock: async (options: LockOptions) => {
      try {
        await mkdir(indexDir, { recursive: true });
        return await lockIndexDir(indexDir, options);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
          throw new IndexReadOnly(
            `The index folder ${indexDir} cannot be written (${code}), so the index cannot be updated. Give this user write access to it, or set INDEX_DIR to a folder it can write.`,
            { cause: error },
          );
        throw error;
      }
    },
    size: () => indexSize(indexDir),
  };
}

/** Reads the manifest's delta, verified against its checksum; the empty delta when there is none. */
async function readDeltaFile(indexDir: string, manifest: Manifest): Promise<IndexDelta> {
  if (!manifest.delta) return EMPTY_DELTA;
  const bytes = await readVerified(indexDir, manifest.generation, manifest.delta.file, manifest.delta);
  try {
    return parseDelta(bytes, manifest.mode === 'hybrid' ? (manifest.embedding?.dimension ?? null) : null);
  } catch (error) {
    throw new IndexCorrupt(
      `The index delta ${manifest.generation}/${manifest.delta.file} could not be read (${(error as Error).message}).`,
    );
  }
}

/**
 * Reads and verifies every file of the current generation, and applies its delta. A build that switches
 * the manifest while this reads removes the files it read from; then the new manifest is read, and the
 * load starts over (a file that is bad under an unchanged manifest is corruption).
 */
async function loadIndex(indexDir: string): Promise<LoadedIndex> {
  for (let attempt = 1; ; attempt += 1) {
    const manifest = await readManifest(indexDir);
    try {
      return await loadManifestFiles(indexDir, manifest);
    } catch (error) {
      if (!(error instanceof IndexCorrupt) || attempt === 10) throw error;
      const now = await readManifest(indexDir).catch(() => undefined);
      if (!now || (now.generation === manifest.generation && now.delta?.file === manifest.delta?.file)) throw error;
    }
  }
}

async function loadManifestFiles(indexDir: string, manifest: Manifest): Promise<LoadedIndex> {
  const lexicalOptions: LexicalOptions = { bm25: manifest.build.bm25, titleBoost: manifest.build.titleBoost };
  const generationDir = path.join(indexDir, manifest.generation);
  for (const name of [CORPUS_FILE, LEXICAL_FILE]) if (!manifest.files[name]) throw new IndexCorrupt(`The index manifest lists no ${name}.`);
  const hybrid = manifest.mode === 'hybrid' && manifest.embedding;
  if (hybrid)
    for (const name of [VECTORS_FILE, GRAPH_FILE])
      if (!manifest.files[name]) throw new IndexCorrupt(`The index manifest lists no ${name}.`);
  // One file at a time, each let go once it is used: at a million passages they are gigabytes. What this
  // process does not read itself (hnswlib reads the graph) is checked without being kept.
  for (const [name, expected] of Object.entries(manifest.files)) {
    if (name !== CORPUS_FILE && name !== LEXICAL_FILE && name !== VECTORS_FILE)
      await verifyFile(indexDir, manifest.generation, name, expected);
  }
  const read = (name: string, options?: { shared: boolean }) =>
    readVerified(indexDir, manifest.generation, name, manifest.files[name]!, options);
  const delta = await readDeltaFile(indexDir, manifest);

  try {
    const corpus = readCorpus(await read(CORPUS_FILE));
    // In shared memory, where a second thread can score half of a large question's postings.
    const helper = scoringThread();
    const lexical = LexicalIndex.deserialize(await read(LEXICAL_FILE, { shared: helper !== undefined }), lexicalOptions);
    lexical.useHelper(helper);
    let vectors: VectorIndex | null = null;
    if (hybrid) {
      const { dimension } = hybrid;
      const rows = float32Rows(await read(VECTORS_FILE));
      // Passages whose row is zero have no vector (a text the model knows no word of).
      const labels: number[] = [];
      for (const { label } of corpus.passages) {
        for (let i = label * dimension, end = Math.min(i + dimension, rows.length); i < end; i += 1) {
          if (rows[i] === 0) continue;
          labels.push(label);
          break;
        }
      }
      // efSearch is a search setting: an index is searched with the current one, whatever it was built with.
      const parameters = { ...manifest.build.hnsw, efSearch: DEFAULT_HNSW.efSearch };
      vectors = VectorIndex.load(path.join(generationDir, GRAPH_FILE), rows, labels, dimension, parameters);
    }
    const index: LoadedIndex = {
      manifest,
      articles: new Map(corpus.articles.map((article) => [article.file, article])),
      passages: new Map(corpus.passages.map((passage) => [passage.label, passage])),
      lexical,
      vectors,
    };
    applyDelta(index, delta);
    return index;
  } catch (error) {
    if (error instanceof IndexCorrupt) throw error;
    throw new IndexCorrupt(`The index in ${indexDir} could not be read (${(error as Error).message}).`);
  }
}

/** The vector rows of a file as read: its own memory when it is a buffer of its own, else a copy. */
function float32Rows(raw: Buffer): Float32Array {
  if (raw.byteLength % 4 !== 0) throw new Error(`${VECTORS_FILE} is not a whole number of float32 values`);
  if (raw.byteOffset === 0 && raw.buffer.byteLength === raw.byteLength) return new Float32Array(raw.buffer, 0, raw.byteLength / 4);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

/** Withdraws the replaced articles' passages from every part of the index, then adds the delta's. */
function applyDelta(index: LoadedIndex, delta: IndexDelta): void {
  if (delta.replaced.length === 0 && delta.passages.length === 0) return;
  const replaced = new Set(delta.replaced);
  const withdrawn = [...index.passages.values()].filter((passage) => replaced.has(passage.file));
  index.lexical.remove(withdrawn.map((passage) => passage.label));
  for (const passage of withdrawn) {
    index.passages.delete(passage.label);
    index.vectors?.remove(passage.label);
  }
  for (const file of replaced) index.articles.delete(file);
  for (const article of delta.articles) index.articles.set(article.file, article);
  index.lexical.add(delta.passages.map((passage) => lexicalDocument(passage, index.articles.get(passage.file)?.title ?? '')));
  delta.passages.forEach((passage, i) => {
    index.passages.set(passage.label, passage);
    const vector = delta.vectors?.[i];
    if (vector) index.vectors?.add(passage.label, vector);
  });
}

/** Writes a new generation and switches the manifest to it. Returns the new manifest. */
async function saveGeneration(indexDir: string, contents: IndexContents): Promise<Manifest> {
  await mkdir(indexDir, { recursive: true });
  const generation = `gen-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const generationDir = path.join(indexDir, generation);
  await mkdir(generationDir);
  const files: Manifest['files'] = {};

  const writeData = async (name: string, parts: Iterable<Uint8Array>) => {
    files[name] = await writeFlushedParts(path.join(generationDir, name), parts);
  };

  // The files are written and flushed concurrently, each in pieces made as the previous one is written:
  // the disk overlaps them while this thread serialises, and no file is ever whole in memory.
  const writes = [
    writeData(CORPUS_FILE, corpusParts(contents.articles, contents.passages)),
    writeData(LEXICAL_FILE, contents.lexical.serializedParts()),
  ];
  if (contents.vectors) {
    const rows = contents.vectors.rows();
    writes.push(writeData(VECTORS_FILE, [new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)]));
    const graphFile = path.join(generationDir, GRAPH_FILE);
    contents.vectors.writeGraph(graphFile);
    writes.push(
      flushWritten(graphFile).then((record) => {
        files[GRAPH_FILE] = record;
      }),
    );
  }
  await Promise.all(writes);

  const passagesPerFile = new Map<string, number>();
  for (const passage of contents.passages) passagesPerFile.set(passage.file, (passagesPerFile.get(passage.file) ?? 0) + 1);
  const manifest: Manifest = {
    format: INDEX_FORMAT,
    generation,
    createdAt: new Date().toISOString(),
    mode: contents.mode,
    modeReason: contents.modeReason,
    embedding: contents.embedding,
    articleCount: contents.articles.length,
    passageCount: contents.passages.length,
    sources: contents.articles.map((article) => ({
      file: article.file,
      sha256: article.hash,
      passages: passagesPerFile.get(article.file) ?? 0,
      size: article.size,
      mtimeMs: article.mtimeMs,
    })),
    build: {
      hnsw: contents.hnsw,
      bm25: contents.lexicalOptions.bm25,
      titleBoost: contents.lexicalOptions.titleBoost,
      maxPassageChars: contents.maxPassageChars,
      parserVersion: PARSER_VERSION,
      nextLabel: contents.nextLabel,
    },
    files,
  };
  await writeManifest(indexDir, manifest);
  await removeOtherGenerations(indexDir, generation);
  return manifest;
}

/**
 * Writes a delta over the current generation and switches the manifest to it: the generation's files
 * stay as they are. The delta replaces the previous one, so it holds every change since the generation.
 */
async function saveDelta(indexDir: string, previous: Manifest, update: DeltaUpdate): Promise<Manifest> {
  const name = `delta-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.json`;
  const bytes = writeDelta(update.delta, previous.embedding?.dimension ?? 0);
  const record = await writeFlushed(path.join(indexDir, previous.generation, name), bytes);
  const manifest: Manifest = {
    ...previous,
    createdAt: new Date().toISOString(),
    articleCount: update.sources.length,
    passageCount: update.passageCount,
    sources: update.sources,
    build: { ...previous.build, nextLabel: update.nextLabel },
    delta: { file: name, ...record, passages: update.delta.passages.length, withdrawn: update.delta.withdrawn },
  };
  await writeManifest(indexDir, manifest);
  for (const entry of await readdir(path.join(indexDir, previous.generation))) {
    if (entry.startsWith('delta-') && entry !== name) await rm(path.join(indexDir, previous.generation, entry), { force: true });
  }
  await removeOtherGenerations(indexDir, previous.generation);
  return manifest;
}

/** Removes generation folders other than `keep`: leftovers of replaced or interrupted builds. */
async function removeOtherGenerations(indexDir: string, keep: string): Promise<void> {
  for (const entry of await readdir(indexDir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name.startsWith('gen-') && entry.name !== keep) {
      await rm(path.join(indexDir, entry.name), { recursive: true, force: true });
    }
  }
}

/** Size of the index on disk in bytes (manifest and current generation). */
async function indexSize(indexDir: string): Promise<number> {
  const manifest = await readManifest(indexDir);
  const manifestBytes = (await stat(path.join(indexDir, MANIFEST_FILE))).size;
  return manifestBytes + Object.values(manifest.files).reduce((sum, file) => sum + file.bytes, 0);
}
