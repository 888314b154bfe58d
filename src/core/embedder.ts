/**
 * Sentence embeddings behind a one-method interface, so retrieval never depends on how vectors are made.
 * The real implementation runs a transformers.js feature-extraction pipeline locally.
 */
import type { EmbeddingDtype, EmbeddingSettings } from '../config.js';

export type EmbedKind = 'query' | 'passage';

export interface Embedder {
  /** Identifies the model and everything that changes its vectors; stored in the index manifest. */
  readonly fingerprint: EmbedderFingerprint;
  /** Unit-length vectors, one per text. A text with no known word gets a zero vector. */
  embed(texts: string[], kind: EmbedKind, onProgress?: (done: number, total: number) => void): Promise<Float32Array[]>;
}

export interface EmbedderFingerprint {
  model: string;
  dimension: number;
  pooling: 'mean' | 'cls';
  dtype: EmbeddingDtype;
  queryPrefix: string;
  passagePrefix: string;
}

interface KnownModel {
  pooling: 'mean' | 'cls';
  dtype: EmbeddingDtype;
  queryPrefix: string;
  passagePrefix: string;
}

/** How the models we know of want to be called; any other model id falls back to mean pooling, fp32. */
export const KNOWN_MODELS: Record<string, KnownModel> = {
  'local/glove-6b-100d-sif': { pooling: 'mean', dtype: 'fp32', queryPrefix: '', passagePrefix: '' },
  'Xenova/bge-small-en-v1.5': {
    pooling: 'cls',
    dtype: 'fp32',
    queryPrefix: 'Represent this sentence for searching relevant passages: ',
    passagePrefix: '',
  },
  'Xenova/bge-base-en-v1.5': {
    pooling: 'cls',
    dtype: 'fp32',
    queryPrefix: 'Represent this sentence for searching relevant passages: ',
    passagePrefix: '',
  },
  'Xenova/all-MiniLM-L6-v2': { pooling: 'mean', dtype: 'fp32', queryPrefix: '', passagePrefix: '' },
  'Xenova/multilingual-e5-small': { pooling: 'mean', dtype: 'fp32', queryPrefix: 'query: ', passagePrefix: 'passage: ' },
};

/** Settings with the known-model defaults filled in, minus the dimension, which only the model knows. */
export function resolveModelSettings(settings: EmbeddingSettings): Omit<EmbedderFingerprint, 'dimension'> {
  const known = KNOWN_MODELS[settings.model];
  return {
    model: settings.model,
    pooling: settings.pooling ?? known?.pooling ?? 'mean',
    dtype: settings.dtype ?? known?.dtype ?? 'fp32',
    queryPrefix: settings.queryPrefix ?? known?.queryPrefix ?? '',
    passagePrefix: settings.passagePrefix ?? known?.passagePrefix ?? '',
  };
}

/** The model could not be loaded: not in the local folder, and downloads are off or failed. */
export class ModelUnavailable extends Error {
  override readonly name = 'ModelUnavailable';
}

const BATCH_SIZE = 32;

interface FeatureTensor {
  dims: number[];
  data: ArrayLike<number>;
}
type FeatureExtractor = (texts: string[], options: { pooling: 'mean' | 'cls'; normalize: boolean }) => Promise<FeatureTensor>;

/** Loads the ESM-only library lazily, so commands that never embed do not pay for it. */
async function loadFeatureExtractor(settings: EmbeddingSettings, dtype: EmbeddingDtype): Promise<FeatureExtractor> {
  const transformers = await import('@huggingface/transformers');
  transformers.env.localModelPath = settings.modelsDir.endsWith('/') ? settings.modelsDir : `${settings.modelsDir}/`;
  transformers.env.allowLocalModels = true;
  transformers.env.allowRemoteModels = settings.allowRemote;
  transformers.env.cacheDir = settings.cacheDir;
  try {
    const extractor = await transformers.pipeline('feature-extraction', settings.model, { dtype, device: 'cpu' });
    return (texts, options) => extractor(texts, options) as Promise<FeatureTensor>;
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const where = settings.allowRemote
      ? `neither in ${settings.modelsDir} nor downloadable into ${settings.cacheDir}`
      : `not in ${settings.modelsDir} and remote downloads are off (ALLOW_REMOTE_MODELS=false)`;
    throw new ModelUnavailable(`Embedding model "${settings.model}" could not be loaded: ${where}. (${reason})`);
  }
}

/**
 * Creates the transformers.js embedder and loads the model. Throws ModelUnavailable when the model
 * cannot be had; callers fall back to lexical retrieval.
 */
export async function createTransformersEmbedder(settings: EmbeddingSettings): Promise<Embedder> {
  const resolved = resolveModelSettings(settings);
  const extract = await loadFeatureExtractor(settings, resolved.dtype);
  const probe = await extract(['probe'], { pooling: resolved.pooling, normalize: true });
  const dimension = probe.dims.at(-1) ?? 0;
  if (dimension <= 0) throw new ModelUnavailable(`Embedding model "${settings.model}" returned no vector dimension.`);
  const fingerprint: EmbedderFingerprint = { ...resolved, dimension };

  return {
    fingerprint,
    async embed(texts, kind, onProgress) {
      const prefix = kind === 'query' ? resolved.queryPrefix : resolved.passagePrefix;
      const vectors: Float32Array[] = [];
      for (let offset = 0; offset < texts.length; offset += BATCH_SIZE) {
        const batch = texts.slice(offset, offset + BATCH_SIZE).map((text) => prefix + text);
        const output = await extract(batch, { pooling: resolved.pooling, normalize: true });
        for (let row = 0; row < batch.length; row += 1) {
          vectors.push(cleanVector(output.data, row * dimension, dimension));
        }
        onProgress?.(Math.min(offset + BATCH_SIZE, texts.length), texts.length);
      }
      return vectors;
    },
  };
}

/** Copies one row; a text with no known token pools to NaN (0/0), which becomes a zero vector. */
function cleanVector(data: ArrayLike<number>, offset: number, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  for (let i = 0; i < dimension; i += 1) {
    const value = data[offset + i] ?? 0;
    if (!Number.isFinite(value)) return new Float32Array(dimension);
    vector[i] = value;
  }
  return vector;
}

export function isZeroVector(vector: Float32Array): boolean {
  return vector.every((value) => value === 0);
}
