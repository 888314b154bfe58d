/**
 * The shapes every part of citebot shares: an article as read from a source, the passages it is split
 * into, and an indexed passage as stored and retrieved. Types only; behaviour lives with each concern.
 */

/** Offsets of a piece of text (a sentence, a highlighted word) inside a longer text. */
export interface Span {
  start: number;
  end: number;
}

export interface Paragraph {
  /** 1-based position among the article's body paragraphs (the ¶ number shown to users). */
  number: number;
  text: string;
  /** Offsets of the paragraph in the decoded file text. */
  start: number;
  end: number;
  /** The section heading the paragraph sits under, if the page has one. */
  section?: string;
}

export interface Article {
  /** File name relative to the seeds folder. */
  file: string;
  /** sha256 of the file's bytes: re-indexing skips files whose hash did not change. */
  hash: string;
  title: string;
  /** Where the headline came from: the page, front matter, or the lead sentence when the page had none. */
  titleSource: 'page' | 'front-matter' | 'lead';
  outlet?: string;
  byline?: string;
  /** ISO date (YYYY-MM-DD) when the page states one. */
  date?: string;
  url?: string;
  /** The page's language tag (`en`, `en-US`) when it declares one. */
  lang?: string;
  paragraphs: Paragraph[];
}

/** The unit that is indexed and retrieved: one paragraph, or a run of whole sentences of a long one. */
export interface Passage {
  /** Stable id: `<file>#<paragraph>` or `<file>#<paragraph>.<part>` for parts of a long paragraph. */
  id: string;
  file: string;
  paragraph: number;
  text: string;
  /** Offsets of the passage in the decoded file text. */
  start: number;
  end: number;
  /** Sentence spans, relative to `text`. */
  sentences: Span[];
  section?: string;
}

/** An article as stored: everything but the paragraphs, which live on as passages. */
export type ArticleRecord = Omit<Article, 'paragraphs'> & { paragraphCount: number; size?: number; mtimeMs?: number };

/** A passage with the integer label it has in both the lexical and the vector index. */
export type IndexedPassage = Passage & { label: number };

/** Hybrid: BM25 and embeddings; lexical: BM25 only (no embedding model could be loaded). */
export type RetrievalMode = 'hybrid' | 'lexical';

/** Word vectors as int8 rows, in the source's frequency order; only directions are compared. */
export interface WordVectorTable {
  /** Words by row (the first rows may be padding and unknown-word markers). */
  words: readonly string[];
  dimension: number;
  /** Row-major [words, dimension]. */
  values: Int8Array;
}
