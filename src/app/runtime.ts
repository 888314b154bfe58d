/**
 * What every entry point needs before it can answer: the embedder (or the reason there is none), an index
 * that is present and current, loaded and checked against the configured model.
 */
import path from 'node:path';
import type { Embedder, EmbeddingSettings } from '../embedding/embedder.js';
import { GLOVE_MODEL_ID } from '../embedding/glove/recipe.js';
import { createTransformersEmbedder, ModelUnavailable, resolveModelSettings } from '../embedding/transformers.js';
import { withBulkWorker } from '../embedding/worker.js';
import { readWordVectors } from '../embedding/word-vectors.js';
import { DEFAULT_SEARCH } from '../retrieval/search.js';
import { termNeighboursOf } from '../retrieval/soft-terms.js';
import { buildIndex, type BuildReport } from '../index/build.js';
import { seedFolder } from '../ingest/seed-files.js';
import type { RetrievalMode, WordVectorTable } from '../model.js';
import { localStore } from '../storage/local-store.js';
import { checkModel } from '../storage/manifest.js';
import type { LoadedIndex, Store } from '../storage/store.js';
import type { Config } from './config.js';
import { ensureGloveModel } from './glove-model.js';
import { PROJECT_MODELS_DIR } from './paths.js';

export interface Runtime {
  index: LoadedIndex;
  embedder: Embedder | null;
  mode: RetrievalMode;
  /** Said to the user with every answer when retrieval is degraded (lexical only). */
  notice?: string;
  build?: BuildReport;
}

export interface RuntimeOptions {
  warn: (message: string) => void;
  onEmbedProgress?: (done: number, total: number) => void;
}

const stderrLine = (line: string) => void process.stderr.write(`${line}\n`);

/** The default setup: the offline model in the project's own models folder, which the project builds itself. */
function isProjectBuiltModel(settings: EmbeddingSettings): boolean {
  return settings.model === GLOVE_MODEL_ID && path.resolve(settings.modelsDir) === PROJECT_MODELS_DIR;
}

/**
 * Loads the configured model; null with the reason when it cannot be had (offline, nothing local). In
 * the default setup a missing model is built first (`npm install` normally has).
 */
export async function openEmbedder(config: Config): Promise<{ embedder: Embedder | null; reason?: string }> {
  let buildFailure = '';
  if (isProjectBuiltModel(config.embedding)) {
    await ensureGloveModel({ modelsDir: config.embedding.modelsDir, onlyIfMissing: true, log: stderrLine }).catch((error: unknown) => {
      buildFailure = ` Building it failed (${error instanceof Error ? error.message : String(error)}); \`npm run model\` shows why.`;
    });
  }
  try {
    return { embedder: await createTransformersEmbedder(config.embedding) };
  } catch (error) {
    if (error instanceof ModelUnavailable) return { embedder: null, reason: error.message + buildFailure };
    throw error;
  }
}

/** Where the configured index lives. */
export function indexStore(config: Config): Store {
  return localStore(config.indexDir);
}

/**
 * The index, current with the seeds: built or updated first when needed (the build decides what a
 * damaged index needs), loaded once. A large first build embeds in a worker thread while this thread indexes.
 */
async function currentIndex(
  config: Config,
  embedder: Embedder | null,
  reason: string | undefined,
  options: RuntimeOptions,
): Promise<{ index: LoadedIndex; build?: BuildReport }> {
  const store = indexStore(config);
  const bulk = embedder ? withBulkWorker(embedder, config.embedding) : null;
  try {
    const build = await buildIndex({
      source: seedFolder(config.seedsDir),
      store,
      embedder: bulk,
      modeReason: reason,
      warn: options.warn,
      onEmbedProgress: options.onEmbedProgress,
      // Another process (a second `ask`, the bot) may be updating the same index: wait for it.
      waitForLockMs: 120_000,
      startUp: true,
    });
    return { index: build.index ?? (await store.load()), build };
  } finally {
    await bulk?.close();
  }
}

/**
 * The offline model's word vectors, for soft term matching: from the configured models folder, else the
 * project's own (where `npm ci` builds the model); null with a warning when neither has them.
 */
export async function openWordVectors(config: Config, warn: (message: string) => void): Promise<WordVectorTable | null> {
  const configured = await readWordVectors(config.embedding.modelsDir);
  if (configured.table) return configured.table;
  const own = path.resolve(config.embedding.modelsDir) === PROJECT_MODELS_DIR ? configured : await readWordVectors(PROJECT_MODELS_DIR);
  if (own.table) return own.table;
  warn(`${own.reason ?? configured.reason} Question words match only themselves (no soft term matching).`);
  return null;
}

export async function openRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) options.warn(`${reason} Falling back to lexical (BM25) retrieval only.`);
  const { index, build } = await currentIndex(config, embedder, reason, options);
  return runtimeOf(config, index, embedder, options, build);
}

/**
 * The runtime of a shard process: the index as the shard manager built it, loaded read-only (no build,
 * no lock, no watcher: the manager is the one process that writes it). IndexMissing when there is none.
 */
export async function openReadOnlyRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) options.warn(`${reason} Falling back to lexical (BM25) retrieval only.`);
  return runtimeOf(config, await indexStore(config).load(), embedder, options);
}

/** A loaded index made ready to answer from: checked against the model, word vectors attached, mode decided. */
async function runtimeOf(
  config: Config,
  index: LoadedIndex,
  embedder: Embedder | null,
  options: RuntimeOptions,
  build?: BuildReport,
): Promise<Runtime> {
  if (embedder) checkModel(index.manifest.embedding, resolveModelSettings(config.embedding));

  index.wordVectors = await openWordVectors(config, options.warn);
  // Built now rather than on the first question: stemming the table's words takes a fifth of a second.
  if (index.wordVectors && DEFAULT_SEARCH.softMatching) termNeighboursOf(index.lexical, index.wordVectors, DEFAULT_SEARCH.softMatching);

  const mode: RetrievalMode = index.vectors && embedder ? 'hybrid' : 'lexical';
  let notice: string | undefined;
  if (mode === 'lexical') {
    notice = embedder
      ? `The index has no embeddings (${index.manifest.modeReason ?? 'built without a model'}); answers use lexical retrieval only. Run \`npm run index\` to add them.`
      : 'No embedding model could be loaded, so answers use lexical retrieval only.';
  }
  return { index, embedder: mode === 'hybrid' ? embedder : null, mode, notice, build };
}
