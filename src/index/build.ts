/**
 * Builds or updates the index from the seeds folder. Only new and changed articles (by content hash) are
 * parsed and embedded; removed ones are dropped; everything else is carried over from the previous index.
 */
import { performance } from 'node:perf_hooks';
import { MAX_FILE_BYTES, PARSER_VERSION } from '../ingest/article.js';
import { listSeedFiles, parseSeed, readSeed, sameStamp, stampOf, type SeedStamp } from '../ingest/seed-files.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalOptions } from './bm25.js';
import { articlePassages, MAX_PASSAGE_CHARS } from '../ingest/passages.js';
import { EMBED_CHUNK, EmbedSchedule } from '../embedding/schedule.js';
import { checkGenerationFiles, IndexCorrupt, IndexMissing, lexicalDocument, loadIndex, readDelta, saveDelta, lockIndex, readManifest, saveIndex, type LoadedIndex, type Manifest } from '../storage/local-store.js';
import { DEFAULT_HNSW, VectorIndex, type HnswParameters } from './hnsw.js';
import type { Article, ArticleRecord, IndexedPassage, RetrievalMode } from '../model.js';
import type { Embedder, EmbedderFingerprint } from '../embedding/embedder.js';

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
  /** Passages a delta may hold before an update merges it into a new generation (default: `deltaLimit`). */
  maxDeltaPassages?: number;
}

export interface BuildReport {
  mode: RetrievalMode;
  /** True when nothing changed and nothing was written. */
  upToDate: boolean;
  /**
   * What was written: a whole new generation, or only a delta over the current one (a small update).
   * Absent when nothing was.
   */
  wrote?: 'generation' | 'delta';
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
  /** The index as written, when this build holds it in memory (saves loading it again). */
  index?: LoadedIndex;
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
function upToDateReport(manifest: Manifest, skipped: BuildReport['skipped'], timings: { load: number; read: number; total: number }, index?: LoadedIndex): BuildReport {
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
    index,
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
  const started = performance.now();
  if (!options.rebuild && options.skipIfCurrent) {
    const current = await currentManifest(options, options.embedder?.fingerprint ?? null, options.hnsw ?? DEFAULT_HNSW, options.lexical ?? DEFAULT_LEXICAL_OPTIONS);
    if (current) return upToDateReport(current, [], { load: 0, read: 0, total: performance.now() - started });
  }
  const unlock = await lockIndex(options.indexDir, options.waitForLockMs ?? 0);
  try {
    try {
      return await buildLocked(options, started);
    } catch (error) {
      if (!(error instanceof IndexCorrupt) || options.rebuild) throw error;
      (options.warn ?? (() => {}))(`${error.message.replace(/ Run .*$/, '')} Rebuilding it from the seeds.`);
      return await buildLocked({ ...options, rebuild: true }, started, 'the previous index was unreadable');
    }
  } finally {
    await unlock();
  }
}

/** What reading the seeds against the previous manifest found. */
interface SeedScan {
  fresh: Article[];
  /** The passages of `fresh`, labelled from the previous index's next label on. */
  freshPassages: IndexedPassage[];
  /** Label after the last fresh passage. */
  nextLabel: number;
  keptFiles: Set<string>;
  added: string[];
  changed: string[];
  removed: string[];
  skipped: BuildReport['skipped'];
  stamps: Map<string, SeedStamp>;
}

/** The report's account of what the scan found. */
function changesFound(scan: SeedScan): Pick<BuildReport, 'added' | 'changed' | 'removed' | 'unchanged' | 'skipped'> {
  return { added: scan.added, changed: scan.changed, removed: scan.removed, unchanged: scan.keptFiles.size, skipped: scan.skipped };
}

/**
 * Reads the seeds that are new or changed since `previous` (all of them without one), parses them and
 * splits them into passages. In a large full build, `onChunk` gets each full chunk of passages as soon as
 * it is split, so embedding starts while the rest are read.
 */
async function scanSeeds(options: BuildOptions, previous: Manifest | undefined, onChunk?: (passages: IndexedPassage[]) => void): Promise<SeedScan> {
  const seeds = await listSeedFiles(options.seedsDir);
  const previousSources = new Map(previous?.sources.map((source) => [source.file, source]) ?? []);
  const stamps = new Map<string, SeedStamp>();
  const scan: SeedScan = { fresh: [], freshPassages: [], nextLabel: previous?.build.nextLabel ?? 0, keptFiles: new Set(), added: [], changed: [], removed: [], skipped: [], stamps };
  // Stat calls run together (the file system answers them in parallel); reads stay in order.
  const seedStamps = await Promise.all(seeds.map((seed) => stampOf(seed)));
  // A large full build: let the embedder get ready (a worker thread loads its model) while seeds are read.
  const seedBytes = seedStamps.reduce((sum, stamp) => sum + (stamp?.size ?? 0), 0);
  const large = !previous && seedBytes >= LARGE_BUILD_BYTES;
  if (large) options.embedder?.prepare?.();
  let handedOver = 0;
  // Files are read a few ahead of the one being parsed, so the disk works while this thread parses.
  const unchanged = seeds.map((seed, i) => sameStamp(seedStamps[i], previousSources.get(seed.file)));
  const oversized = seedStamps.map((stamp) => stamp !== undefined && stamp.size > MAX_FILE_BYTES);
  const reads = new Map<number, Promise<{ bytes: Buffer; hash: string } | { error: unknown }>>();
  const readAhead = (from: number) => {
    for (let j = from; j < seeds.length && reads.size < READ_AHEAD; j += 1) {
      if (!reads.has(j) && !unchanged[j] && !oversized[j]) reads.set(j, readSeed(seeds[j]!).catch((error: unknown) => ({ error })));
    }
  };
  for (const [i, seed] of seeds.entries()) {
    const stamp = seedStamps[i];
    if (stamp) stamps.set(seed.file, stamp);
    const source = previousSources.get(seed.file);
    // Same size and modification time as when indexed: unchanged, without reading it (as git and make do).
    if (unchanged[i]) {
      scan.keptFiles.add(seed.file);
      continue;
    }
    if (oversized[i]) {
      scan.skipped.push({ file: seed.file, reason: `${seed.file}: the file is ${stamp!.size} bytes; articles over ${MAX_FILE_BYTES} bytes are skipped` });
      continue;
    }
    readAhead(i);
    const content = await reads.get(i)!;
    reads.delete(i);
    readAhead(i + 1);
    if ('error' in content) {
      const error = content.error as NodeJS.ErrnoException;
      scan.skipped.push({ file: seed.file, reason: `${seed.file}: could not be read (${error.code ?? error.message})` });
      continue;
    }
    if (source?.sha256 === content.hash) {
      scan.keptFiles.add(seed.file);
      continue;
    }
    const parsed = parseSeed(seed.file, content.bytes, content.hash);
    if ('reason' in parsed) {
      scan.skipped.push(parsed);
      continue;
    }
    scan.fresh.push(parsed);
    (source ? scan.changed : scan.added).push(seed.file);
    for (const passage of articlePassages(parsed)) scan.freshPassages.push({ ...passage, label: scan.nextLabel++ });
    while (large && onChunk && scan.freshPassages.length - handedOver >= EMBED_CHUNK) {
      onChunk(scan.freshPassages.slice(handedOver, handedOver + EMBED_CHUNK));
      handedOver += EMBED_CHUNK;
    }
  }
  scan.removed = [...previousSources.keys()].filter((file) => !scan.keptFiles.has(file) && !scan.changed.includes(file));
  return scan;
}

/** The lock is held. Updates the index in place when it can (a delta, or a merged generation), else builds it. */
async function buildLocked(options: BuildOptions, started: number, rebuildReason?: string): Promise<BuildReport> {
  const warn = options.warn ?? (() => {});
  const hnsw = options.hnsw ?? DEFAULT_HNSW;
  const lexicalOptions = options.lexical ?? DEFAULT_LEXICAL_OPTIONS;
  const fingerprint = options.embedder?.fingerprint ?? null;

  let manifest: Manifest | undefined;
  let fullRebuildReason: string | undefined = options.rebuild ? (rebuildReason ?? 'a rebuild was asked for') : undefined;
  const manifestStarted = performance.now();
  if (!options.rebuild) {
    // A corrupt manifest throws IndexCorrupt: the caller rebuilds.
    manifest = await readManifest(options.indexDir).catch((error: unknown) => {
      if (error instanceof IndexMissing) return undefined;
      throw error;
    });
    if (manifest) fullRebuildReason = sameSetup(manifest, fingerprint, hnsw, lexicalOptions);
    if (fullRebuildReason) manifest = undefined;
  }
  let loadMs = performance.now() - manifestStarted;

  const readStarted = performance.now();
  // A large full build hands full chunks to the embedding worker while the seeds are still being read.
  let schedule: EmbedSchedule | undefined;
  const embedder = options.embedder;
  const scan = await scanSeeds(
    options,
    manifest,
    embedder?.embedElsewhere && !manifest
      ? (passages) => {
          schedule ??= EmbedSchedule.for(embedder, true, options.onEmbedProgress);
          schedule.push(passages.map((passage) => passage.text));
        }
      : undefined,
  );
  for (const entry of scan.skipped) warn(`Skipped ${entry.reason}`);
  const readMs = performance.now() - readStarted;

  if (manifest && scan.fresh.length === 0 && scan.removed.length === 0) {
    // Nothing to write; the data files are still read and verified, so a damaged index gets rebuilt.
    const loadStarted = performance.now();
    const index = await loadIndex(options.indexDir);
    loadMs += performance.now() - loadStarted;
    return upToDateReport(index.manifest, scan.skipped, { load: loadMs, read: readMs, total: performance.now() - started }, index);
  }

  if (manifest) {
    const update = await updateWithDelta(options, manifest, scan, fingerprint);
    if (update) return { ...update, timingsMs: { ...update.timingsMs, load: loadMs + update.timingsMs.load, read: readMs, total: performance.now() - started } };
  }

  let previous: LoadedIndex | undefined;
  if (manifest) {
    const loadStarted = performance.now();
    previous = await loadIndex(options.indexDir);
    loadMs += performance.now() - loadStarted;
  }
  const { fresh, keptFiles, stamps } = scan;

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

  for (const article of fresh) {
    const { paragraphs, ...record } = article;
    articles.set(article.file, { ...record, paragraphCount: paragraphs.length, ...stamps.get(article.file) });
  }
  const { freshPassages: newPassages, nextLabel } = scan;

  const staged = await embedAndIndex(newPassages, dropped, {
    schedule,
    embedder: options.embedder,
    vectors: fingerprint ? (previous?.vectors ?? VectorIndex.create(fingerprint.dimension, passages.length + newPassages.length, hnsw)) : null,
    lexical,
    titleOf: (passage) => articles.get(passage.file)?.title ?? '',
    onEmbedProgress: options.onEmbedProgress,
  });
  const { vectors } = staged;
  const { embedMs, vectorsMs, lexicalMs } = staged.timingsMs;

  const allPassages = [...passages, ...newPassages].sort((a, b) => a.label - b.label);
  const allArticles = [...articles.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const saveStarted = performance.now();
  const written = await saveIndex(options.indexDir, {
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
    mode: written.mode,
    upToDate: false,
    wrote: 'generation',
    fullRebuildReason: previous ? undefined : fullRebuildReason,
    ...changesFound(scan),
    articleCount: allArticles.length,
    passageCount: allPassages.length,
    embeddedPassages: newPassages.length,
    timingsMs: { load: loadMs, read: readMs, embed: embedMs, vectors: vectorsMs, lexical: lexicalMs, save: saveMs, total: performance.now() - started },
    manifest: written,
    index: { manifest: written, articles: new Map(allArticles.map((article) => [article.file, article])), passages: new Map(allPassages.map((passage) => [passage.label, passage])), lexical, vectors },
  };
}

/**
 * Passages a delta may hold (added plus withdrawn) before an update merges it into a new generation:
 * loading applies a delta passage by passage (about 0.3 ms each at 100k passages), so it stays within
 * 1 % of the index, or 500 passages for small ones.
 */
export function deltaLimit(passageCount: number): number {
  return Math.max(500, Math.floor(passageCount / 100));
}

/**
 * A small update: writes the changes since the generation as a delta, without loading or rewriting the
 * generation. Undefined when the delta would outgrow `deltaLimit`; the caller then merges.
 */
async function updateWithDelta(options: BuildOptions, manifest: Manifest, scan: SeedScan, fingerprint: EmbedderFingerprint | null): Promise<BuildReport | undefined> {
  const loadStarted = performance.now();
  const previous = await readDelta(options.indexDir, manifest);
  await checkGenerationFiles(options.indexDir, manifest);
  const loadMs = performance.now() - loadStarted;

  const touched = new Set([...scan.changed, ...scan.removed]);
  const inPreviousDelta = new Set(previous.articles.map((article) => article.file));
  const sources = new Map(manifest.sources.map((source) => [source.file, source]));
  const replaced = new Set(previous.replaced);
  let withdrawn = previous.withdrawn;
  for (const file of touched) {
    // A file the delta added is simply dropped from it; a file of the generation has its passages withdrawn.
    if (inPreviousDelta.has(file) || replaced.has(file)) continue;
    replaced.add(file);
    withdrawn += sources.get(file)?.passages ?? 0;
  }
  const keptArticles = previous.articles.filter((article) => !touched.has(article.file));
  const keptPassages: IndexedPassage[] = [];
  const keptVectors: Float32Array[] = [];
  previous.passages.forEach((passage, i) => {
    if (touched.has(passage.file)) return;
    keptPassages.push(passage);
    const vector = previous.vectors?.[i];
    if (vector) keptVectors.push(vector);
  });

  const { freshPassages, nextLabel } = scan;
  const freshArticles = scan.fresh.map(({ paragraphs, ...record }): ArticleRecord => ({ ...record, paragraphCount: paragraphs.length, ...scan.stamps.get(record.file) }));
  if (keptPassages.length + freshPassages.length + withdrawn > (options.maxDeltaPassages ?? deltaLimit(manifest.passageCount))) return undefined;

  const embedStarted = performance.now();
  const freshVectors = options.embedder && fingerprint ? await options.embedder.embed(freshPassages.map((passage) => passage.text), 'passage', options.onEmbedProgress) : null;
  const embedMs = performance.now() - embedStarted;

  const freshSources = freshArticles.map((article) => ({
    file: article.file,
    sha256: article.hash,
    passages: freshPassages.filter((passage) => passage.file === article.file).length,
    size: article.size,
    mtimeMs: article.mtimeMs,
  }));
  const nextSources = [
    ...manifest.sources.filter((source) => !touched.has(source.file)).map((source) => ({ ...source, ...scan.stamps.get(source.file) })),
    ...freshSources,
  ].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const passageCount = nextSources.reduce((sum, source) => sum + source.passages, 0);

  const saveStarted = performance.now();
  const written = await saveDelta(options.indexDir, manifest, {
    delta: {
      articles: [...keptArticles, ...freshArticles],
      replaced: [...replaced],
      withdrawn,
      passages: [...keptPassages, ...freshPassages],
      vectors: freshVectors ? [...keptVectors, ...freshVectors] : null,
    },
    sources: nextSources,
    passageCount,
    nextLabel,
  });
  const saveMs = performance.now() - saveStarted;

  return {
    mode: written.mode,
    upToDate: false,
    wrote: 'delta',
    ...changesFound(scan),
    articleCount: nextSources.length,
    passageCount,
    embeddedPassages: freshPassages.length,
    timingsMs: { load: loadMs, read: 0, embed: embedMs, vectors: 0, lexical: 0, save: saveMs, total: 0 },
    manifest: written,
  };
}

/** Seed files read ahead of parsing. */
const READ_AHEAD = 16;

/** About 2,000 passages of text: below this, starting a worker thread costs more than it saves. */
const LARGE_BUILD_BYTES = 1_000_000;

/** Builds with fewer new passages embed on this thread only: a worker's start-up would cost more. */
const SHARED_EMBEDDING_MIN_PASSAGES = 2000;

interface StageOptions {
  /** Embedding already under way: the first chunks of `added`, handed over while the seeds were read. */
  schedule?: EmbedSchedule;
  embedder: Embedder | null;
  vectors: VectorIndex | null;
  lexical: LexicalIndex;
  /** Headline of a new passage's article (the lexical index's second field). */
  titleOf: (passage: IndexedPassage) => string;
  onEmbedProgress?: (done: number, total: number) => void;
}

/**
 * Embeds new passages and inserts them into both indexes. This thread indexes lexically while the worker
 * embeds (see EmbedSchedule), then inserts each chunk into HNSW as soon as it is back, embedding chunks
 * itself whenever it would otherwise wait. Both cores stay busy until the last chunk is in.
 */
async function embedAndIndex(
  added: IndexedPassage[],
  dropped: IndexedPassage[],
  stage: StageOptions,
): Promise<{ vectors: VectorIndex | null; timingsMs: { embedMs: number; vectorsMs: number; lexicalMs: number } }> {
  const { embedder, vectors, lexical } = stage;
  let schedule: EmbedSchedule | undefined;
  if (embedder && vectors) {
    schedule = stage.schedule ?? EmbedSchedule.for(embedder, added.length >= SHARED_EMBEDDING_MIN_PASSAGES, stage.onEmbedProgress);
    for (let offset = schedule.chunkCount * EMBED_CHUNK; offset < added.length; offset += EMBED_CHUNK) {
      schedule.push(added.slice(offset, offset + EMBED_CHUNK).map((passage) => passage.text));
    }
    schedule.close();
  }

  const removeStarted = performance.now();
  lexical.remove(dropped.map((passage) => passage.label));
  let lexicalMs = performance.now() - removeStarted;
  for (let offset = 0; offset < added.length; offset += EMBED_CHUNK) {
    const sliceStarted = performance.now();
    lexical.add(added.slice(offset, offset + EMBED_CHUNK).map((passage) => lexicalDocument(passage, stage.titleOf(passage))));
    lexicalMs += performance.now() - sliceStarted;
    // Let the worker's finished chunks in and hand it the next ones: one long synchronous run here left
    // it idle for a third of a large build.
    await new Promise((resolve) => setImmediate(resolve));
  }

  let vectorsMs = 0;
  if (schedule && vectors) {
    for (const passage of dropped) vectors.remove(passage.label);
    const inserted = new Set<number>();
    const insert = async (i: number) => {
      const chunkVectors = await schedule.vectorsOf(i);
      const insertStarted = performance.now();
      added.slice(i * EMBED_CHUNK, (i + 1) * EMBED_CHUNK).forEach((passage, j) => vectors.add(passage.label, chunkVectors[j]!));
      vectorsMs += performance.now() - insertStarted;
      inserted.add(i);
    };
    for (let i = 0; i < schedule.chunkCount; i += 1) {
      if (inserted.has(i)) continue;
      // Rather than wait for chunk i, embed one nobody has taken here and insert it right away.
      while (!schedule.isReady(i)) {
        const mine = await schedule.embedOneHere();
        if (mine === undefined) break;
        await insert(mine);
      }
      // Chunk i may have been the one embedded here just now.
      if (!inserted.has(i)) await insert(i);
    }
  }
  return { vectors, timingsMs: { embedMs: schedule?.elapsedMs ?? 0, vectorsMs, lexicalMs } };
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
