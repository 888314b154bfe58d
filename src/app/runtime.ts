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
import { DEFAULT_SEARCH, termNeighboursFor } from '../retrieval/search.js';
import { seedFolder } from '../ingest/seed-files.js';
import type { RetrievalMode, WordVectorTable } from '../model.js';
import { checkModel } from '../storage/manifest.js';
import type { ServedIndex } from '../storage/served-index.js';
import { localBackend, type BackendReport, type IndexBackend } from '../storage/index-backend.js';
import type { Config } from './config.js';
import { ensureGloveModel } from './glove-model.js';
import { PROJECT_MODELS_DIR } from './paths.js';

export interface Runtime {
  index: ServedIndex;
  /** Where the index is kept: updates and reloads go through it. */
  backend: IndexBackend;
  embedder: Embedder | null;
  mode: RetrievalMode;
  /** Said to the user with every answer when retrieval is degraded (lexical only). */
  notice?: string;
  build?: BackendReport;
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

/** Where the configured index is kept (INDEX_STORE). The Postgres backend is loaded only when configured. */
export async function indexBackend(config: Config): Promise<IndexBackend> {
  const { indexStore } = config;
  if (indexStore.kind === 'files') return localBackend(indexStore.dir);
  const { postgresBackend } = await import('../storage/postgres/pg-backend.js');
  return postgresBackend(indexStore);
}

/**
 * The index, current with the seeds: built or updated first when needed (the build decides what a
 * damaged index needs), then opened. A large first build into local files embeds in a worker thread
 * while this thread indexes.
 */
async function currentIndex(
  backend: IndexBackend,
  config: Config,
  embedder: Embedder | null,
  reason: string | undefined,
  wordVectors: WordVectorTable | null,
  options: RuntimeOptions,
): Promise<{ index: ServedIndex; build: BackendReport }> {
  const bulk = embedder ? withBulkWorker(embedder, config.embedding) : null;
  try {
    const build = await backend.build({
      source: seedFolder(config.seedsDir),
      embedder: bulk,
      modeReason: reason,
      warn: options.warn,
      onEmbedProgress: options.onEmbedProgress,
      // Another process (a second `ask`, the bot) may be updating the same index: wait for it.
      waitForLockMs: 120_000,
      startUp: true,
    });
    const index = build.index ?? (await backend.open({ wordVectors }));
    index.wordVectors = wordVectors;
    return { index, build };
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
  const backend = await indexBackend(config);
  const wordVectors = await openWordVectors(config, options.warn);
  const { index, build } = await currentIndex(backend, config, embedder, reason, wordVectors, options);
  return runtimeOf(config, backend, index, embedder, build);
}

/**
 * The runtime of a shard process: the index as the shard manager built it, opened read-only (no build,
 * no lock, no watcher: the manager is the one process that writes it). IndexMissing when there is none.
 */
export async function openReadOnlyRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const { embedder, reason } = await openEmbedder(config);
  if (!embedder) options.warn(`${reason} Falling back to lexical (BM25) retrieval only.`);
  const backend = await indexBackend(config);
  const index = await backend.open({ wordVectors: await openWordVectors(config, options.warn) });
  return runtimeOf(config, backend, index, embedder);
}

/** An opened index made ready to answer from: checked against the model, soft matching warmed, mode decided. */
function runtimeOf(config: Config, backend: IndexBackend, index: ServedIndex, embedder: Embedder | null, build?: BackendReport): Runtime {
  if (embedder) checkModel(index.summary.embedding, resolveModelSettings(config.embedding));
  // Built now rather than on the first question: stemming the table's words takes a fifth of a second.
  termNeighboursFor(index, DEFAULT_SEARCH.softMatching);

  const mode: RetrievalMode = index.vectors && embedder ? 'hybrid' : 'lexical';
  let notice: string | undefined;
  if (mode === 'lexical') {
    notice = embedder
      ? `The index has no embeddings (${index.summary.modeReason ?? 'built without a model'}); answers use lexical retrieval only. Run \`npm run index\` to add them.`
      : 'No embedding model could be loaded, so answers use lexical retrieval only.';
  }
  return { index, backend, embedder: mode === 'hybrid' ? embedder : null, mode, notice, build };
}
