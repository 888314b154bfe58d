/**
 * Builds or updates the index from a source. Only new and changed articles (by content hash) are parsed
 * and embedded; removed ones are dropped; everything else is carried over. A small update is written as
 * a delta over the stored generation, anything larger as a new generation. A stored index that cannot
 * be read is rebuilt from the source: this is the one place that decides so.
 */
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../embedding/embedder.js';
import { EMBED_CHUNK, EmbedSchedule } from '../embedding/schedule.js';
import { MAX_PASSAGE_CHARS } from '../ingest/passages.js';
import { byFile, type Skipped, type Source } from '../ingest/source.js';
import type { ArticleRecord, IndexedPassage, RetrievalMode } from '../model.js';
import { IndexCorrupt, IndexMissing, IndexReadOnly } from '../storage/errors.js';
import type { Manifest } from '../storage/manifest.js';
import type { LoadedIndex, Store } from '../storage/store.js';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalOptions } from './bm25.js';
import { articleRecord, scanSource, setupChange, sourceUnchanged, type SourceScan } from './changes.js';
import { updateWithDelta } from './delta.js';
import { DEFAULT_HNSW, VectorIndex, type HnswParameters } from './hnsw.js';
import { embedAndIndex } from './stage.js';

export interface BuildOptions {
  source: Source;
  store: Store;
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
   * The start-up path: a current index is loaded without taking the lock, so concurrent readers never
   * wait on each other; without a model, a hybrid index is kept as it is (it is still searchable
   * lexically) instead of being rebuilt lexical-only. The report always carries the loaded index.
   */
  startUp?: boolean;
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
  skipped: Skipped[];
  articleCount: number;
  passageCount: number;
  embeddedPassages: number;
  /** `load` is reading the previous index; the others are the build's stages. */
  timingsMs: { load: number; read: number; embed: number; vectors: number; lexical: number; save: number; total: number };
  manifest: Manifest;
  /** The index as written, when this build holds it in memory (saves loading it again). */
  index?: LoadedIndex;
}

/** The report of a build that found nothing to do and wrote nothing. */
function upToDateReport(index: LoadedIndex, skipped: Skipped[], timings: { load: number; read: number; total: number }): BuildReport {
  const { manifest } = index;
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

/** The report's account of what the scan found. */
function changesFound(scan: SourceScan): Pick<BuildReport, 'added' | 'changed' | 'removed' | 'unchanged' | 'skipped'> {
  return { added: scan.added, changed: scan.changed, removed: scan.removed, unchanged: scan.keptFiles.size, skipped: scan.skipped };
}

export async function buildIndex(options: BuildOptions): Promise<BuildReport> {
  const started = performance.now();
  const warn = options.warn ?? (() => {});
  if (!options.rebuild && options.startUp) {
    const current = await currentIndex(options).catch((error: unknown) => {
      if (!(error instanceof IndexCorrupt)) throw error;
      warn(`${error.message} Rebuilding it from ${options.source.location}.`);
      return 'corrupt' as const;
    });
    if (current === 'corrupt') options = { ...options, rebuild: true };
    else if (current)
      return upToDateReport(current, [], { load: performance.now() - started, read: 0, total: performance.now() - started });
  }
  let unlock: () => Promise<void>;
  try {
    unlock = await options.store.lock({ waitMs: options.waitForLockMs ?? 0, onWait: warn, onCompromised: warn });
  } catch (error) {
    // Starting up on an index that cannot be written: the stored one still answers, as it was built.
    if (!(error instanceof IndexReadOnly) || !options.startUp) throw error;
    const stored = await options.store.load().catch(() => undefined);
    if (!stored) throw error;
    warn(`${error.message} Answering from the index as it was built; articles changed since are not in it.`);
    return upToDateReport(stored, [], { load: performance.now() - started, read: 0, total: performance.now() - started });
  }
  try {
    try {
      return await withIndexLoaded(options, await buildLocked(options, started));
    } catch (error) {
      if (!(error instanceof IndexCorrupt) || options.rebuild) throw error;
      warn(`${error.message} Rebuilding it from ${options.source.location}.`);
      return await buildLocked({ ...options, rebuild: true }, started, 'the previous index was unreadable');
    }
  } finally {
    await unlock();
  }
}

/**
 * On the start-up path, the stored index when it needs no build: current with the source and the setup,
 * or hybrid while no model is available. Loaded (and verified) without the lock.
 */
async function currentIndex(options: BuildOptions): Promise<LoadedIndex | undefined> {
  const manifest = await options.store.readManifest().catch((error: unknown) => {
    if (error instanceof IndexMissing) return undefined;
    throw error;
  });
  if (!manifest) return undefined;
  const keepWithoutModel = !options.embedder && manifest.mode === 'hybrid';
  if (!keepWithoutModel) {
    const fingerprint = options.embedder?.fingerprint ?? null;
    if (setupChange(manifest, fingerprint, options.hnsw ?? DEFAULT_HNSW, options.lexical ?? DEFAULT_LEXICAL_OPTIONS)) return undefined;
    if (!(await sourceUnchanged(options.source, manifest))) return undefined;
  }
  return options.store.load();
}

/** On the start-up path the report carries the index: a delta update wrote it without holding it. */
async function withIndexLoaded(options: BuildOptions, report: BuildReport): Promise<BuildReport> {
  if (!options.startUp || report.index) return report;
  return { ...report, index: await options.store.load() };
}

/** The lock is held. Updates the index in place when it can (a delta, or a merged generation), else builds it. */
async function buildLocked(options: BuildOptions, started: number, rebuildReason?: string): Promise<BuildReport> {
  const { store, embedder } = options;
  const warn = options.warn ?? (() => {});
  const hnsw = options.hnsw ?? DEFAULT_HNSW;
  const lexicalOptions = options.lexical ?? DEFAULT_LEXICAL_OPTIONS;
  const fingerprint = embedder?.fingerprint ?? null;

  let manifest: Manifest | undefined;
  let fullRebuildReason: string | undefined = options.rebuild ? (rebuildReason ?? 'a rebuild was asked for') : undefined;
  const manifestStarted = performance.now();
  if (!options.rebuild) {
    // A corrupt manifest throws IndexCorrupt: the caller rebuilds.
    manifest = await store.readManifest().catch((error: unknown) => {
      if (error instanceof IndexMissing) return undefined;
      throw error;
    });
    if (manifest) fullRebuildReason = setupChange(manifest, fingerprint, hnsw, lexicalOptions);
    if (fullRebuildReason) manifest = undefined;
  }
  let loadMs = performance.now() - manifestStarted;

  const readStarted = performance.now();
  // A large full build hands full chunks to the embedding worker while the source is still being read.
  let schedule: EmbedSchedule | undefined;
  const scan = await scanSource(options.source, manifest, {
    chunkSize: EMBED_CHUNK,
    onLargeBuild: () => embedder?.prepare?.(),
    onChunk:
      embedder?.embedElsewhere && !manifest
        ? (passages) => {
            schedule ??= EmbedSchedule.for(embedder, true, options.onEmbedProgress);
            schedule.push(passages.map((passage) => passage.text));
          }
        : undefined,
  });
  for (const entry of scan.skipped) warn(`Skipped ${entry.reason}`);
  const readMs = performance.now() - readStarted;

  if (manifest && scan.fresh.length === 0 && scan.removed.length === 0) {
    // Nothing to write; the data files are still read and verified, so a damaged index gets rebuilt.
    const loadStarted = performance.now();
    const index = await store.load();
    loadMs += performance.now() - loadStarted;
    return upToDateReport(index, scan.skipped, { load: loadMs, read: readMs, total: performance.now() - started });
  }

  if (manifest) {
    const update = await updateWithDelta(store, manifest, scan, embedder, {
      maxPassages: options.maxDeltaPassages,
      onEmbedProgress: options.onEmbedProgress,
    });
    if (update) {
      return {
        mode: update.manifest.mode,
        upToDate: false,
        wrote: 'delta',
        ...changesFound(scan),
        articleCount: update.articleCount,
        passageCount: update.passageCount,
        embeddedPassages: scan.freshPassages.length,
        timingsMs: {
          load: loadMs + update.timingsMs.load,
          read: readMs,
          embed: update.timingsMs.embed,
          vectors: 0,
          lexical: 0,
          save: update.timingsMs.save,
          total: performance.now() - started,
        },
        manifest: update.manifest,
      };
    }
  }

  let previous: LoadedIndex | undefined;
  if (manifest) {
    const loadStarted = performance.now();
    previous = await store.load();
    loadMs += performance.now() - loadStarted;
  }
  const { keptFiles, stamps } = scan;

  // Carry over what did not change; drop what changed or went away.
  const lexical = previous?.lexical ?? LexicalIndex.create(lexicalOptions);
  const articles = new Map<string, ArticleRecord>();
  const passages: IndexedPassage[] = [];
  const dropped: IndexedPassage[] = [];
  for (const passage of previous?.passages.values() ?? []) {
    if (keptFiles.has(passage.file)) passages.push(passage);
    else dropped.push(passage);
  }
  for (const [file, article] of previous?.articles ?? [])
    if (keptFiles.has(file)) articles.set(file, articleRecord(article, stamps.get(file)));
  for (const article of scan.fresh) articles.set(article.file, article);
  const { freshPassages: newPassages, nextLabel } = scan;

  const staged = await embedAndIndex(newPassages, dropped, {
    schedule,
    embedder,
    vectors: fingerprint
      ? (previous?.vectors ?? VectorIndex.create(fingerprint.dimension, passages.length + newPassages.length, hnsw))
      : null,
    lexical,
    titleOf: (passage) => articles.get(passage.file)?.title ?? '',
    onEmbedProgress: options.onEmbedProgress,
  });
  const { vectors } = staged;
  const { embedMs, vectorsMs, lexicalMs } = staged.timingsMs;

  const allPassages = [...passages, ...newPassages].sort((a, b) => a.label - b.label);
  const allArticles = [...articles.values()].sort(byFile);
  const saveStarted = performance.now();
  const written = await store.saveGeneration({
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
    timingsMs: {
      load: loadMs,
      read: readMs,
      embed: embedMs,
      vectors: vectorsMs,
      lexical: lexicalMs,
      save: saveMs,
      total: performance.now() - started,
    },
    manifest: written,
    index: {
      manifest: written,
      articles: new Map(allArticles.map((article) => [article.file, article])),
      passages: new Map(allPassages.map((passage) => [passage.label, passage])),
      lexical,
      vectors,
    },
  };
}
