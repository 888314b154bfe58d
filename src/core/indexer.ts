/**
 * Builds or updates the index from the seeds folder. Only new and changed articles (by content hash) are
 * parsed and embedded; removed ones are dropped; everything else is carried over from the previous index.
 */
import { performance } from 'node:perf_hooks';
import { MAX_FILE_BYTES, PARSER_VERSION, type Article } from './article.js';
import { listSeedFiles, parseSeed, readSeed, sameStamp, stampOf, type SeedStamp } from './corpus.js';
import type { Embedder, EmbedderFingerprint } from './embedder.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalDocument, type LexicalOptions } from './lexical.js';
import { articlePassages, MAX_PASSAGE_CHARS } from './passages.js';
import {
  IndexCorrupt,
  IndexMissing,
  loadIndex,
  lockIndex,
  readManifest,
  saveIndex,
  type ArticleRecord,
  type IndexedPassage,
  type LoadedIndex,
  type Manifest,
  type RetrievalMode,
} from './store.js';
import { DEFAULT_HNSW, VectorIndex, type HnswParameters } from './vector-index.js';

export interface BuildOptions {
  seedsDir: string;
  indexDir: string;
  /** null builds a lexical-only index. */
  embedder: Embedder | null;
  /** Why there is no embedder, recorded in the manifest. */
  modeReason?: string;
  /** Ignore the previous index and build from scratch. */
  rebuild?: boolean;
  hnsw?: HnswParameters;
  lexical?: LexicalOptions;
  onEmbedProgress?: (done: number, total: number) => void;
  warn?: (message: string) => void;
  /** How long to wait for another process's build to finish before giving up (default: do not wait). */
  waitForLockMs?: number;
  /**
   * Trust a current manifest without reading the data files (start-up path: no lock, no load). Without
   * it, the previous index is loaded and verified, and rebuilt when it is corrupt.
   */
  skipIfCurrent?: boolean;
}

export interface BuildReport {
  mode: RetrievalMode;
  /** True when nothing changed and nothing was written. */
  upToDate: boolean;
  /** Why the previous index could not be updated in place, if it could not. */
  fullRebuildReason?: string;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
  skipped: Array<{ file: string; reason: string }>;
  articleCount: number;
  passageCount: number;
  embeddedPassages: number;
  /** `load` is reading the previous index; the others are the build's stages. */
  timingsMs: { load: number; read: number; embed: number; vectors: number; lexical: number; save: number; total: number };
  manifest: Manifest;
  /** The index as written, when this build wrote one (saves loading it again). */
  index?: LoadedIndex;
}

function lexicalDocument(passage: IndexedPassage, article: { title: string }): LexicalDocument {
  return { label: passage.label, text: passage.text, title: article.title, section: passage.section, sentences: passage.sentences };
}

function sameSetup(previous: Manifest, fingerprint: EmbedderFingerprint | null, hnsw: HnswParameters, lexical: LexicalOptions): string | undefined {
  if (fingerprint === null && previous.mode === 'hybrid') return 'no embedding model is available now; rebuilding lexical-only';
  if (fingerprint !== null && previous.mode === 'lexical') return 'the previous index was lexical-only; adding embeddings';
  if (fingerprint && previous.embedding) {
    for (const key of ['model', 'dimension', 'pooling', 'dtype', 'queryPrefix', 'passagePrefix'] as const) {
      if (fingerprint[key] !== previous.embedding[key]) return `the embedding ${key} changed (${previous.embedding[key]} → ${fingerprint[key]})`;
    }
  }
  if (JSON.stringify(previous.build.hnsw) !== JSON.stringify(hnsw)) return 'the HNSW parameters changed';
  if (JSON.stringify(previous.build.bm25) !== JSON.stringify(lexical.bm25) || previous.build.titleBoost !== lexical.titleBoost) return 'the BM25 parameters changed';
  if (previous.build.maxPassageChars !== MAX_PASSAGE_CHARS) return 'the passage size changed';
  if (previous.build.parserVersion !== PARSER_VERSION) return 'the article parser changed';
  return undefined;
}

/** The report of a build that found nothing to do and wrote nothing. */
function upToDateReport(manifest: Manifest, skipped: BuildReport['skipped'], timings: { load: number; read: number; total: number }): BuildReport {
  return {
    mode: manifest.mode,
    upToDate: true,
    added: [],
    changed: [],
    removed: [],
    unchanged: manifest.sources.length,
    skipped,
    articleCount: manifest.articleCount,
    passageCount: manifest.passageCount,
    embeddedPassages: 0,
    timingsMs: { ...timings, embed: 0, vectors: 0, lexical: 0, save: 0 },
    manifest,
  };
}

/**
 * The manifest, when the index on disk is current: same setup, and every seed file present with the hash
 * it was indexed with. Needs no lock and loads no data, so concurrent readers never wait on each other.
 */
async function currentManifest(options: BuildOptions, fingerprint: EmbedderFingerprint | null, hnsw: HnswParameters, lexical: LexicalOptions): Promise<Manifest | undefined> {
  const manifest = await readManifest(options.indexDir).catch(() => undefined);
  if (!manifest || sameSetup(manifest, fingerprint, hnsw, lexical)) return undefined;
  const seeds = await listSeedFiles(options.seedsDir);
  if (seeds.length !== manifest.sources.length) return undefined;
  const indexed = new Map(manifest.sources.map((source) => [source.file, source]));
  const stamps = await Promise.all(seeds.map((seed) => stampOf(seed)));
  for (const [i, seed] of seeds.entries()) {
    const source = indexed.get(seed.file);
    if (!source) return undefined;
    if (sameStamp(stamps[i], source)) continue;
    const hash = await readSeed(seed).then((content) => content.hash, () => undefined);
    if (hash !== source.sha256) return undefined;
  }
  return manifest;
}

export async function buildIndex(options: BuildOptions): Promise<BuildReport> {
  const warn = options.warn ?? (() => {});
  const hnsw = options.hnsw ?? DEFAULT_HNSW;
  const lexicalOptions = options.lexical ?? DEFAULT_LEXICAL_OPTIONS;
  const fingerprint = options.embedder?.fingerprint ?? null;
  const started = performance.now();
  if (!options.rebuild && options.skipIfCurrent) {
    const current = await currentManifest(options, fingerprint, hnsw, lexicalOptions);
    if (current) return upToDateReport(current, [], { load: 0, read: 0, total: performance.now() - started });
  }
  const unlock = await lockIndex(options.indexDir, options.waitForLockMs ?? 0);
  try {

    let previous: LoadedIndex | undefined;
    let loadMs = 0;
    let fullRebuildReason: string | undefined = options.rebuild ? 'a rebuild was asked for' : undefined;
    if (!options.rebuild) {
      try {
        const loadStarted = performance.now();
        previous = await loadIndex(options.indexDir);
        loadMs = performance.now() - loadStarted;
        fullRebuildReason = sameSetup(previous.manifest, fingerprint, hnsw, lexicalOptions);
        if (fullRebuildReason) previous = undefined;
      } catch (error) {
        if (error instanceof IndexCorrupt) {
          warn(`${error.message.replace(/ Run .*$/, '')} Rebuilding it from the seeds.`);
          fullRebuildReason = 'the previous index was unreadable';
        } else if (!(error instanceof IndexMissing)) {
          throw error;
        }
      }
    }

    // Read every seed and sort it into unchanged, changed and new.
    const readStarted = performance.now();
    const seeds = await listSeedFiles(options.seedsDir);
    const previousSources = new Map(previous?.manifest.sources.map((source) => [source.file, source]) ?? []);
    const previousHashes = new Map([...previousSources].map(([file, source]) => [file, source.sha256]));
    const stamps = new Map<string, SeedStamp>();
    const skipped: BuildReport['skipped'] = [];
    const fresh: Article[] = [];
    const keptFiles = new Set<string>();
    const added: string[] = [];
    const changed: string[] = [];
    // Stat calls run together (the file system answers them in parallel); reads stay in order.
    const seedStamps = await Promise.all(seeds.map((seed) => stampOf(seed)));
    // A large full build: let the embedder get ready (a worker thread loads its model) while seeds are read.
    const seedBytes = seedStamps.reduce((sum, stamp) => sum + (stamp?.size ?? 0), 0);
    if (!previous && seedBytes >= LARGE_BUILD_BYTES) options.embedder?.prepare?.();
    for (const [i, seed] of seeds.entries()) {
      const stamp = seedStamps[i];
      if (stamp) stamps.set(seed.file, stamp);
      // Same size and modification time as when indexed: unchanged, without reading it (as git and make do).
      if (sameStamp(stamp, previousSources.get(seed.file))) {
        keptFiles.add(seed.file);
        continue;
      }
      if (stamp && stamp.size > MAX_FILE_BYTES) {
        skipped.push({ file: seed.file, reason: `${seed.file}: the file is ${stamp.size} bytes; articles over ${MAX_FILE_BYTES} bytes are skipped` });
        continue;
      }
      let content;
      try {
        content = await readSeed(seed);
      } catch (error) {
        skipped.push({ file: seed.file, reason: `${seed.file}: could not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` });
        continue;
      }
      if (previousHashes.get(seed.file) === content.hash) {
        keptFiles.add(seed.file);
        continue;
      }
      const parsed = parseSeed(seed.file, content.bytes, content.hash);
      if ('reason' in parsed) {
        skipped.push(parsed);
        continue;
      }
      fresh.push(parsed);
      (previousHashes.has(seed.file) ? changed : added).push(seed.file);
    }
    for (const entry of skipped) warn(`Skipped ${entry.reason}`);
    const removed = [...previousHashes.keys()].filter((file) => !keptFiles.has(file) && !changed.includes(file));
    const readMs = performance.now() - readStarted;

    if (previous && fresh.length === 0 && removed.length === 0) {
      return upToDateReport(previous.manifest, skipped, { load: loadMs, read: readMs, total: performance.now() - started });
    }

    // Carry over what did not change; drop what changed or went away.
    const lexical = previous?.lexical ?? LexicalIndex.create(lexicalOptions);
    const articles = new Map<string, ArticleRecord>();
    const passages: IndexedPassage[] = [];
    const dropped: IndexedPassage[] = [];
    for (const passage of previous?.passages.values() ?? []) {
      if (keptFiles.has(passage.file)) passages.push(passage);
      else dropped.push(passage);
    }
    for (const [file, article] of previous?.articles ?? []) if (keptFiles.has(file)) articles.set(file, { ...article, ...stamps.get(file) });

    let nextLabel = previous?.manifest.build.nextLabel ?? 0;
    const newPassages: IndexedPassage[] = [];
    for (const article of fresh) {
      const { paragraphs, ...record } = article;
      articles.set(article.file, { ...record, paragraphCount: paragraphs.length, ...stamps.get(article.file) });
      for (const passage of articlePassages(article)) newPassages.push({ ...passage, label: nextLabel++ });
    }

    const staged = await embedAndIndex(newPassages, dropped, {
      embedder: options.embedder,
      vectors: fingerprint ? (previous?.vectors ?? VectorIndex.create(fingerprint.dimension, passages.length + newPassages.length, hnsw)) : null,
      lexical,
      titleOf: (passage, isNew) => (isNew ? articles.get(passage.file)?.title : previous?.articles.get(passage.file)?.title) ?? '',
      onEmbedProgress: options.onEmbedProgress,
    });
    const { vectors } = staged;
    const { embedMs, vectorsMs, lexicalMs } = staged.timingsMs;

    const allPassages = [...passages, ...newPassages].sort((a, b) => a.label - b.label);
    const allArticles = [...articles.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const saveStarted = performance.now();
    const manifest = await saveIndex(options.indexDir, {
      mode: fingerprint ? 'hybrid' : 'lexical',
      modeReason: fingerprint ? undefined : options.modeReason,
      embedding: fingerprint,
      articles: allArticles,
      passages: allPassages,
      lexical,
      vectors,
      hnsw,
      lexicalOptions,
      maxPassageChars: MAX_PASSAGE_CHARS,
      nextLabel,
    });
    const saveMs = performance.now() - saveStarted;

    return {
      mode: manifest.mode,
      upToDate: false,
      fullRebuildReason: previous ? undefined : fullRebuildReason,
      added,
      changed,
      removed,
      unchanged: keptFiles.size,
      skipped,
      articleCount: allArticles.length,
      passageCount: allPassages.length,
      embeddedPassages: newPassages.length,
      timingsMs: { load: loadMs, read: readMs, embed: embedMs, vectors: vectorsMs, lexical: lexicalMs, save: saveMs, total: performance.now() - started },
      manifest,
      index: { manifest, articles: new Map(allArticles.map((article) => [article.file, article])), passages: new Map(allPassages.map((passage) => [passage.label, passage])), lexical, vectors },
    };
  } finally {
    await unlock();
  }
}

/** About 2,000 passages of text: below this, starting a worker thread costs more than it saves. */
const LARGE_BUILD_BYTES = 1_000_000;

/** Passages embedded per call: the worker embeds one chunk while the main thread inserts the last. */
const EMBED_CHUNK = 4096;

interface StageOptions {
  embedder: Embedder | null;
  vectors: VectorIndex | null;
  lexical: LexicalIndex;
  titleOf: (passage: IndexedPassage, isNew: boolean) => string;
  onEmbedProgress?: (done: number, total: number) => void;
}

/**
 * Embeds new passages in chunks and inserts them into both indexes. The next chunk's embedding is started
 * before the current one is inserted, so with an embedder that runs elsewhere (a worker thread) embedding
 * and indexing overlap; lexical indexing runs while the first chunk embeds.
 */
async function embedAndIndex(
  added: IndexedPassage[],
  dropped: IndexedPassage[],
  stage: StageOptions,
): Promise<{ vectors: VectorIndex | null; timingsMs: { embedMs: number; vectorsMs: number; lexicalMs: number } }> {
  const { embedder, vectors, lexical } = stage;
  const chunks: IndexedPassage[][] = [];
  for (let offset = 0; offset < added.length; offset += EMBED_CHUNK) chunks.push(added.slice(offset, offset + EMBED_CHUNK));
  let embedMs = 0;
  const embedStarted = performance.now();
  const doneByChunk = chunks.map(() => 0);
  const embedChunk = (chunk: IndexedPassage[], i: number) =>
    embedder!
      .embed(
        chunk.map((passage) => passage.text),
        'passage',
        (done) => {
          doneByChunk[i] = done;
          stage.onEmbedProgress?.(doneByChunk.reduce((sum, count) => sum + count, 0), added.length);
        },
      )
      .then((result) => {
        // Wall time from the first chunk handed over to the last one back.
        embedMs = performance.now() - embedStarted;
        return result;
      });
  // Every chunk is handed to the embedder at once: a worker queues them and embeds without a pause while
  // this thread indexes lexically, then inserts each chunk into HNSW as soon as it is back.
  const pending = embedder && vectors ? chunks.map(embedChunk) : [];
  // A failure surfaces when its chunk is awaited; later chunks failing too must not go unhandled meanwhile.
  for (const chunk of pending) chunk.catch(() => {});

  const lexicalStarted = performance.now();
  lexical.remove(dropped.map((passage) => lexicalDocument(passage, { title: stage.titleOf(passage, false) })));
  lexical.add(added.map((passage) => lexicalDocument(passage, { title: stage.titleOf(passage, true) })));
  const lexicalMs = performance.now() - lexicalStarted;

  let vectorsMs = 0;
  if (vectors) {
    for (const passage of dropped) vectors.remove(passage.label);
    for (const [i, chunk] of chunks.entries()) {
      const chunkVectors = await pending[i]!;
      const insertStarted = performance.now();
      chunk.forEach((passage, j) => vectors.add(passage.label, chunkVectors[j]!));
      vectorsMs += performance.now() - insertStarted;
    }
  }
  return { vectors, timingsMs: { embedMs, vectorsMs, lexicalMs } };
}

/**
 * Indexes articles in memory, for labelled data sets and tests: same passages, same lexical and vector
 * indexes as a build on disk, nothing written.
 */
export async function buildMemoryIndex(
  articles: Article[],
  embedder: Embedder | null,
  options: { hnsw?: HnswParameters; lexical?: LexicalOptions; onEmbedProgress?: (done: number, total: number) => void } = {},
): Promise<{ articles: Map<string, ArticleRecord>; passages: Map<number, IndexedPassage>; lexical: LexicalIndex; vectors: VectorIndex | null }> {
  const records = new Map<string, ArticleRecord>();
  const passages: IndexedPassage[] = [];
  for (const article of articles) {
    const { paragraphs, ...record } = article;
    records.set(article.file, { ...record, paragraphCount: paragraphs.length });
    for (const passage of articlePassages(article)) passages.push({ ...passage, label: passages.length });
  }
  const lexical = LexicalIndex.create(options.lexical ?? DEFAULT_LEXICAL_OPTIONS);
  const { vectors } = await embedAndIndex(passages, [], {
    embedder,
    vectors: embedder ? VectorIndex.create(embedder.fingerprint.dimension, passages.length, options.hnsw ?? DEFAULT_HNSW) : null,
    lexical,
    titleOf: (passage) => records.get(passage.file)?.title ?? '',
    onEmbedProgress: options.onEmbedProgress,
  });
  return { articles: records, passages: new Map(passages.map((passage) => [passage.label, passage])), lexical, vectors };
}
