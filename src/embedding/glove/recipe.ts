/**
 * What the offline model is and how it is made, as constants: cheap to import for the entry points that
 * only need the model's id (the build itself is in ./build.ts).
 */

/** The offline model's id: a folder under the models folder, in the transformers.js local-model layout. */
export const GLOVE_MODEL_ID = 'local/glove-6b-100d-sif';

export interface GloveRecipe {
  /** Bumped whenever the output would change, so that a stamped build is rebuilt. */
  version: number;
  /** Words in the vocabulary, besides [PAD] and [UNK]. */
  vocabularySize: number;
  /** SIF's a in a / (a + p(w)). */
  sifA: number;
  /** The n of H_n in Zipf's p(rank) = 1 / (rank * H_n): GloVe 6B's own vocabulary size. */
  zipfWords: number;
}

export const GLOVE_RECIPE: GloveRecipe = { version: 1, vocabularySize: 120_000, sifA: 1e-3, zipfWords: 400_000 };
