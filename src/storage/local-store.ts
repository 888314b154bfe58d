/**
 * The index on disk: a folder holding `manifest.json` and one generation folder of data files, plus at
 * most one delta file in it. A full build writes a complete new generation; an update that changes little
 * writes only a delta (the passages added since the generation was written, with their vectors, and the
 * articles whose passages are withdrawn), which loading applies on top. Either way the manifest is
 * replaced atomically (write + rename) last, and what it no longer names is removed after; a build killed
 * at any point leaves the previous manifest and its files intact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { PARSER_VERSION } from '../ingest/article.js';
import { LexicalIndex, type LexicalDocument, type LexicalOptions } from '../index/bm25.js';
import { VectorIndex, type HnswParameters } from '../index/hnsw.js';
import type { ArticleRecord, IndexedPassage, RetrievalMode } from '../model.js';
import type { EmbedderFingerprint } from '../embedding/embedder.js';

export const INDEX_FORMAT = 6;
export const MANIFEST_FILE = 'manifest.json';

const CORPUS_FILE = 'corpus.json';
const LEXICAL_FILE = 'lexical.bin';
const VECTORS_FILE = 'vectors.f32';
const GRAPH_FILE = 'graph.hnsw';

const fingerprintSchema = z.object({
  model: z.string(),
  dimension: z.number().int().positive(),
  pooling: z.enum(['mean', 'cls']),
  dtype: z.string(),
  queryPrefix: z.string(),
  passagePrefix: z.string(),
});

const manifestSchema = z.object({
  format: z.number().int(),
  generation: z.string().regex(/^gen-[\w-]+$/),
  createdAt: z.string(),
  mode: z.enum(['hybrid', 'lexical']),
  /** Why the index is lexical-only, when it is. */
  modeReason: z.string().optional(),
  embedding: fingerprintSchema.nullable(),
  articleCount: z.number().int().nonnegative(),
  passageCount: z.number().int().nonnegative(),
  sources: z.array(
    z.object({ file: z.string(), sha256: z.string(), passages: z.number().int().nonnegative(), size: z.number().optional(), mtimeMs: z.number().optional() }),
  ),
  build: z.object({
    hnsw: z.object({ m: z.number(), efConstruction: z.number(), efSearch: z.number() }),
    bm25: z.object({ k: z.number(), b: z.number(), d: z.number() }),
    titleBoost: z.number(),
    maxPassageChars: z.number(),
    parserVersion: z.number().int(),
    nextLabel: z.number().int().nonnegative(),
  }),
  files: z.record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string() })),
  /** Changes since the generation was written, in a file of the generation folder. */
  delta: z
    .object({
      file: z.string().regex(/^delta-[\w-]+\.json$/),
      bytes: z.number().int().nonnegative(),
      sha256: z.string(),
      /** Passages the delta adds. */
      passages: z.number().int().nonnegative(),
      /** Passages of the generation that the delta withdraws. */
      withdrawn: z.number().int().nonnegative(),
    })
    .optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** No index has been built in the folder yet. */
export class IndexMissing extends Error {
  override readonly name = 'IndexMissing';
}

/** The index exists but cannot be trusted: truncated, corrupt, or of another format. */
export class IndexCorrupt extends Error {
  override readonly name = 'IndexCorrupt';
}

/** The index was built with another embedding model than the one configured. */
export class ModelMismatch extends Error {
  override readonly name = 'ModelMismatch';
}

/** Another process is building the index in the same folder. */
export class IndexLocked extends Error {
  override readonly name = 'IndexLocked';
}

export interface LoadedIndex {
  manifest: Manifest;
  articles: Map<string, ArticleRecord>;
  /** Passages by label. */
  passages: Map<number, IndexedPassage>;
  lexical: LexicalIndex;
  vectors: VectorIndex | null;
}

/** A passage on disk: a row, not an object, since tens of thousands of them are parsed at every load. */
type PassageRow = [label: number, file: string, paragraph: number, part: string, text: string, start: number, end: number, sentences: number[], section: string | null];

/** What the lexical index is given for a passage. */
export function lexicalDocument(passage: IndexedPassage, title: string): LexicalDocument {
  return { label: passage.label, text: passage.text, title, section: passage.section, sentences: passage.sentences };
}

/**
 * Changes on top of a generation. Articles changed again or removed after being added to a delta simply
 * leave it; articles of the generation that changed or went away are listed in `replaced`.
 */
export interface IndexDelta {
  /** Articles added or changed since the generation. */
  articles: ArticleRecord[];
  /** Files of the generation whose passages are withdrawn (changed or removed). */
  replaced: string[];
  /** The generation's passages that `replaced` withdraws. */
  withdrawn: number;
  /** Passages of `articles`, labelled after the generation's. */
  passages: IndexedPassage[];
  /** One vector per passage (zero for a text the model knows no word of); null for a lexical-only index. */
  vectors: Float32Array[] | null;
}

const EMPTY_DELTA: IndexDelta = { articles: [], replaced: [], withdrawn: 0, passages: [], vectors: null };

function toRow(passage: IndexedPassage): PassageRow {
  return [
    passage.label,
    passage.file,
    passage.paragraph,
    passage.id.slice(passage.file.length + 1),
    passage.text,
    passage.start,
    passage.end,
    passage.sentences.flatMap((sentence) => [sentence.start, sentence.end]),
    passage.section ?? null,
  ];
}

function fromRow([label, file, paragraph, part, text, start, end, bounds, section]: PassageRow): IndexedPassage {
  const sentences = [];
  for (let i = 0; i + 1 < bounds.length; i += 2) sentences.push({ start: bounds[i]!, end: bounds[i + 1]! });
  return { label, file, paragraph, id: `${file}#${part}`, text, start, end, sentences, ...(section === null ? {} : { section }) };
}

function writeCorpus(articles: ArticleRecord[], passages: IndexedPassage[]): Buffer {
  return Buffer.from(JSON.stringify({ articles, passages: passages.map(toRow) }));
}

function readCorpus(bytes: Buffer): { articles: ArticleRecord[]; passages: IndexedPassage[] } {
  const data = JSON.parse(bytes.toString('utf8')) as { articles: ArticleRecord[]; passages: PassageRow[] };
  if (!Array.isArray(data.articles) || !Array.isArray(data.passages)) throw new Error('corpus.json lacks articles or passages');
  return { articles: data.articles, passages: data.passages.map(fromRow) };
}

/** A delta on disk: one JSON document; vectors as base64 float32 rows in passage order. */
interface DeltaDocument {
  articles: ArticleRecord[];
  replaced: string[];
  withdrawn: number;
  passages: PassageRow[];
  vectors: string | null;
}

function writeDelta(delta: IndexDelta, dimension: number): Buffer {
  let vectors: string | null = null;
  if (delta.vectors) {
    const rows = new Float32Array(delta.passages.length * dimension);
    delta.vectors.forEach((vector, i) => rows.set(vector, i * dimension));
    vectors = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64');
  }
  const document: DeltaDocument = { articles: delta.articles, replaced: delta.replaced, withdrawn: delta.withdrawn, passages: delta.passages.map(toRow), vectors };
  return Buffer.from(JSON.stringify(document));
}

function parseDelta(bytes: Buffer, dimension: number | null): IndexDelta {
  const data = JSON.parse(bytes.toString('utf8')) as DeltaDocument;
  if (!Array.isArray(data.articles) || !Array.isArray(data.replaced) || !Array.isArray(data.passages) || typeof data.withdrawn !== 'number') {
    throw new Error('the delta lacks articles, replaced files or passages');
  }
  const passages = data.passages.map(fromRow);
  let vectors: Float32Array[] | null = null;
  if (dimension !== null) {
    if (typeof data.vectors !== 'string') throw new Error('the delta of a hybrid index has no vectors');
    const raw = Buffer.from(data.vectors, 'base64');
    if (raw.byteLength !== passages.length * dimension * 4) throw new Error('the delta has the wrong number of vectors');
    const rows = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    vectors = passages.map((_, i) => rows.subarray(i * dimension, (i + 1) * dimension));
  }
  return { articles: data.articles, replaced: data.replaced, withdrawn: data.withdrawn, passages, vectors };
}

/** Reads the manifest's delta, verified against its checksum; the empty delta when there is none. */
export async function readDelta(indexDir: string, manifest: Manifest): Promise<IndexDelta> {
  if (!manifest.delta) return EMPTY_DELTA;
  const bytes = await readVerified(indexDir, manifest.generation, manifest.delta.file, manifest.delta);
  try {
    return parseDelta(bytes, manifest.mode === 'hybrid' ? (manifest.embedding?.dimension ?? null) : null);
  } catch (error) {
    throw new IndexCorrupt(`The index delta ${manifest.generation}/${manifest.delta.file} could not be read (${(error as Error).message}). Run \`npm run index -- --rebuild\`.`);
  }
}

/** A data file of the index, checked against the size and checksum the manifest gives. */
async function readVerified(indexDir: string, generation: string, name: string, expected: { bytes: number; sha256: string }): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(indexDir, generation, name));
  } catch {
    throw new IndexCorrupt(`The index file ${generation}/${name} is missing. Run \`npm run index -- --rebuild\`.`);
  }
  if (bytes.length !== expected.bytes) {
    throw new IndexCorrupt(`The index file ${generation}/${name} is ${bytes.length} bytes, expected ${expected.bytes} (truncated or overwritten). Run \`npm run index -- --rebuild\`.`);
  }
  if (sha256(bytes) !== expected.sha256) {
    throw new IndexCorrupt(`The index file ${generation}/${name} does not match its checksum (corrupt). Run \`npm run index -- --rebuild\`.`);
  }
  return bytes;
}

/**
 * Checks that the generation's data files are there at their recorded sizes, without reading them: the
 * cheap check an update that writes only a delta makes (loading verifies the checksums).
 */
export async function checkGenerationFiles(indexDir: string, manifest: Manifest): Promise<void> {
  for (const [name, expected] of Object.entries(manifest.files)) {
    const size = await stat(path.join(indexDir, manifest.generation, name)).then((info) => info.size, () => undefined);
    if (size === undefined) throw new IndexCorrupt(`The index file ${manifest.generation}/${name} is missing. Run \`npm run index -- --rebuild\`.`);
    if (size !== expected.bytes) throw new IndexCorrupt(`The index file ${manifest.generation}/${name} is ${size} bytes, expected ${expected.bytes} (truncated or overwritten). Run \`npm run index -- --rebuild\`.`);
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readManifest(indexDir: string): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(path.join(indexDir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new IndexMissing(`No index in ${indexDir}. Run \`npm run index\` to build it.`);
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new IndexCorrupt(`The index manifest in ${indexDir} is not valid JSON (truncated?). Run \`npm run index -- --rebuild\`.`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new IndexCorrupt(`The index manifest in ${indexDir} is malformed (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}). Run \`npm run index -- --rebuild\`.`);
  }
  if (parsed.data.format !== INDEX_FORMAT) {
    throw new IndexCorrupt(`The index in ${indexDir} has format ${parsed.data.format}; this version reads format ${INDEX_FORMAT}. Run \`npm run index -- --rebuild\`.`);
  }
  return parsed.data;
}

/**
 * Checks that an index built with `built` can be searched with the configured model. `null` means
 * lexical only, on either side.
 */
export function checkModel(built: Manifest['embedding'], configured: Omit<EmbedderFingerprint, 'dimension'> | null): void {
  if (!built || !configured) return;
  const differences = (['model', 'pooling', 'dtype', 'queryPrefix', 'passagePrefix'] as const).filter((key) => built[key] !== configured[key]);
  if (differences.length > 0) {
    const detail = differences.map((key) => `${key} ${JSON.stringify(built[key])} → ${JSON.stringify(configured[key])}`).join(', ');
    throw new ModelMismatch(`The index was built with another embedding setup (${detail}). Run \`npm run index\` to rebuild it for the configured model.`);
  }
}

/**
 * Reads and verifies every file of the current generation, and applies its delta. A build that switches
 * the manifest while this reads removes the files it read from; then the new manifest is read, and the
 * load starts over (a file that is bad under an unchanged manifest is corruption).
 */
export async function loadIndex(indexDir: string): Promise<LoadedIndex> {
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
  const files = new Map<string, Buffer>();
  for (const [name, expected] of Object.entries(manifest.files)) files.set(name, await readVerified(indexDir, manifest.generation, name, expected));
  const delta = await readDelta(indexDir, manifest);
  const required = (name: string) => {
    const bytes = files.get(name);
    if (!bytes) throw new IndexCorrupt(`The index manifest lists no ${name}. Run \`npm run index -- --rebuild\`.`);
    return bytes;
  };

  try {
    const corpus = readCorpus(required(CORPUS_FILE));
    const lexical = LexicalIndex.deserialize(required(LEXICAL_FILE), lexicalOptions);
    let vectors: VectorIndex | null = null;
    if (manifest.mode === 'hybrid' && manifest.embedding) {
      const raw = required(VECTORS_FILE);
      const rows = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
      const labels = corpus.passages.map((passage) => passage.label).filter((label) => rows.subarray(label * manifest.embedding!.dimension, (label + 1) * manifest.embedding!.dimension).some((value) => value !== 0));
      required(GRAPH_FILE);
      vectors = VectorIndex.load(path.join(generationDir, GRAPH_FILE), rows, labels, manifest.embedding.dimension, manifest.build.hnsw);
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
    throw new IndexCorrupt(`The index in ${indexDir} could not be read (${(error as Error).message}). Run \`npm run index -- --rebuild\`.`);
  }
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

export interface IndexContents {
  mode: RetrievalMode;
  modeReason?: string;
  embedding: EmbedderFingerprint | null;
  articles: ArticleRecord[];
  passages: IndexedPassage[];
  lexical: LexicalIndex;
  vectors: VectorIndex | null;
  hnsw: HnswParameters;
  lexicalOptions: LexicalOptions;
  maxPassageChars: number;
  nextLabel: number;
}

/** Writes a new generation and switches the manifest to it. Returns the new manifest. */
export async function saveIndex(indexDir: string, contents: IndexContents): Promise<Manifest> {
  await mkdir(indexDir, { recursive: true });
  const generation = `gen-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const generationDir = path.join(indexDir, generation);
  await mkdir(generationDir);
  const files: Manifest['files'] = {};

  const writeData = async (name: string, bytes: Uint8Array) => {
    const file = path.join(generationDir, name);
    const handle = await open(file, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    files[name] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
  };

  // The files are written and flushed concurrently: the disk overlaps them while this thread serialises.
  const writes = [writeData(CORPUS_FILE, writeCorpus(contents.articles, contents.passages)), writeData(LEXICAL_FILE, contents.lexical.serialize())];
  if (contents.vectors) {
    const rows = contents.vectors.rows();
    writes.push(writeData(VECTORS_FILE, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength)));
    const graphFile = path.join(generationDir, GRAPH_FILE);
    contents.vectors.writeGraph(graphFile);
    writes.push(
      (async () => {
        // hnswlib writes the file itself; read it back to checksum it and flush it like the others.
        const handle = await open(graphFile, 'r+');
        try {
          const graph = await handle.readFile();
          await handle.sync();
          files[GRAPH_FILE] = { bytes: graph.length, sha256: sha256(graph) };
        } finally {
          await handle.close();
        }
      })(),
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
  await writeFileAtomic(path.join(indexDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { fsync: true });
  await removeOtherGenerations(indexDir, generation);
  return manifest;
}

export interface DeltaUpdate {
  delta: IndexDelta;
  /** The manifest's article list after the update. */
  sources: Manifest['sources'];
  passageCount: number;
  nextLabel: number;
}

/**
 * Writes a delta over the current generation and switches the manifest to it: the generation's files
 * stay as they are. The delta replaces the previous one, so it holds every change since the generation.
 */
export async function saveDelta(indexDir: string, previous: Manifest, update: DeltaUpdate): Promise<Manifest> {
  const name = `delta-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.json`;
  const bytes = writeDelta(update.delta, previous.embedding?.dimension ?? 0);
  const handle = await open(path.join(indexDir, previous.generation, name), 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  const manifest: Manifest = {
    ...previous,
    createdAt: new Date().toISOString(),
    articleCount: update.sources.length,
    passageCount: update.passageCount,
    sources: update.sources,
    build: { ...previous.build, nextLabel: update.nextLabel },
    delta: { file: name, bytes: bytes.length, sha256: sha256(bytes), passages: update.delta.passages.length, withdrawn: update.delta.withdrawn },
  };
  await writeFileAtomic(path.join(indexDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { fsync: true });
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

/**
 * Takes the build lock of an index folder, so two builds never interleave. A lock left by a process that
 * no longer runs is taken over.
 */
export async function lockIndex(indexDir: string, waitMs = 0): Promise<() => Promise<void>> {
  await mkdir(indexDir, { recursive: true });
  const lockFile = path.join(indexDir, '.build.lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
      const held = Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder);
      if (!held) {
        // A lock left by a process that died: take it over.
        await rm(lockFile, { force: true });
        continue;
      }
      if (Date.now() >= deadline) throw new IndexLocked(`Another build (process ${holder}) is writing ${indexDir}; wait for it to finish.`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Size of the index on disk in bytes (manifest and current generation). */
export async function indexSize(indexDir: string): Promise<number> {
  const manifest = await readManifest(indexDir);
  const manifestBytes = (await stat(path.join(indexDir, MANIFEST_FILE))).size;
  return manifestBytes + Object.values(manifest.files).reduce((sum, file) => sum + file.bytes, 0);
}

