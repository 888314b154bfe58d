/**
 * The tokenizer and config files of the transformers.js local-model layout for the static model: a
 * BERT-style tokenizer (BertNormalizer, BertPreTokenizer, WordPiece) whose vocabulary holds whole words
 * only, so a word outside it becomes [UNK] instead of being spelt out in pieces; no special tokens are
 * added around a text, as they would count in the mean.
 *
 * The files are written byte for byte as the reference build wrote them (Python's json.dumps: compact
 * tokenizer.json with ", " and ": ", the small files indented by two), so a build can be compared with
 * the reference by its hashes.
 */
import { PAD_TOKEN, SPECIAL_TOKENS, UNK_TOKEN } from './vocabulary.js';

/** JSON data; a Map is an object whose keys keep their order (a plain object puts integer-like keys first). */
type Json = string | number | boolean | null | Json[] | Map<string, Json> | { [key: string]: Json };

/** JSON as Python's json.dumps(value, ensure_ascii=False) writes it: one line, ", " and ": " between items. */
export function pythonJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = value instanceof Map ? [...value] : Object.entries(value);
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}: ${pythonJson(item)}`).join(', ')}}`;
}

/** tokenizer.json for a whole-word vocabulary (token ids are the array indexes). */
export function tokenizerJson(tokens: readonly string[]): string {
  const vocab = new Map(tokens.map((token, id) => [token, id]));
  return pythonJson({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map((content) => ({
      id: tokens.indexOf(content),
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordPiece', unk_token: UNK_TOKEN, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

/** config.json: a BERT with no layers, so transformers.js picks the encoder-only path and passes the attention mask. */
export function configJson(vocabularySize: number, dimension: number): string {
  return JSON.stringify(
    {
      architectures: ['BertModel'],
      model_type: 'bert',
      hidden_size: dimension,
      num_hidden_layers: 0,
      num_attention_heads: 1,
      intermediate_size: dimension,
      vocab_size: vocabularySize,
      max_position_embeddings: 512,
      pad_token_id: 0,
      type_vocab_size: 1,
    },
    null,
    2,
  );
}

export function tokenizerConfigJson(): string {
  return JSON.stringify(
    {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: 512,
      unk_token: UNK_TOKEN,
      pad_token: PAD_TOKEN,
      clean_up_tokenization_spaces: true,
    },
    null,
    2,
  );
}

export function specialTokensMapJson(): string {
  return JSON.stringify({ unk_token: UNK_TOKEN, pad_token: PAD_TOKEN }, null, 2);
}
