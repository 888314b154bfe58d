/**
 * Token ids of texts through a memo of their whitespace-separated chunks, for tokenizers whose every step
 * works within such chunks: a BERT normalizer (it cleans, pads CJK characters, lowercases and strips
 * accents character by character, and turns tabs and line breaks into spaces), a BERT pre-tokenizer (it
 * splits at every space and punctuation mark), a model over the pieces (WordPiece, word level), nothing
 * added around a text (no post-processor) and special tokens without spaces. A text's ids are then its
 * chunks' ids one after another, cut at the model's maximum length, and each distinct chunk (a word, with
 * the punctuation attached to it) is tokenized once.
 *
 * Why: with the offline model, tokenizing took about 85 % of embedding a passage (0.34 of 0.40 ms), and
 * embedding most of a large build's processor time. Words repeat (Zipf): at a million passages nearly
 * every chunk has been seen before.
 */

/**
 * Token ids and attention mask per text, as transformers.js returns them without tensors (a type, not an
 * interface, so that it is also a `Record` of its keys).
 */
export type TokenizedTexts = {
  input_ids: number[][];
  attention_mask: number[][];
};

/** What the memo needs to know of a tokenizer's recipe (its tokenizer.json). */
export interface TokenizerRecipe {
  normalizer?: { type?: string } | null;
  pre_tokenizer?: { type?: string } | null;
  post_processor?: unknown;
  added_tokens?: ReadonlyArray<{ content?: string; lstrip?: boolean; rstrip?: boolean }>;
}

/** Characters both the normalizer and the pre-tokenizer treat as a break between words. */
const CHUNK_BREAK = /[ \t\n\r]+/;

/** Whether a text can be tokenized chunk by chunk with this recipe (see the module's comment). */
export function chunkwiseRecipe(recipe: TokenizerRecipe | undefined): boolean {
  if (!recipe) return false;
  const normalizer = recipe.normalizer?.type;
  return (
    (normalizer === undefined || normalizer === 'BertNormalizer') &&
    recipe.pre_tokenizer?.type === 'BertPreTokenizer' &&
    recipe.post_processor == null &&
    (recipe.added_tokens ?? []).every(({ content = '', lstrip, rstrip }) => !lstrip && !rstrip && !/\s/.test(content))
  );
}

/** Distinct chunks kept: about 10 MB. When full it starts again (a new corpus's words replace the old). */
const DEFAULT_CAPACITY = 100_000;

export class ChunkMemo {
  private readonly ids = new Map<string, readonly number[]>();

  /**
   * `tokenizeChunks` gives the ids of each chunk (the tokenizer itself, truncating); `maxLength` is the
   * model's maximum (texts are cut there, as the tokenizer cuts them).
   */
  constructor(
    private readonly tokenizeChunks: (chunks: string[]) => number[][],
    private readonly maxLength: number,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  tokenize(texts: readonly string[]): TokenizedTexts {
    const chunked = texts.map((text) => text.split(CHUNK_BREAK).filter((chunk) => chunk !== ''));
    let missing = new Set<string>();
    for (const chunks of chunked) for (const chunk of chunks) if (!this.ids.has(chunk)) missing.add(chunk);
    if (missing.size > 0 && this.ids.size + missing.size > this.capacity) {
      this.ids.clear();
      missing = new Set(chunked.flat());
    }
    if (missing.size > 0) {
      const fresh = [...missing];
      const ids = this.tokenizeChunks(fresh);
      fresh.forEach((chunk, i) => this.ids.set(chunk, ids[i] ?? []));
    }
    const input_ids = chunked.map((chunks) => {
      const row: number[] = [];
      for (const chunk of chunks) {
        for (const id of this.ids.get(chunk)!) row.push(id);
        if (row.length >= this.maxLength) break;
      }
      return row.length > this.maxLength ? row.slice(0, this.maxLength) : row;
    });
    return { input_ids, attention_mask: input_ids.map((row) => row.map(() => 1)) };
  }
}
