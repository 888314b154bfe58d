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
  return { label, file, paragraph, id: `${file}#${part}`, text, start, end, sentences, ...(section === null ? {} : { section }) };
}

export function writeCorpus(articles: ArticleRecord[], passages: IndexedPassage[]): Buffer {
  return Buffer.from(JSON.stringify({ articles, passages: passages.map(toRow) }));
}

export function readCorpus(bytes: Buffer): { articles: ArticleRecord[]; passages: IndexedPassage[] } {
  const data = JSON.parse(bytes.toString('utf8')) as { articles: ArticleRecord[]; passages: PassageRow[] };
  if (!Array.isArray(data.articles) || !Array.isArray(data.passages)) throw new Error('corpus.json lacks articles or passages');
  return { articles: data.articles, passages: data.passages.map(fromRow) };
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
