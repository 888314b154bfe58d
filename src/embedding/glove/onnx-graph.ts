/**
 * The static embedding model as an ONNX graph: a table lookup that transformers.js runs like a BERT
 * encoder. Token ids pick int8 rows and their fp32 scales; padding positions are zeroed by the mask,
 * so the pipeline's mean pooling over real tokens gives the (SIF-weighted) mean of the word vectors.
 *
 *   emb_q[input_ids] -> Cast(float) -> Mul(emb_scale[input_ids]) -> Mul(Unsqueeze(Cast(attention_mask), -1))
 *     = last_hidden_state [batch_size, sequence_length, dimension]
 */
import { AttributeType, ModelProto, TensorDataType, type OnnxModel, type OnnxValueInfo } from './onnx-proto.js';
import type { QuantizedTable } from './quantize.js';

/** Names in the graph, as in the shared reference model. */
export const GRAPH = {
  name: 'glove_sif_static',
  producer: 'glove-sif-static',
  irVersion: 8,
  opset: 13,
  values: 'emb_q',
  scales: 'emb_scale',
  lastAxis: 'axes_last',
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  output: 'last_hidden_state',
} as const;

function littleEndianBytes(array: Float32Array | BigInt64Array | Int8Array): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (array instanceof Int8Array || new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  // A big-endian host: ONNX raw_data is little-endian whatever the machine.
  const swapped = new Uint8Array(bytes.length);
  const width = array.BYTES_PER_ELEMENT;
  for (let offset = 0; offset < bytes.length; offset += width) {
    for (let k = 0; k < width; k += 1) swapped[offset + k] = bytes[offset + width - 1 - k]!;
  }
  return swapped;
}

function tokenTensor(name: string, elemType: number, ...trailing: number[]): OnnxValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: { dim: [{ dim_param: 'batch_size' }, { dim_param: 'sequence_length' }, ...trailing.map((value) => ({ dim_value: value }))] },
      },
    },
  };
}

/** The model as plain data, before encoding: what `staticEmbeddingOnnx` writes. */
export function staticEmbeddingGraph(table: QuantizedTable): OnnxModel {
  const { rows, dimension } = table;
  const toFloat = [{ name: 'to', type: AttributeType.INT, i: TensorDataType.FLOAT }];
  const axis0 = [{ name: 'axis', type: AttributeType.INT, i: 0 }];
  return {
    ir_version: GRAPH.irVersion,
    producer_name: GRAPH.producer,
    opset_import: [{ domain: '', version: GRAPH.opset }],
    graph: {
      name: GRAPH.name,
      node: [
        { input: [GRAPH.values, GRAPH.inputIds], output: ['g_q'], op_type: 'Gather', attribute: axis0 },
        { input: ['g_q'], output: ['g_f'], op_type: 'Cast', attribute: toFloat },
        { input: [GRAPH.scales, GRAPH.inputIds], output: ['g_s'], op_type: 'Gather', attribute: axis0 },
        { input: ['g_f', 'g_s'], output: ['tok'], op_type: 'Mul' },
        { input: [GRAPH.attentionMask], output: ['m_f'], op_type: 'Cast', attribute: toFloat },
        // Opset 13 takes Unsqueeze's axes as an input tensor, not an attribute.
        { input: ['m_f', GRAPH.lastAxis], output: ['m_u'], op_type: 'Unsqueeze' },
        { input: ['tok', 'm_u'], output: [GRAPH.output], op_type: 'Mul' },
      ],
      initializer: [
        { name: GRAPH.values, dims: [rows, dimension], data_type: TensorDataType.INT8, raw_data: littleEndianBytes(table.values) },
        { name: GRAPH.scales, dims: [rows, 1], data_type: TensorDataType.FLOAT, raw_data: littleEndianBytes(table.scales) },
        { name: GRAPH.lastAxis, dims: [1], data_type: TensorDataType.INT64, raw_data: littleEndianBytes(new BigInt64Array([-1n])) },
      ],
      input: [tokenTensor(GRAPH.inputIds, TensorDataType.INT64), tokenTensor(GRAPH.attentionMask, TensorDataType.INT64)],
      output: [tokenTensor(GRAPH.output, TensorDataType.FLOAT, dimension)],
    },
  };
}

/** Encodes a model as ONNX protobuf bytes. */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const message = ModelProto.fromObject(model);
  return ModelProto.encode(message).finish();
}

/** The ONNX bytes of the static embedding model for a quantized table. */
export function staticEmbeddingOnnx(table: QuantizedTable): Uint8Array {
  return encodeOnnx(staticEmbeddingGraph(table));
}

/** Decodes ONNX bytes into plain data (int64 as numbers, bytes as Uint8Array): for checks and tests. */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as OnnxModel;
}
