/**
 * How the index's JSON data files are laid out: passages as rows (tens of thousands are parsed at every
 * load), the corpus file, and the delta file with its vectors as base64 float32 rows.
 */
import type { ArticleRecord, IndexedPassage } from '../model.js';

/** A passage on disk: a row, not an object, since tens of thousands of them are parsed at every load. */
type PassageRow = [
  label: number,
  file: string,
  paragraph: number,
  part: string,
  text: string,
  start: number,
  end: number,
  sentences: number[],
  section: string | null,
];

/**
 * Changes on top of a generation. Articles changed again or removed after being added to a delta simply
 * leave it; articles of the generation that changed or went away are listed in `replaced`.
 */
export interface IndexDelta {
  /** Articles added or changed since the generation. */
  articles: ArticleRecord[];
  /** Files of the generation whose passages are withdrawn (changed or removed). */
  replaced: string[];
  /** The generation's passages that `replaced` withdraws. */
  withdrawn: number;
  /** Passages of `articles`, labelled after the generation's. */
  passages: IndexedPassage[];
  /** One vector per passage (zero for a text the model knows no word of); null for a lexical-only index. */
  vectors: Float32Array[] | null;
}

export const EMPTY_DELTA: IndexDelta = { articles: [], replaced: [], withdrawn: 0, passages: [], vectors: null };

function toRow(passage: IndexedPassage): PassageRow {
  return [
    passage.label,
    passage.file,
    passage.paragraph,
    passage.id.slice(passage.file.length + 1),
    passage.text,
    passage.start,
    passage.end,
    passage.sentences.flatMap((sentence) => [sentence.start, sentence.end]),
    passage.section ?? null,
  ];
}

function fromRow([label, file, paragraph, part, text, start, end, bounds, section]: PassageRow): IndexedPassage {
  const sentences = [];
  for (let i = 0; i + 1 < bounds.length; i += 2) sentences.push({ start: bounds[i]!, end: bounds[i + 1]! });
  const passage: IndexedPassage = { label, file, paragraph, id: `${file}#${part}`, text, start, end, sentences };
  if (section !== null) passage.section = section;
  return passage;
}

/** Bytes per piece when the corpus is written. */
const PIECE_BYTES = 1 << 20;

/** About how many bytes of JSON are parsed at once when the corpus is read. */
const PARSE_BYTES = 1 << 22;

const ARTICLES_START = '{"articles":[';
const PASSAGES_START = '\n],"passages":[';
const END = '\n]}';

/**
 * The corpus file, in pieces: one JSON document, as `JSON.stringify({ articles, passages })` would write it
 * but with every article and passage row on a line of its own. At a million passages the document is
 * longer than the longest string JavaScript allows (2^29 characters), so it is never one string: each line
 * is encoded into a buffer of a megabyte at a time (large strings would linger on the heap until a full
 * collection), and it is read back a few megabytes of lines at a time.
 */
export function* corpusParts(articles: ArticleRecord[], passages: IndexedPassage[]): Generator<Buffer> {
  let piece = Buffer.allocUnsafe(PIECE_BYTES);
  let used = 0;
  function* write(text: string): Generator<Buffer> {
    if (used + text.length * 3 > PIECE_BYTES) {
      if (used > 0) yield piece.subarray(0, used);
      piece = Buffer.allocUnsafe(Math.max(PIECE_BYTES, text.length * 3));
      used = 0;
    }
    used += piece.write(text, used);
  }
  function* section<T>(items: T[], item: (value: T) => unknown): Generator<Buffer> {
    for (const [i, value] of items.entries()) {
      yield* write(i === 0 ? '\n' : ',\n');
      yield* write(JSON.stringify(item(value)));
    }
  }
  yield* write(ARTICLES_START);
  yield* section(articles, (article) => article);
  yield* write(PASSAGES_START);
  yield* section(passages, toRow);
  yield* write(END);
  yield piece.subarray(0, used);
}

/** The corpus file as one buffer (small corpora, tests). */
export function writeCorpus(articles: ArticleRecord[], passages: IndexedPassage[]): Buffer {
  return Buffer.concat([...corpusParts(articles, passages)]);
}

export function readCorpus(bytes: Buffer): { articles: ArticleRecord[]; passages: IndexedPassage[] } {
  let data: { articles: ArticleRecord[]; passages: PassageRow[] };
  if (bytes[ARTICLES_START.length] === 0x0a) {
    // One item a line: each section is parsed in pieces of whole lines.
    const middle = bytes.indexOf(PASSAGES_START, ARTICLES_START.length);
    if (
      bytes.toString('latin1', 0, ARTICLES_START.length) !== ARTICLES_START ||
      middle < 0 ||
      bytes.toString('latin1', bytes.length - END.length) !== END
    ) {
      throw new Error('corpus.json is not a corpus file');
    }
    data = {
      articles: parseLines(bytes, ARTICLES_START.length, middle) as ArticleRecord[],
      passages: parseLines(bytes, middle + PASSAGES_START.length, bytes.length - END.length) as PassageRow[],
    };
  } else {
    // Written as one line by earlier versions.
    data = JSON.parse(bytes.toString('utf8')) as { articles: ArticleRecord[]; passages: PassageRow[] };
  }
  if (!Array.isArray(data.articles) || !Array.isArray(data.passages)) throw new Error('corpus.json lacks articles or passages');
  // One string per file name, not one per passage.
  const files = new Map(data.articles.map((article) => [article.file, article.file]));
  const passages = data.passages.map((row) => {
    row[1] = files.get(row[1]) ?? row[1];
    return fromRow(row);
  });
  return { articles: data.articles, passages };
}

/**
 * The items of a section `bytes[from, to)` that holds "\n<item>,\n<item>…\n<item>" (or nothing), parsed
 * a piece of whole lines at a time: a raw newline only ever separates items, JSON escapes those in strings.
 */
function parseLines(bytes: Buffer, from: number, to: number): unknown[] {
  const items: unknown[] = [];
  let start = from + 1;
  while (start < to) {
    // The piece ends at the end of the section, or at the first line break a piece's length further on.
    const lineBreak = start + PARSE_BYTES < to ? bytes.indexOf(0x0a, start + PARSE_BYTES) : -1;
    const end = lineBreak < 0 || lineBreak >= to ? to : lineBreak - 1;
    if (end < to && bytes[end] !== 0x2c) throw new Error('corpus.json has a line that does not end an item');
    const piece = JSON.parse(`[${bytes.toString('utf8', start, end)}]`) as unknown[];
    for (const item of piece) items.push(item);
    start = end === to ? to : end + 2;
  }
  return items;
}

/** A delta on disk: one JSON document; vectors as base64 float32 rows in passage order. */
interface DeltaDocument {
  articles: ArticleRecord[];
  replaced: string[];
  withdrawn: number;
  passages: PassageRow[];
  vectors: string | null;
}

export function writeDelta(delta: IndexDelta, dimension: number): Buffer {
  let vectors: string | null = null;
  if (delta.vectors) {
    const rows = new Float32Array(delta.passages.length * dimension);
    delta.vectors.forEach((vector, i) => rows.set(vector, i * dimension));
    vectors = Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength).toString('base64');
  }
  const document: DeltaDocument = {
    articles: delta.articles,
    replaced: delta.replaced,
    withdrawn: delta.withdrawn,
    passages: delta.passages.map(toRow),
    vectors,
  };
  return Buffer.from(JSON.stringify(document));
}

export function parseDelta(bytes: Buffer, dimension: number | null): IndexDelta {
  const data = JSON.parse(bytes.toString('utf8')) as DeltaDocument;
  if (
    !Array.isArray(data.articles) ||
    !Array.isArray(data.replaced) ||
    !Array.isArray(data.passages) ||
    typeof data.withdrawn !== 'number'
  ) {
    throw new Error('the delta lacks articles, replaced files or passages');
  }
  const passages = data.passages.map(fromRow);
  let vectors: Float32Array[] | null = null;
  if (dimension !== null) {
    if (typeof data.vectors !== 'string') throw new Error('the delta of a hybrid index has no vectors');
    const raw = Buffer.from(data.vectors, 'base64');
    if (raw.byteLength !== passages.length * dimension * 4) throw new Error('the delta has the wrong number of vectors');
    const rows = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    vectors = passages.map((_, i) => rows.subarray(i * dimension, (i + 1) * dimension));
  }
  return { articles: data.articles, replaced: data.replaced, withdrawn: data.withdrawn, passages, vectors };
}
