/**
 * The recipe of the offline model, step by step on tiny inputs: vocabulary, SIF weights, common-component
 * removal, int8 rows, the ONNX graph, the tokenizer files and the wink reader; and a tiny model built end
 * to end and run through the project's real embedder (transformers.js).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildGloveModel, type ModelFile } from '../../src/embedding/glove/build.js';
import { removeComponent, topEigenvector, weightedSecondMoment } from '../../src/embedding/glove/common-component.js';
import { decodeOnnx, GRAPH, staticEmbeddingOnnx } from '../../src/embedding/glove/onnx-graph.js';
import { dequantizeRow, quantizeRows, roundHalfEven } from '../../src/embedding/glove/quantize.js';
import type { GloveRecipe } from '../../src/embedding/glove/recipe.js';
import { harmonicNumber, sifWeight, weightedRows, zipfProbability } from '../../src/embedding/glove/sif.js';
import { pythonJson, tokenizerJson } from '../../src/embedding/glove/tokenizer-json.js';
import { bertNormalize, bertPreTokenize, producibleWhole, selectVocabulary } from '../../src/embedding/glove/vocabulary.js';
import { winkWordVectors, type WordVectors } from '../../src/embedding/glove/wink.js';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import { makeTempDir, removeTempDirs } from '../helpers.js';

afterAll(removeTempDirs);

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, value, i) => sum + value * b[i]!, 0);

describe('vocabulary', () => {
  it('normalizes and pre-tokenizes as BERT does', () => {
    expect(bertNormalize('Café\tNoël\u0000')).toBe('cafe noel');
    expect(bertPreTokenize(bertNormalize('Well-known, U.S.'))).toEqual(['well', '-', 'known', ',', 'u', '.', 's', '.']);
    expect(bertPreTokenize(bertNormalize('東京'))).toEqual(['東', '京']);
  });

  it('keeps a word only when the tokenizer can produce it whole', () => {
    for (const word of ['the', ',', '"', '$', '“', '’', '€', '£', 'naive', '東', 'mid1990s'])
      expect(producibleWhole(word), word).toBe(true);
    for (const word of ['well-known', 'Paris', 'café', "don't", 'a.m.', 'pg-13', '東京', 'two words', ''])
      expect(producibleWhole(word), word).toBe(false);
  });

  it('puts [PAD] and [UNK] first, then the first producible words in frequency order, with their source rows', () => {
    const words = ['the', 'New', ',', 'well-known', 'of', 'café', 'the', 'to', 'and'];
    const { tokens, sourceRows } = selectVocabulary(words, 4);
    expect(tokens).toEqual(['[PAD]', '[UNK]', 'the', ',', 'of', 'to']);
    expect([...sourceRows]).toEqual([-1, -1, 0, 2, 4, 7]);
    expect(() => selectVocabulary(words, 10)).toThrow(/Only 5 of 9 words/);
  });
});

describe('SIF weights', () => {
  it('uses a / (a + p) with Zipf p(rank) = 1 / (rank * H_n)', () => {
    expect(harmonicNumber(1)).toBe(1);
    expect(harmonicNumber(4)).toBeCloseTo(25 / 12, 15);
    expect(harmonicNumber(400_000)).toBeCloseTo(Math.log(400_000) + 0.5772156649015329 + 1 / 800_000 - 1 / (12 * 400_000 ** 2), 12);
    const h = harmonicNumber(400_000);
    expect(zipfProbability(1, h)).toBeCloseTo(1 / h, 15);
    expect(zipfProbability(10, h) * 10).toBeCloseTo(zipfProbability(1, h), 15);
    expect(sifWeight(1e-3, 1e-3)).toBe(0.5);
    expect(sifWeight(zipfProbability(1, h), 1e-3)).toBeCloseTo(0.013297, 6); // "the" counts for 1/75th
    expect(sifWeight(zipfProbability(100_000, h), 1e-3)).toBeGreaterThan(0.999);
  });

  it('scales each row in float32 and leaves zero-weight rows empty', () => {
    const table = weightedRows(
      3,
      2,
      (row) => [row + 0.1, -(row + 0.1)],
      (row) => (row === 0 ? 0 : 1 / 3),
    );
    expect([...table.slice(0, 2)]).toEqual([0, 0]);
    expect(table[2]).toBe(Math.fround(Math.fround(1.1) * Math.fround(1 / 3)));
    expect(table[5]).toBe(-Math.fround(Math.fround(2.1) * Math.fround(1 / 3)));
  });
});

describe('common-component removal', () => {
  it('finds the top eigenvector of sum p x x^T', () => {
    // Rows along (1, 1) dominate; the eigenvector is (1, 1) / sqrt(2) up to sign.
    const table = Float32Array.of(1, 1, 2, 2, 1, -1, 0, 0);
    const moment = weightedSecondMoment(table, 2, [1, 1, 0.1, 5]);
    expect([...moment].map((value) => value.toFixed(12))).toEqual(['5.100000000000', '4.900000000000', '4.900000000000', '5.100000000000']);
    const u = topEigenvector(moment, 2);
    expect(u[0]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(u[1]).toBeCloseTo(Math.SQRT1_2, 12);
    expect(() => topEigenvector(Float64Array.of(1, 0, 0, 1), 2, { maxIterations: 5, tolerance: -1 })).toThrow(/did not converge/);
  });

  it('projects u out of every row, so that each row is orthogonal to u', () => {
    const dimension = 8;
    const rows = 50;
    const table = Float32Array.from({ length: rows * dimension }, (_, i) => Math.sin(i * 1.7) + 0.8); // a shared offset
    const before = Float32Array.from(table);
    const u = topEigenvector(weightedSecondMoment(table, dimension, new Array<number>(rows).fill(1)), dimension);
    expect(Math.hypot(...u)).toBeCloseTo(1, 12);
    removeComponent(table, dimension, u);
    for (let row = 0; row < rows; row += 1) {
      const x = table.subarray(row * dimension, (row + 1) * dimension);
      const original = before.subarray(row * dimension, (row + 1) * dimension);
      expect(Math.abs(dot(x, u))).toBeLessThan(1e-6 * Math.hypot(...original));
      // What was removed is a multiple of u.
      const removed = Array.from(original, (value, j) => value - x[j]!);
      const along = dot(removed, u);
      removed.forEach((value, j) => expect(value).toBeCloseTo(along * u[j]!, 5));
    }
  });
});

describe('int8 rows', () => {
  it('rounds half to even, like numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.5001].map(roundHalfEven)).toEqual([0, 2, 2, 0, -2, -2, 2, -3]);
  });

  it('stores every element within half a step of its row, and keeps zero rows at scale 1', () => {
    const dimension = 16;
    const table = Float32Array.from({ length: 5 * dimension }, (_, i) => (i < dimension ? 0 : Math.cos(i * 0.37) * (1 + (i % 7))));
    const quantized = quantizeRows(table, dimension);
    expect(quantized.rows).toBe(5);
    expect(quantized.scales[0]).toBe(1);
    expect([...quantized.values.subarray(0, dimension)].every((value) => value === 0)).toBe(true);
    for (let row = 1; row < 5; row += 1) {
      const scale = quantized.scales[row]!;
      const levels = quantized.values.subarray(row * dimension, (row + 1) * dimension);
      expect(Math.max(...Array.from(levels, Math.abs))).toBe(127);
      const back = dequantizeRow(quantized, row);
      for (let j = 0; j < dimension; j += 1)
        expect(Math.abs(back[j]! - table[row * dimension + j]!)).toBeLessThanOrEqual(scale / 2 + 1e-7 * scale * 127);
    }
  });
});

describe('the ONNX graph', () => {
  it('encodes to bytes that decode back to the gather-cast-scale-mask graph', () => {
    const quantized = quantizeRows(Float32Array.of(0, 0, 0, 1, -0.5, 0.25, -2, 1, 0), 3);
    const model = decodeOnnx(staticEmbeddingOnnx(quantized));
    expect(model.ir_version).toBe(8);
    expect(model.producer_name).toBe(GRAPH.producer);
    expect(model.opset_import).toEqual([{ domain: '', version: 13 }]);
    expect(model.graph.name).toBe('glove_sif_static');
    expect(model.graph.node.map((node) => [node.op_type, node.input, node.output])).toEqual([
      ['Gather', ['emb_q', 'input_ids'], ['g_q']],
      ['Cast', ['g_q'], ['g_f']],
      ['Gather', ['emb_scale', 'input_ids'], ['g_s']],
      ['Mul', ['g_f', 'g_s'], ['tok']],
      ['Cast', ['attention_mask'], ['m_f']],
      ['Unsqueeze', ['m_f', 'axes_last'], ['m_u']],
      ['Mul', ['tok', 'm_u'], ['last_hidden_state']],
    ]);
    expect(model.graph.node[0]!.attribute).toEqual([{ name: 'axis', type: 2, i: 0 }]);
    expect(model.graph.node[1]!.attribute).toEqual([{ name: 'to', type: 2, i: 1 }]);

    const [values, scales, axes] = model.graph.initializer;
    expect([values!.name, values!.dims, values!.data_type]).toEqual(['emb_q', [3, 3], 3]);
    expect(new Int8Array(values!.raw_data.buffer, values!.raw_data.byteOffset, 9)).toEqual(quantized.values);
    expect([scales!.name, scales!.dims, scales!.data_type]).toEqual(['emb_scale', [3, 1], 1]);
    expect(new Float32Array(Uint8Array.from(scales!.raw_data).buffer)).toEqual(quantized.scales);
    expect([axes!.name, axes!.dims, axes!.data_type, [...new BigInt64Array(Uint8Array.from(axes!.raw_data).buffer)]]).toEqual([
      'axes_last',
      [1],
      7,
      [-1n],
    ]);

    const shape = (index: number, list: 'input' | 'output') => model.graph[list][index]!.type.tensor_type;
    expect(model.graph.input.map((input) => input.name)).toEqual(['input_ids', 'attention_mask']);
    expect(shape(0, 'input')).toEqual({ elem_type: 7, shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }] } });
    expect(model.graph.output[0]!.name).toBe('last_hidden_state');
    expect(shape(0, 'output')).toEqual({
      elem_type: 1,
      shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }, { dim_value: 3 }] },
    });
  });
});

describe('tokenizer files', () => {
  it("writes JSON as Python's json.dumps does, keys in insertion order", () => {
    const ordered = new Map<string, number | null>([
      ['b', 1],
      ['10', 2],
      ['a"\\\n', null],
    ]);
    expect(pythonJson({ list: [1, 'x', true], map: ordered, empty: {} })).toBe(
      '{"list": [1, "x", true], "map": {"b": 1, "10": 2, "a\\"\\\\\\n": null}, "empty": {}}',
    );
  });

  it('has a whole-word WordPiece vocabulary with the ids of the token list', () => {
    const json = JSON.parse(tokenizerJson(['[PAD]', '[UNK]', 'the', '7', ','])) as {
      added_tokens: { id: number; content: string }[];
      normalizer: { type: string; lowercase: boolean };
      pre_tokenizer: { type: string };
      post_processor: unknown;
      model: { type: string; vocab: Record<string, number> };
    };
    expect(json.added_tokens.map((token) => [token.id, token.content])).toEqual([
      [0, '[PAD]'],
      [1, '[UNK]'],
    ]);
    expect(json.normalizer).toMatchObject({ type: 'BertNormalizer', lowercase: true });
    expect(json.pre_tokenizer.type).toBe('BertPreTokenizer');
    expect(json.post_processor).toBeNull();
    expect(json.model.type).toBe('WordPiece');
    expect(json.model.vocab).toEqual({ '[PAD]': 0, '[UNK]': 1, the: 2, '7': 3, ',': 4 });
  });
});

describe('the wink reader', () => {
  const json = (body: string) => new TextEncoder().encode(body);
  const sample =
    '{ "precision": 8, "words": ["the", "]", "\\"q\\"", "naïve"], "size": 4,\n "vectors": {"the": [0.5, -1, 2, 9, 0], "]": [1e-3,2,3, 9,1], "\\"q\\"": [-0.25, 0, 1, 9, 2], "naïve": [3, 2, 1, 9, 3]},\n "dimensions": 3, "unkVector": [0, 0, 0] }';

  it('finds words and vectors, odd words and non-ASCII included, with JSON.parse numbers', () => {
    const vectors = winkWordVectors(json(sample));
    expect(vectors.words).toEqual(['the', ']', '"q"', 'naïve']);
    expect(vectors.dimension).toBe(3);
    expect(Array.from(vectors.vector(0))).toEqual([0.5, -1, 2, 9, 0]);
    expect(Array.from(vectors.vector(1)).slice(0, 3)).toEqual([0.001, 2, 3]);
    expect(Array.from(vectors.vector(2)).slice(0, 3)).toEqual([-0.25, 0, 1]);
    expect(Array.from(vectors.vector(3)).slice(0, 3)).toEqual([3, 2, 1]);
    expect(() => vectors.vector(4)).toThrow(/no 3-d vector for word 4/);
  });

  it('refuses JSON that is not shaped as wink’s', () => {
    expect(() => winkWordVectors(json('{"words": ["a"], "vectors": {"a": [1]}}'))).toThrow(/"dimensions"/);
    expect(() => winkWordVectors(json('{"words": "a", "dimensions": 1, "vectors": {}}'))).toThrow(/"words"/);
    expect(() => winkWordVectors(json('["a"]'))).toThrow(/expected "\{"/);
    expect(() => winkWordVectors(json('{"words": ["a"], "dimensions": 1, "vectors": {"a": [1]'))).toThrow(/expected "\}"/);
    expect(() => winkWordVectors(json('{"words": ["a"], "dimensions": 2, "vectors": {"a": [1]}}')).vector(0)).toThrow(/no 2-d vector/);
  });
});

describe('a tiny model built end to end', () => {
  const words = ['the', ',', 'cat', 'sat', 'Mat', 'on', 'well-known', 'mat', 'dog'];
  const source: WordVectors = {
    words,
    dimension: 4,
    vector: (index) => [Math.sin(index + 1), Math.cos(2 * index), index / 10 - 0.3, 0.7],
  };
  const recipe: GloveRecipe = { version: 1, vocabularySize: 6, sifA: 1e-3, zipfWords: 100 };

  async function writeModel(files: ModelFile[]): Promise<string> {
    const modelsDir = await makeTempDir('citebot-glove-models-');
    for (const file of files) {
      const target = path.join(modelsDir, 'local', 'tiny', file.path);
      await mkdir(path.dirname(target), { recursive: true });
      await writeFile(target, file.bytes);
    }
    return modelsDir;
  }

  it('writes the five files of the local-model layout', () => {
    const steps: string[] = [];
    const build = buildGloveModel(source, { recipe, onStep: (step) => steps.push(step) });
    expect(build.files.map((file) => file.path)).toEqual([
      'config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'onnx/model.onnx',
    ]);
    expect(build.tokens).toBe(8);
    expect(build.wordsScanned).toBe(8);
    expect(steps).toHaveLength(5);
    const config = JSON.parse(new TextDecoder().decode(build.files[0]!.bytes)) as { vocab_size: number; hidden_size: number };
    expect(config).toMatchObject({ vocab_size: 8, hidden_size: 4 });
    const model = decodeOnnx(build.files[4]!.bytes);
    expect(model.graph.initializer[0]!.dims).toEqual([8, 4]);
  });

  it('embeds through transformers.js as the normalized mean of the rows of the known words', async () => {
    const build = buildGloveModel(source, { recipe });
    const modelsDir = await writeModel(build.files);
    const embedder = await createTransformersEmbedder({
      model: 'local/tiny',
      modelsDir,
      cacheDir: await makeTempDir(),
      allowRemote: false,
    });
    const bytes = build.files[4]!.bytes;
    const { raw_data: values } = decodeOnnx(bytes).graph.initializer[0]!;
    const { raw_data: scales } = decodeOnnx(bytes).graph.initializer[1]!;
    const table = {
      rows: 8,
      dimension: 4,
      values: new Int8Array(Uint8Array.from(values).buffer),
      scales: new Float32Array(Uint8Array.from(scales).buffer),
    };
    // ids: [PAD] 0, [UNK] 1, the 2, "," 3, cat 4, sat 5, on 6, mat 7; "Dog" and "well-known" are not whole words.
    const expected = (ids: number[]) => {
      const sum = [0, 0, 0, 0];
      for (const id of ids) dequantizeRow(table, id).forEach((value, j) => (sum[j]! += value));
      const norm = Math.hypot(...sum);
      return sum.map((value) => value / norm);
    };
    const [first, second, unknown] = await embedder.embed(['The CAT sat on the mat, well-known dog', 'cat', 'Dog zebra'], 'passage');
    // Every token counts in the mean, [UNK] (a zero row) included, so unknown words dilute but do not move it.
    expect(Array.from(first!)).toEqual(expected([2, 4, 5, 6, 2, 7, 3, 1, 1, 1, 1]).map((value) => expect.closeTo(value, 6)));
    expect(Array.from(second!)).toEqual(expected([4]).map((value) => expect.closeTo(value, 6)));
    expect(Array.from(unknown!)).toEqual([0, 0, 0, 0]);
    // Every row is orthogonal to the common component that was removed.
    const u = build.commonComponent;
    for (let id = 2; id < 8; id += 1) expect(Math.abs(dot(dequantizeRow(table, id), u))).toBeLessThan(table.scales[id]! * 2);
  });
});
