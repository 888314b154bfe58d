/**
 * The chunk memo gives the offline model's tokenizer's own ids, text for text: over the seeds, hostile
 * text, texts past the model's length, and with a memo small enough to start again mid-way.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ChunkMemo, chunkwiseRecipe, type TokenizedTexts, type TokenizerRecipe } from '../../src/embedding/token-memo.js';
import { MODELS_DIR, OFFLINE_MODEL, SEEDS_DIR } from '../helpers.js';

type Tokenizer = ((texts: string[], options: object) => TokenizedTexts) & { _tokenizerJSON?: TokenizerRecipe; model_max_length: number };

let tokenizer: Tokenizer;
const whole = (texts: string[]) => tokenizer(texts, { padding: false, truncation: true, return_tensor: false });

beforeAll(async () => {
  const transformers = await import('@huggingface/transformers');
  transformers.env.localModelPath = `${MODELS_DIR}/`;
  transformers.env.allowRemoteModels = false;
  tokenizer = (await transformers.AutoTokenizer.from_pretrained(OFFLINE_MODEL)) as unknown as Tokenizer;
});

const HOSTILE = [
  '',
  '   ',
  '\n\n\t \r\n',
  'Hello, World!  Σίσυφος ΟΔΟΣ café CAFÉ naïve e\u0301 \u0301accent',
  'tabs\tand\nlines\r\nand  double  spaces',
  'no\u00a0break\u2003em\u200bzero\u2028line\u0085next',
  'controls\u0000\u0007\u001f and \ufffd replacement \ufeffbom',
  '中文字符 mixed漢字text 日本語。한국어',
  'emoji 🤔🔥 👩🏽‍💻 flags 🇸🇾',
  '[UNK] inside[UNK]words [PAD][UNK] [unk]',
  '**bold** <@123456789012345678> ```code``` > quote ~~strike~~ https://example.com/a?b=c#d',
  "it's O'Brien's — “quoted” ‘single’ «guillemets» 2,000 3.5% $40m U.S.-led",
  'x'.repeat(150) + ' ' + 'ab'.repeat(80),
  '!'.repeat(700),
  Array.from({ length: 900 }, (_, i) => `word${i % 37} the Syria,`).join(' '),
];

describe('ChunkMemo', () => {
  it('applies to the offline model’s recipe, and not where a step could cross chunks', () => {
    const recipe = tokenizer._tokenizerJSON;
    expect(chunkwiseRecipe(recipe)).toBe(true);
    expect(chunkwiseRecipe(undefined)).toBe(false);
    expect(chunkwiseRecipe({ ...recipe, post_processor: { type: 'TemplateProcessing' } })).toBe(false);
    expect(chunkwiseRecipe({ ...recipe, pre_tokenizer: { type: 'Metaspace' } })).toBe(false);
    expect(chunkwiseRecipe({ ...recipe, normalizer: { type: 'Precompiled' } })).toBe(false);
    expect(chunkwiseRecipe({ ...recipe, added_tokens: [{ content: 'two words' }] })).toBe(false);
    expect(chunkwiseRecipe({ ...recipe, added_tokens: [{ content: '<mask>', lstrip: true }] })).toBe(false);
  });

  it('gives the tokenizer’s ids for the seeds and hostile text, cut at the model’s length', async () => {
    const seeds = await Promise.all(
      (await readdir(SEEDS_DIR)).filter((name) => name.endsWith('.txt')).map((name) => readFile(path.join(SEEDS_DIR, name), 'utf8')),
    );
    const texts = [...HOSTILE, ...seeds, ...seeds.flatMap((text) => text.split(/\n\s*\n/))];
    const memo = new ChunkMemo((chunks) => whole(chunks).input_ids, tokenizer.model_max_length);
    const expected = whole(texts);
    expect(expected.input_ids.some((ids) => ids.length === tokenizer.model_max_length)).toBe(true);
    // Twice: the second time every chunk comes from the memo.
    for (let round = 0; round < 2; round += 1) expect(memo.tokenize(texts)).toEqual(expected);
  });

  it('starts again when full, with the same ids', () => {
    const memo = new ChunkMemo((chunks) => whole(chunks).input_ids, tokenizer.model_max_length, 40);
    for (let i = 0; i < HOSTILE.length; i += 3) {
      const batch = HOSTILE.slice(i, i + 3);
      expect(memo.tokenize(batch)).toEqual(whole(batch));
    }
    expect(memo.tokenize(HOSTILE)).toEqual(whole(HOSTILE));
  });
});
