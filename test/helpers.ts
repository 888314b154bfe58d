/**
 * Shared test helpers: paths of the repository and the offline model, temporary folders, a copy of the
 * seeds, hand-made articles and a small fake embedder with fixed, explainable vectors.
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_MODELS_DIR } from '../src/app/paths.js';
import { seedFolder } from '../src/ingest/seed-files.js';
import type { Source } from '../src/ingest/source.js';
import { localStore } from '../src/storage/local-store.js';
import type { LoadedIndex, Store } from '../src/storage/store.js';
import type { Article, Paragraph } from '../src/model.js';
import type { EmbedKind, Embedder, EmbedderFingerprint } from '../src/embedding/embedder.js';

/** The repository root (test/ is one level below it). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');
export const SEEDS_DIR = path.join(REPO_ROOT, 'seeds');
/** The project's own models folder, where `npm run model` (run by npm install) builds the offline model. */
export const MODELS_DIR = PROJECT_MODELS_DIR;
export const OFFLINE_MODEL = 'local/glove-6b-100d-sif';

/** The offline model loaded as the entry points load it, with a model cache of the test's own. */
export async function openOfflineEmbedder(): Promise<Embedder> {
  // Imported when asked for: most test files never load the model.
  const { createTransformersEmbedder } = await import('../src/embedding/transformers.js');
  return createTransformersEmbedder({
    model: OFFLINE_MODEL,
    modelsDir: MODELS_DIR,
    cacheDir: await makeTempDir('citebot-cache-'),
    allowRemote: false,
  });
}

/** The problems `loadConfig` reports for `environment` (paths resolved against /project); none when it loads. */
export async function configProblems(environment: NodeJS.ProcessEnv): Promise<string[]> {
  const { ConfigError, loadConfig } = await import('../src/app/config.js');
  try {
    loadConfig(environment, '/project');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

export const SEED_FILES = [
  '000_9269c2b80335e754.txt',
  '001_b22a2843e4ff1581.txt',
  '002_1a36095a4a9b4698.txt',
  '003_fe676a83808ddfd6.txt',
  '004_c6458dd0e0f282a6.txt',
] as const;

const tempDirs: string[] = [];

/** A fresh folder under the OS temp dir; removed by `removeTempDirs`. */
export async function makeTempDir(prefix = 'citebot-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder made by `makeTempDir` (call from afterAll/afterEach). */
export async function removeTempDirs(): Promise<void> {
  while (tempDirs.length > 0) {
    const dir = tempDirs.pop()!;
    await rm(dir, { recursive: true, force: true });
  }
}

/** A temp folder holding a copy of the named seed files (all five by default). */
export async function copySeeds(files: readonly string[] = SEED_FILES): Promise<string> {
  const dir = await makeTempDir('citebot-seeds-');
  for (const file of files) await cp(path.join(SEEDS_DIR, file), path.join(dir, file));
  return dir;
}

/** Names of the entries of a folder, recursively, sorted: to show that a step wrote nothing. */
export async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/**
 * An Article from plain paragraphs, laid out as the file `paragraphs.join('\n\n')` would be, so the
 * offsets are exact.
 */
export function makeArticle(file: string, paragraphs: string[], meta: Partial<Omit<Article, 'file' | 'paragraphs'>> = {}): Article {
  const list: Paragraph[] = [];
  let offset = 0;
  for (const [i, text] of paragraphs.entries()) {
    list.push({ number: i + 1, text, start: offset, end: offset + text.length });
    offset += text.length + 2;
  }
  return { file, hash: `hash-of-${file}`, title: meta.title ?? file, titleSource: 'page', ...meta, paragraphs: list };
}

/** Words that the fake embedder maps to the same dimension: its notion of "meaning". */
export const DEFAULT_CONCEPTS: readonly string[][] = [
  ['troops', 'troop', 'soldiers', 'soldier', 'forces', 'military', 'army', 'deployed', 'contingent'],
  ['syria', 'syrian', 'damascus', 'euphrates'],
  ['tourists', 'tourist', 'museum', 'museums', 'holiday', 'visitors', 'sightseeing'],
  ['minister', 'diplomat', 'envoy', 'talks', 'ministry', 'lavrov', 'zakharova'],
  ['oil', 'money', 'budget', 'resources', 'economy'],
  ['withdraw', 'withdrawal', 'leave', 'leaving', 'pullout', 'depart'],
  ['russia', 'russian', 'moscow', 'kremlin'],
  ['united', 'states', 'us', 'american', 'americans', 'washington', 'pentagon'],
];

export interface FakeEmbedderOptions {
  model?: string;
  concepts?: readonly string[][];
  /** Exact vectors for exact texts (before the keyword rule), for hand-tuned fusion cases. */
  fixed?: Record<string, number[]>;
}

export interface FakeEmbedder extends Embedder {
  /** Every call: its kind and texts. */
  readonly calls: Array<{ kind: EmbedKind; texts: string[] }>;
  /** Texts embedded as passages, over all calls. */
  passageTexts(): string[];
  /** When set, the next passage embedding reports half its progress, then throws this error. */
  failNextPassageBatch?: Error;
}

/**
 * An Embedder with fixed vectors: each dimension is a concept (a list of words); a text's vector counts
 * its words per concept and is unit-normalised. A text with no concept word gets the zero vector, as the
 * real embedder gives for a text with no known word.
 */
export function createFakeEmbedder(options: FakeEmbedderOptions = {}): FakeEmbedder {
  const concepts = options.concepts ?? DEFAULT_CONCEPTS;
  const dimension = concepts.length;
  const wordToDim = new Map<string, number>();
  concepts.forEach((words, dim) => words.forEach((word) => wordToDim.set(word, dim)));
  const fingerprint: EmbedderFingerprint = {
    model: options.model ?? 'test/fake-concepts',
    dimension,
    pooling: 'mean',
    dtype: 'fp32',
    queryPrefix: '',
    passagePrefix: '',
  };

  const vectorOf = (text: string): Float32Array => {
    const vector = new Float32Array(dimension);
    const fixed = options.fixed?.[text];
    if (fixed) {
      fixed.forEach((value, i) => (vector[i] = value));
    } else {
      for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
        const dim = wordToDim.get(word);
        if (dim !== undefined) vector[dim]! += 1;
      }
    }
    const norm = Math.hypot(...vector);
    if (norm > 0) for (let i = 0; i < dimension; i += 1) vector[i]! /= norm;
    return vector;
  };

  const fake: FakeEmbedder = {
    fingerprint,
    calls: [],
    passageTexts() {
      return this.calls.filter((call) => call.kind === 'passage').flatMap((call) => call.texts);
    },
    async embed(texts, kind, onProgress) {
      const failure = kind === 'passage' ? fake.failNextPassageBatch : undefined;
      if (failure) {
        fake.failNextPassageBatch = undefined;
        onProgress?.(Math.floor(texts.length / 2), texts.length);
        throw failure;
      }
      fake.calls.push({ kind, texts: [...texts] });
      const vectors = texts.map(vectorOf);
      onProgress?.(texts.length, texts.length);
      return vectors;
    },
  };
  return fake;
}

/** The seeds folder and index folder of a test, as the build's source and store. */
export function folders(seedsDir: string, indexDir: string): { source: Source; store: Store } {
  return { source: seedFolder(seedsDir), store: localStore(indexDir) };
}

/** Loads the index kept in a folder. */
export function loadIndex(indexDir: string): Promise<LoadedIndex> {
  return localStore(indexDir).load();
}
