/**
 * The model's vocabulary: the two special tokens, then the most frequent GloVe words that the BERT
 * tokenizer can hand to WordPiece whole. A word it would split or change (hyphenated, capitalised,
 * accented) can never be looked up, so it would only take a row. The normalizer and pre-tokenizer here
 * are tokenizer.json's BertNormalizer and BertPreTokenizer, as the tokenizers library defines them.
 */

export const PAD_TOKEN = '[PAD]';
export const UNK_TOKEN = '[UNK]';
export const SPECIAL_TOKENS = [PAD_TOKEN, UNK_TOKEN] as const;

/** BERT's punctuation: Unicode P* plus every ASCII symbol ($, +, <, ^, `, |, ~ included). */
const PUNCTUATION = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const PRE_TOKEN = new RegExp(`[^\\s${PUNCTUATION}]+|[${PUNCTUATION}]`, 'gu');
const CONTROL = /^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u;
const WHITESPACE = /^\s$/;
const MARK = /\p{Mn}/gu;

/** The CJK ideograph blocks BERT puts spaces around. */
function isChineseChar(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

/** BertNormalizer with clean_text, handle_chinese_chars and lowercase on (which strips accents too). */
export function bertNormalize(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code === 0 || code === 0xfffd || (char !== '\t' && char !== '\n' && char !== '\r' && CONTROL.test(char))) continue;
    if (WHITESPACE.test(char)) out += ' ';
    else if (isChineseChar(code)) out += ` ${char} `;
    else out += char;
  }
  return out.toLowerCase().normalize('NFD').replace(MARK, '');
}

/** BertPreTokenizer: splits on whitespace, and every punctuation character becomes a word of its own. */
export function bertPreTokenize(text: string): string[] {
  return text.trim().match(PRE_TOKEN) ?? [];
}

/** Whether the tokenizer turns `word`, written alone, into exactly that one word. */
export function producibleWhole(word: string): boolean {
  const words = bertPreTokenize(bertNormalize(word));
  return words.length === 1 && words[0] === word;
}

export interface Vocabulary {
  /** Token by id: the special tokens, then words in frequency order. */
  tokens: string[];
  /** The source row (0-based frequency rank) of each token's vector; -1 for the special tokens. */
  sourceRows: Int32Array;
}

/** The special tokens and the first `size` words (in the given frequency order) that are producible whole. */
export function selectVocabulary(words: readonly string[], size: number): Vocabulary {
  const tokens: string[] = [...SPECIAL_TOKENS];
  const sourceRows = new Int32Array(SPECIAL_TOKENS.length + size).fill(-1);
  const seen = new Set<string>(tokens);
  for (let index = 0; index < words.length && tokens.length < sourceRows.length; index += 1) {
    const word = words[index]!;
    if (seen.has(word) || !producibleWhole(word)) continue;
    seen.add(word);
    sourceRows[tokens.length] = index;
    tokens.push(word);
  }
  if (tokens.length < sourceRows.length) {
    throw new Error(`Only ${tokens.length - SPECIAL_TOKENS.length} of ${words.length} words can be tokens; the vocabulary needs ${size}.`);
  }
  return { tokens, sourceRows };
}
