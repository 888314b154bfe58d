/**
 * How citebot's records become Postgres rows and back: articles and passages as columns, vectors in
 * pgvector's text form, and the few characters a Postgres text value cannot hold.
 */
import type { AnalysedDocument } from '../../index/bm25.js';
import type { ArticleRecord, IndexedPassage } from '../../model.js';

// Postgres text holds neither NUL nor unpaired UTF-16 surrogates (node-postgres would send the latter as
// U+FFFD anyway). Both become U+FFFD, one UTF-16 unit for one, so every offset into the text still holds.
// eslint-disable-next-line no-control-regex -- NUL is exactly what Postgres refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` as Postgres can store it, same length. */
export function storable(text: string): string {
  return text.replace(UNSTORABLE, '\uFFFD');
}

function optional(text: string | undefined): string | null {
  return text === undefined ? null : storable(text);
}

/** pgvector's text form. Nine significant digits give every float32 back exactly. */
export function vectorText(vector: Float32Array): string {
  let text = '[';
  for (let i = 0; i < vector.length; i += 1) text += `${i === 0 ? '' : ','}${Number(vector[i]!.toPrecision(9))}`;
  return `${text}]`;
}

/** A vector from `vector_send`'s binary form: dimension (int16), unused (int16), then big-endian float32s. */
export function vectorFromBinary(bytes: Buffer): Float32Array {
  const dimension = bytes.readInt16BE(0);
  const vector = new Float32Array(dimension);
  for (let i = 0; i < dimension; i += 1) vector[i] = bytes.readFloatBE(4 + 4 * i);
  return vector;
}

/** Column arrays of a batch of articles, in `citebot_articles` order, for one `unnest` insert. */
export function articleColumns(articles: readonly ArticleRecord[]): unknown[] {
  return [
    articles.map((article) => storable(article.file)),
    articles.map((article) => article.hash),
    articles.map((article) => storable(article.title)),
    articles.map((article) => article.titleSource),
    articles.map((article) => optional(article.outlet)),
    articles.map((article) => optional(article.byline)),
    articles.map((article) => optional(article.date)),
    articles.map((article) => optional(article.url)),
    articles.map((article) => optional(article.lang)),
    articles.map((article) => article.paragraphCount),
    articles.map((article) => article.size ?? null),
    articles.map((article) => article.mtimeMs ?? null),
  ];
}

export const ARTICLE_COLUMNS = 'file, hash, title, title_source, outlet, byline, date, url, lang, paragraph_count, size, mtime_ms';
export const ARTICLE_UNNEST =
  'unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::bigint[], $12::float8[])';

export interface ArticleRow {
  file: string;
  hash: string;
  title: string;
  title_source: ArticleRecord['titleSource'];
  outlet: string | null;
  byline: string | null;
  date: string | null;
  url: string | null;
  lang: string | null;
  paragraph_count: number;
  size: string | null;
  mtime_ms: number | null;
}

export function articleFromRow(row: ArticleRow): ArticleRecord {
  const article: ArticleRecord = {
    file: row.file,
    hash: row.hash,
    title: row.title,
    titleSource: row.title_source,
    paragraphCount: row.paragraph_count,
  };
  if (row.outlet !== null) article.outlet = row.outlet;
  if (row.byline !== null) article.byline = row.byline;
  if (row.date !== null) article.date = row.date;
  if (row.url !== null) article.url = row.url;
  if (row.lang !== null) article.lang = row.lang;
  if (row.size !== null) article.size = Number(row.size);
  if (row.mtime_ms !== null) article.mtimeMs = row.mtime_ms;
  return article;
}

/** What a passage row holds besides the passage: its two field lengths and its vector, if it has one. */
export interface PassageExtras {
  textLength: number;
  titleLength: number;
  vector: Float32Array | undefined;
  /** The analyser's terms of each sentence, and of the headline field. */
  analysed: AnalysedDocument;
}

/** Terms as `sentence_terms` / `title_terms` keep them: a line per sentence, terms separated by spaces. */
export function termsText(sentences: readonly (readonly string[])[]): string {
  return sentences.map((terms) => terms.join(' ')).join('\n');
}

/** `termsText` read back. */
export function termsFromText(text: string): string[][] {
  return text.split('\n').map((line) => (line === '' ? [] : line.split(' ')));
}

export const PASSAGE_COLUMNS =
  'label, file, id, paragraph, text, start_offset, end_offset, sentences, section, text_length, title_length, embedding, sentence_terms, title_terms';
export const PASSAGE_SELECT =
  'SELECT l, f, i, p, t, s, e, j::jsonb, sec, tl, til, v::vector, st, tt FROM unnest($1::integer[], $2::text[], $3::text[], $4::integer[], $5::text[], $6::integer[], $7::integer[], $8::text[], $9::text[], $10::integer[], $11::integer[], $12::text[], $13::text[], $14::text[]) AS x(l, f, i, p, t, s, e, j, sec, tl, til, v, st, tt)';

export function passageColumns(passages: readonly IndexedPassage[], extras: readonly PassageExtras[]): unknown[] {
  return [
    passages.map((passage) => passage.label),
    passages.map((passage) => storable(passage.file)),
    passages.map((passage) => storable(passage.id)),
    passages.map((passage) => passage.paragraph),
    passages.map((passage) => storable(passage.text)),
    passages.map((passage) => passage.start),
    passages.map((passage) => passage.end),
    passages.map((passage) => JSON.stringify(passage.sentences.map((span) => [span.start, span.end]))),
    passages.map((passage) => optional(passage.section)),
    extras.map((extra) => extra.textLength),
    extras.map((extra) => extra.titleLength),
    extras.map((extra) => (extra.vector ? vectorText(extra.vector) : null)),
    extras.map((extra) => storable(termsText(extra.analysed.sentences))),
    extras.map((extra) => storable(termsText([extra.analysed.title]))),
  ];
}

export interface PassageRow {
  label: number;
  file: string;
  id: string;
  paragraph: number;
  text: string;
  start_offset: number;
  end_offset: number;
  sentences: Array<[number, number]>;
  section: string | null;
}

export const PASSAGE_ROW_COLUMNS = 'label, file, id, paragraph, text, start_offset, end_offset, sentences, section';

export function passageFromRow(row: PassageRow): IndexedPassage {
  const passage: IndexedPassage = {
    label: row.label,
    id: row.id,
    file: row.file,
    paragraph: row.paragraph,
    text: row.text,
    start: row.start_offset,
    end: row.end_offset,
    sentences: row.sentences.map(([start, end]) => ({ start, end })),
  };
  if (row.section !== null) passage.section = row.section;
  return passage;
}
