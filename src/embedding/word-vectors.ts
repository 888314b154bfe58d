/**
 * The offline model's word vectors, read back from its own files: the vocabulary from tokenizer.json and
 * the int8 table from the ONNX graph's initializers (a row's scale is left out: only directions are compared). Soft term matching uses them to tell which words of
 * the articles are close to a question's words, whatever model embeds the passages.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GRAPH } from './glove/onnx-graph.js';
import { ModelProto } from './glove/onnx-proto.js';
import { GLOVE_MODEL_ID } from './glove/recipe.js';
import type { WordVectorTable } from '../model.js';

interface DecodedTensor {
  name: string;
  dims: Array<number | { toNumber(): number }>;
  raw_data: Uint8Array;
}

/** The table of the offline GloVe model in `modelsDir`, or null with the reason when it cannot be read. */
export async function readWordVectors(modelsDir: string): Promise<{ table: WordVectorTable | null; reason?: string }> {
  const dir = path.join(modelsDir, GLOVE_MODEL_ID);
  try {
    const tokenizer = JSON.parse(await readFile(path.join(dir, 'tokenizer.json'), 'utf8')) as {
      model?: { vocab?: Record<string, number> };
    };
    const vocab = tokenizer.model?.vocab;
    if (!vocab) return { table: null, reason: `${dir}/tokenizer.json has no vocabulary.` };
    const model = ModelProto.decode(await readFile(path.join(dir, 'onnx', 'model.onnx'))) as unknown as {
      graph?: { initializer?: DecodedTensor[] };
    };
    const tensor = model.graph?.initializer?.find((one) => one.name === GRAPH.values);
    if (!tensor) return { table: null, reason: `${dir}/onnx/model.onnx has no ${GRAPH.values} table.` };
    const [rows, dimension] = tensor.dims.map((dim) => (typeof dim === 'number' ? dim : dim.toNumber()));
    if (!rows || !dimension || tensor.raw_data.length !== rows * dimension) {
      return { table: null, reason: `${dir}/onnx/model.onnx: the ${GRAPH.values} table is not [words, dimension].` };
    }
    const words: string[] = new Array<string>(rows).fill('');
    for (const [word, id] of Object.entries(vocab)) if (id >= 0 && id < rows) words[id] = word;
    const values = new Int8Array(tensor.raw_data.buffer, tensor.raw_data.byteOffset, tensor.raw_data.length);
    return { table: { words, dimension, values } };
  } catch (error) {
    return { table: null, reason: `The word vectors in ${dir} could not be read: ${(error as Error).message}` };
  }
}
