/**
 * The index on disk: a folder holding `manifest.json` and one generation folder of data files. A build
 * writes a complete new generation, then replaces the manifest atomically (write + rename), then removes
 * older generations; a build killed at any point leaves the previous manifest and its files intact.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { PARSER_VERSION, type Article } from './article.js';
import type { EmbedderFingerprint } from './embedder.js';
import { LexicalIndex, type LexicalOptions } from './lexical.js';
import type { Passage } from './passages.js';
import { VectorIndex, type HnswParameters } from './vector-index.js';

export const INDEX_FORMAT = 4;
export const MANIFEST_FILE = 'manifest.json';

const CORPUS_FILE = 'corpus.json';
const LEXICAL_FILE = 'lexical.bin';
const VECTORS_FILE = 'vectors.f32';
const GRAPH_FILE = 'graph.hnsw';

export type RetrievalMode = 'hybrid' | 'lexical';

/** An article as stored: everything but the paragraphs, which live on as passages. */
export type ArticleRecord = Omit<Article, 'paragraphs'> & { paragraphCount: number; size?: number; mtimeMs?: number };

/** A passage with the integer label it has in both the lexical and the vector index. */
export type IndexedPassage = Passage & { label: number };

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

function writeCorpus(articles: ArticleRecord[], passages: IndexedPassage[]): Buffer {
  const rows = passages.map((passage): PassageRow => [
    passage.label,
    passage.file,
    passage.paragraph,
    passage.id.slice(passage.file.length + 1),
    passage.text,
    passage.start,
    passage.end,
    passage.sentences.flatMap((sentence) => [sentence.start, sentence.end]),
    passage.section ?? null,
  ]);
  return Buffer.from(JSON.stringify({ articles, passages: rows }));
}

function readCorpus(bytes: Buffer): { articles: ArticleRecord[]; passages: IndexedPassage[] } {
  const data = JSON.parse(bytes.toString('utf8')) as { articles: ArticleRecord[]; passages: PassageRow[] };
  if (!Array.isArray(data.articles) || !Array.isArray(data.passages)) throw new Error('corpus.json lacks articles or passages');
  const passages = data.passages.map(([label, file, paragraph, part, text, start, end, bounds, section]): IndexedPassage => {
    const sentences = [];
    for (let i = 0; i + 1 < bounds.length; i += 2) sentences.push({ start: bounds[i]!, end: bounds[i + 1]! });
    return { label, file, paragraph, id: `${file}#${part}`, text, start, end, sentences, ...(section === null ? {} : { section }) };
  });
  return { articles: data.articles, passages };
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

/** Reads and verifies every file of the current generation. */
export async function loadIndex(indexDir: string): Promise<LoadedIndex> {
  const manifest = await readManifest(indexDir);
  const lexicalOptions: LexicalOptions = { bm25: manifest.build.bm25, titleBoost: manifest.build.titleBoost };
  const generationDir = path.join(indexDir, manifest.generation);
  const files = new Map<string, Buffer>();
  for (const [name, expected] of Object.entries(manifest.files)) {
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(generationDir, name));
    } catch {
      throw new IndexCorrupt(`The index file ${manifest.generation}/${name} is missing. Run \`npm run index -- --rebuild\`.`);
    }
    if (bytes.length !== expected.bytes) {
      throw new IndexCorrupt(`The index file ${manifest.generation}/${name} is ${bytes.length} bytes, expected ${expected.bytes} (truncated or overwritten). Run \`npm run index -- --rebuild\`.`);
    }
    if (sha256(bytes) !== expected.sha256) {
      throw new IndexCorrupt(`The index file ${manifest.generation}/${name} does not match its checksum (corrupt). Run \`npm run index -- --rebuild\`.`);
    }
    files.set(name, bytes);
  }
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
    return {
      manifest,
      articles: new Map(corpus.articles.map((article) => [article.file, article])),
      passages: new Map(corpus.passages.map((passage) => [passage.label, passage])),
      lexical,
      vectors,
    };
  } catch (error) {
    if (error instanceof IndexCorrupt) throw error;
    throw new IndexCorrupt(`The index in ${indexDir} could not be read (${(error as Error).message}). Run \`npm run index -- --rebuild\`.`);
  }
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

