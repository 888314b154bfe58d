/**
 * A small update: the changes since the generation written as a delta over it, without loading or
 * rewriting the generation. The delta is cumulative: it holds every change since the generation, so it
 * replaces the previous one.
 */
import { performance } from 'node:perf_hooks';
import type { Embedder } from '../embedding/embedder.js';
import { byFile } from '../ingest/source.js';
import type { IndexedPassage } from '../model.js';
import type { Manifest } from '../storage/manifest.js';
import type { Store } from '../storage/store.js';
import type { SourceScan } from './changes.js';

/**
 * Passages a delta may hold (added plus withdrawn) before an update merges it into a new generation:
 * loading applies a delta passage by passage (about 0.3 ms each at 100k passages), so it stays within
 * 1 % of the index, or 500 passages for small ones.
 */
export function deltaLimit(passageCount: number): number {
  return Math.max(500, Math.floor(passageCount / 100));
}

export interface DeltaResult {
  manifest: Manifest;
  articleCount: number;
  passageCount: number;
  timingsMs: { load: number; embed: number; save: number };
}

/** Writes the update as a delta; undefined when the delta would outgrow `maxPassages` (the caller merges). */
export async function updateWithDelta(
  store: Store,
  manifest: Manifest,
  scan: SourceScan,
  embedder: Embedder | null,
  options: { maxPassages?: number; onEmbedProgress?: (done: number, total: number) => void },
): Promise<DeltaResult | undefined> {
  const loadStarted = performance.now();
  const previous = await store.readDelta(manifest);
  await store.checkFiles(manifest);
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
  const freshArticles = scan.fresh;
  if (keptPassages.length + freshPassages.length + withdrawn > (options.maxPassages ?? deltaLimit(manifest.passageCount))) return undefined;

  const embedStarted = performance.now();
  const freshVectors = embedder
    ? await embedder.embed(
        freshPassages.map((passage) => passage.text),
        'passage',
        options.onEmbedProgress,
      )
    : null;
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
  ].sort(byFile);
  const passageCount = nextSources.reduce((sum, source) => sum + source.passages, 0);

  const saveStarted = performance.now();
  const written = await store.saveDelta(manifest, {
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
  return {
    manifest: written,
    articleCount: nextSources.length,
    passageCount,
    timingsMs: { load: loadMs, embed: embedMs, save: performance.now() - saveStarted },
  };
}
