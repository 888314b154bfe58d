/**
 * The real embedder: a transformers.js feature-extraction pipeline run locally, from the models folder
 * or (when allowed) downloaded from the model hub into the cache.
 */
import { CitebotError } from '../errors.js';
import type { Embedder, EmbedderFingerprint, EmbeddingDtype, EmbeddingSettings } from './embedder.js';
import { ChunkMemo, chunkwiseRecipe, type TokenizerRecipe } from './token-memo.js';

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
export class ModelUnavailable extends CitebotError {
  constructor(message: string) {
    super('ModelUnavailable', message);
  }
}

const BATCH_SIZE = 32;

interface Tensor {
  dims: number[];
  data: ArrayLike<number | bigint>;
}

/** A tokenized batch: the model's input tensors, plus the attention mask as plain numbers for pooling. */
interface EncodedBatch {
  inputs: Record<string, Tensor>;
  /** Row-major [texts, length]: 1 for a real token, 0 for padding. */
  mask: Uint8Array;
}

/** The two halves of a transformers.js feature-extraction pipeline that embedding needs. */
interface LoadedModel {
  tokenize(texts: string[]): EncodedBatch;
  run(inputs: Record<string, Tensor>): Promise<Record<string, Tensor | undefined>>;
}

/** Token ids per text, as the tokenizer returns them without tensors. */
type TokenLists = Record<string, number[][]>;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Pads token lists into int64 tensors. The tokenizer can pad and build tensors itself, but it converts
 * every id through BigInt, which took longer than running the static model; writing the low 32-bit
 * halves of a zeroed BigInt64Array gives the same tensors (ids are small non-negative integers).
 */
function padToTensors(
  lists: TokenLists,
  padTokenId: number,
  paddingSide: 'left' | 'right',
  makeTensor: (data: BigInt64Array, dims: number[]) => Tensor,
): EncodedBatch {
  const ids = lists.input_ids ?? [];
  const rows = ids.length;
  const length = Math.max(1, ...ids.map((row) => row.length));
  const inputs: Record<string, Tensor> = {};
  const mask = new Uint8Array(rows * length);
  for (const [key, perText] of Object.entries(lists)) {
    const data = new BigInt64Array(rows * length);
    const pad = key === 'input_ids' ? padTokenId : 0;
    const words = LITTLE_ENDIAN ? new Int32Array(data.buffer) : undefined;
    for (let row = 0; row < rows; row += 1) {
      const values = perText[row] ?? [];
      const shift = paddingSide === 'left' ? length - values.length : 0;
      for (let position = 0; position < length; position += 1) {
        const index = position - shift;
        const value = index >= 0 && index < values.length ? values[index]! : pad;
        if (words && value >= 0) words[2 * (row * length + position)] = value;
        else data[row * length + position] = BigInt(value);
        if (key === 'input_ids') mask[row * length + position] = index >= 0 && index < values.length ? 1 : 0;
      }
    }
    inputs[key] = makeTensor(data, [rows, length]);
  }
  return { inputs, mask };
}

/** Loads the ESM-only library lazily, so commands that never embed do not pay for it. */
async function loadModel(settings: EmbeddingSettings, dtype: EmbeddingDtype): Promise<LoadedModel> {
  const transformers = await import('@huggingface/transformers');
  transformers.env.localModelPath = settings.modelsDir.endsWith('/') ? settings.modelsDir : `${settings.modelsDir}/`;
  transformers.env.allowLocalModels = true;
  transformers.env.allowRemoteModels = settings.allowRemote;
  transformers.env.cacheDir = settings.cacheDir;
  try {
    const extractor = await transformers.pipeline('feature-extraction', settings.model, {
      dtype,
      device: 'cpu',
      session_options: { intraOpNumThreads: 1, interOpNumThreads: 1 },
    });
    const tokenizer = extractor.tokenizer as unknown as ((texts: string[], options: object) => TokenLists) & {
      pad_token_id?: number;
      padding_side?: string;
      model_max_length?: number;
      /** The tokenizer.json it was made from (a field of transformers.js's tokenizer, not of its API). */
      _tokenizerJSON?: TokenizerRecipe;
    };
    const tokenizeWhole = (texts: string[]) => tokenizer(texts, { padding: false, truncation: true, return_tensor: false });
    // The offline model's tokenizer works word by word: each distinct word is tokenized once.
    const maxLength = tokenizer.model_max_length;
    const memo =
      chunkwiseRecipe(tokenizer._tokenizerJSON) && maxLength !== undefined && Number.isFinite(maxLength)
        ? new ChunkMemo((chunks) => tokenizeWhole(chunks).input_ids ?? [], maxLength)
        : undefined;
    const model = extractor.model as unknown as (inputs: Record<string, Tensor>) => Promise<Record<string, Tensor | undefined>>;
    const makeTensor = (data: BigInt64Array, dims: number[]) => new transformers.Tensor('int64', data, dims) as unknown as Tensor;
    return {
      // Truncated to the model's maximum length by the tokenizer, padded here.
      tokenize: (texts) =>
        padToTensors(
          memo ? memo.tokenize(texts) : tokenizeWhole(texts),
          tokenizer.pad_token_id ?? 0,
          tokenizer.padding_side === 'left' ? 'left' : 'right',
          makeTensor,
        ),
      run: (inputs) => model(inputs),
    };
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const where = settings.allowRemote
      ? `neither in ${settings.modelsDir} nor downloadable into ${settings.cacheDir}`
      : `not in ${settings.modelsDir} and remote downloads are off (ALLOW_REMOTE_MODELS=false)`;
    throw new ModelUnavailable(`Embedding model "${settings.model}" could not be loaded: ${where}. (${reason})`);
  }
}

/**
 * Pools token vectors into unit-length sentence vectors: the mean over real (unmasked) tokens, or the
 * first token for CLS models — what the pipeline's own pooling computes, in one pass over typed arrays
 * (the generic tensor code took most of the embedding time). A text without a known token gets zeros.
 */
export function poolAndNormalize(hidden: Tensor, mask: Uint8Array, pooling: 'mean' | 'cls'): Float32Array[] {
  const [batch = 0, length = 0, dimension = 0] = hidden.dims;
  const data = hidden.data as Float32Array;
  const vectors: Float32Array[] = [];
  for (let row = 0; row < batch; row += 1) {
    const vector = new Float32Array(dimension);
    let tokens = 0;
    for (let position = 0; position < length; position += 1) {
      if (pooling === 'cls' ? position > 0 : mask[row * length + position] === 0) continue;
      const offset = (row * length + position) * dimension;
      for (let i = 0; i < dimension; i += 1) vector[i]! += data[offset + i]!;
      tokens += 1;
    }
    let norm = 0;
    for (let i = 0; i < dimension; i += 1) norm += vector[i]! * vector[i]!;
    norm = Math.sqrt(norm);
    if (tokens === 0 || !(norm > 0) || !Number.isFinite(norm)) {
      vectors.push(new Float32Array(dimension));
      continue;
    }
    for (let i = 0; i < dimension; i += 1) vector[i]! /= norm;
    vectors.push(vector);
  }
  return vectors;
}

/**
 * Creates the transformers.js embedder and loads the model. Throws ModelUnavailable when the model
 * cannot be had; callers fall back to lexical retrieval.
 */
export async function createTransformersEmbedder(settings: EmbeddingSettings): Promise<Embedder> {
  const resolved = resolveModelSettings(settings);
  const model = await loadModel(settings, resolved.dtype);

  const embedBatch = async (texts: string[]): Promise<Float32Array[]> => {
    const { inputs, mask } = model.tokenize(texts);
    const outputs = await model.run(inputs);
    const hidden = outputs.last_hidden_state ?? outputs.logits ?? outputs.token_embeddings;
    if (!hidden || hidden.dims.length !== 3) throw new ModelUnavailable(`Embedding model "${settings.model}" gave no token embeddings.`);
    return poolAndNormalize(hidden, mask, resolved.pooling);
  };

  const dimension = (await embedBatch(['probe']))[0]?.length ?? 0;
  if (dimension <= 0) throw new ModelUnavailable(`Embedding model "${settings.model}" returned no vector dimension.`);
  const fingerprint: EmbedderFingerprint = { ...resolved, dimension };

  return {
    fingerprint,
    async embed(texts, kind, onProgress) {
      const prefix = kind === 'query' ? resolved.queryPrefix : resolved.passagePrefix;
      // Batching texts of similar length wastes less work on padding; results go back in input order.
      const order = texts.map((_, i) => i).sort((a, b) => texts[a]!.length - texts[b]!.length);
      const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
      for (let offset = 0; offset < order.length; offset += BATCH_SIZE) {
        const slice = order.slice(offset, offset + BATCH_SIZE);
        const embedded = await embedBatch(slice.map((i) => prefix + texts[i]!));
        slice.forEach((position, j) => {
          vectors[position] = embedded[j]!;
        });
        onProgress?.(Math.min(offset + BATCH_SIZE, texts.length), texts.length);
      }
      return vectors;
    },
  };
}
