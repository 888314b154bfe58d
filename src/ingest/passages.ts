/**
 * Article → passages, the unit that is indexed and retrieved. A passage is one paragraph, or a run of
 * whole sentences of a paragraph too long to embed and quote as one piece.
 */
import type { Article, IndexedPassage, Passage, Span } from '../model.js';
import { detached } from '../text/detach.js';
import { splitSentences } from '../text/tokens.js';

/** Paragraphs longer than this are cut, at sentence boundaries, into passages of about this size. */
export const MAX_PASSAGE_CHARS = 1200;

/** An article's passages. Their strings share no memory with the article's (see `detached`). */
export function articlePassages(article: Article): Passage[] {
  const passages: Passage[] = [];
  // Paragraphs under one heading share one copy of it.
  let heading: string | undefined;
  let section: string | undefined;
  for (const paragraph of article.paragraphs) {
    if (paragraph.section !== heading) {
      heading = paragraph.section;
      section = heading === undefined ? undefined : detached(heading);
    }
    const sentences = splitSentences(paragraph.text);
    const groups = groupSentences(sentences, MAX_PASSAGE_CHARS, paragraph.text);
    for (const [part, group] of groups.entries()) {
      const first = group[0]!;
      const last = group.at(-1)!;
      const text = detached(paragraph.text.slice(first.start, last.end));
      passages.push({
        // One flat string, not a chain of the pieces it was joined from.
        id: detached(groups.length === 1 ? `${article.file}#${paragraph.number}` : `${article.file}#${paragraph.number}.${part + 1}`),
        file: article.file,
        paragraph: paragraph.number,
        text,
        // Paragraph text may join hard-wrapped lines, so offsets are exact only for unwrapped paragraphs,
        // which is every paragraph whose text is the same length as its span.
        start: paragraph.start + first.start,
        end: paragraph.start + last.end,
        sentences: group.map((sentence) => ({ start: sentence.start - first.start, end: sentence.end - first.start })),
        section,
      });
    }
  }
  return passages;
}

/**
 * A passage with its label. Written out field by field: `{ ...passage, label }` gave the passages of every
 * article a V8 hidden class of their own, about 360 bytes a passage.
 */
export function withLabel(passage: Passage, label: number): IndexedPassage {
  const { id, file, paragraph, text, start, end, sentences, section } = passage;
  return { id, file, paragraph, text, start, end, sentences, section, label };
}

/** Greedy packing of whole sentences into groups of at most `limit` characters (a longer sentence stands alone, cut). */
function groupSentences(sentences: Span[], limit: number, text: string): Span[][] {
  const groups: Span[][] = [];
  let current: Span[] = [];
  for (const sentence of sentences.flatMap((s) => cutLongSentence(s, limit, text))) {
    const first = current[0];
    if (first && sentence.end - first.start > limit) {
      groups.push(current);
      current = [];
    }
    current.push(sentence);
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * A "sentence" longer than the limit (a list, a table row, text without punctuation) is cut into pieces
 * of at most `limit` characters, at the last space before the limit so no word is split.
 */
function cutLongSentence(sentence: Span, limit: number, text: string): Span[] {
  const pieces: Span[] = [];
  let start = sentence.start;
  while (sentence.end - start > limit) {
    const space = text.lastIndexOf(' ', start + limit);
    const end = space > start + limit / 2 ? space : start + limit;
    pieces.push({ start, end });
    start = end;
    while (text[start] === ' ') start += 1;
  }
  if (sentence.end > start) pieces.push({ start, end: sentence.end });
  return pieces;
}
