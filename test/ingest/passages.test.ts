import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeArticleBytes, parseArticle } from '../../src/ingest/article.js';
import { articlePassages, MAX_PASSAGE_CHARS, withLabel } from '../../src/ingest/passages.js';
import { makeArticle, SEED_FILES, SEEDS_DIR } from '../helpers.js';
import type { Passage } from '../../src/model.js';

/** Every sentence span lies inside its passage text and is trimmed, in order, without overlap. */
function expectSentencesRelative(passage: Passage): void {
  expect(passage.sentences.length).toBeGreaterThan(0);
  let previousEnd = 0;
  for (const sentence of passage.sentences) {
    expect(sentence.start).toBeGreaterThanOrEqual(previousEnd);
    expect(sentence.end).toBeLessThanOrEqual(passage.text.length);
    const slice = passage.text.slice(sentence.start, sentence.end);
    expect(slice.length).toBeGreaterThan(0);
    expect(slice).toBe(slice.trim());
    previousEnd = sentence.end;
  }
  expect(passage.sentences[0]!.start).toBe(0);
  expect(passage.sentences.at(-1)!.end).toBe(passage.text.length);
}

describe('articlePassages', () => {
  it('makes one passage per short paragraph, with id file#n and exact offsets', () => {
    const article = makeArticle('short.txt', ['First paragraph. It has two sentences.', 'Second paragraph with one sentence.'], {
      title: 'Short',
    });
    const passages = articlePassages(article);
    expect(passages.map((p) => p.id)).toEqual(['short.txt#1', 'short.txt#2']);
    expect(passages.map((p) => p.paragraph)).toEqual([1, 2]);
    expect(passages[0]!.text).toBe('First paragraph. It has two sentences.');
    expect(passages[0]!.sentences).toEqual([
      { start: 0, end: 16 },
      { start: 17, end: 38 },
    ]);
    const file = article.paragraphs.map((p) => p.text).join('\n\n');
    for (const passage of passages) {
      expect(passage.file).toBe('short.txt');
      expect(file.slice(passage.start, passage.end)).toBe(passage.text);
    }
  });

  it('carries the section heading over to the passage', () => {
    const article = makeArticle('s.txt', ['Body text here.']);
    article.paragraphs[0]!.section = 'Reaction in Moscow';
    expect(articlePassages(article)[0]!.section).toBe('Reaction in Moscow');
  });

  it('cuts a 5,000-character paragraph of sentences at sentence boundaries into parts file#n.k', () => {
    const sentence = (i: number) => `Sentence number ${i} says that the troops in Syria will stay for a while longer.`;
    const parts: string[] = [];
    for (let i = 1; parts.join(' ').length < 5000; i += 1) parts.push(sentence(i));
    const long = parts.join(' ');
    expect(long.length).toBeGreaterThanOrEqual(5000);
    const article = makeArticle('long.txt', ['A short lead paragraph.', long]);

    const passages = articlePassages(article);
    expect(passages[0]!.id).toBe('long.txt#1');
    const pieces = passages.filter((p) => p.paragraph === 2);
    expect(pieces.length).toBeGreaterThanOrEqual(Math.ceil(long.length / MAX_PASSAGE_CHARS));
    expect(pieces.map((p) => p.id)).toEqual(pieces.map((_, i) => `long.txt#2.${i + 1}`));
    const sentenceSet = new Set(parts);
    for (const piece of pieces) {
      expect(piece.text.length).toBeLessThanOrEqual(MAX_PASSAGE_CHARS);
      expectSentencesRelative(piece);
      // Whole sentences only: each part starts and ends on a sentence of the paragraph.
      for (const span of piece.sentences) expect(sentenceSet.has(piece.text.slice(span.start, span.end))).toBe(true);
      expect(long.slice(piece.start - article.paragraphs[1]!.start, piece.end - article.paragraphs[1]!.start)).toBe(piece.text);
    }
    // Nothing is lost: the parts, joined, are the paragraph.
    expect(pieces.map((p) => p.text).join(' ')).toBe(long);
  });

  it('cuts a 5,000-character paragraph with no punctuation into parts of at most MAX_PASSAGE_CHARS', () => {
    const words = ['troops', 'syria', 'russia', 'washington', 'withdrawal', 'pentagon', 'base', 'euphrates'];
    let blob = '';
    for (let i = 0; blob.length < 5000; i += 1) blob += `${words[i % words.length]} `;
    blob = blob.trim();
    const article = makeArticle('blob.txt', [blob]);

    const pieces = articlePassages(article);
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.map((p) => p.id)).toEqual(pieces.map((_, i) => `blob.txt#1.${i + 1}`));
    for (const piece of pieces) {
      expect(piece.text.length).toBeGreaterThan(0);
      expect(piece.text.length).toBeLessThanOrEqual(MAX_PASSAGE_CHARS);
      expect(blob.slice(piece.start, piece.end)).toBe(piece.text);
      expect(piece.sentences.length).toBeGreaterThan(0);
      for (const span of piece.sentences) expect(span.end).toBeLessThanOrEqual(piece.text.length);
    }
    // The parts cover the paragraph from its first to its last character, in order.
    expect(pieces[0]!.start).toBe(0);
    expect(pieces.at(-1)!.end).toBe(blob.length);
    for (let i = 1; i < pieces.length; i += 1) expect(pieces[i]!.start).toBeGreaterThanOrEqual(pieces[i - 1]!.end);
  });

  it.each(SEED_FILES)('%s: passages of the seed are ≤ MAX_PASSAGE_CHARS with sentences relative to the passage', (file) => {
    const text = decodeArticleBytes(file, readFileSync(path.join(SEEDS_DIR, file)));
    const article = parseArticle(file, text, 'h');
    const passages = articlePassages(article);
    expect(new Set(passages.map((p) => p.id)).size).toBe(passages.length);
    for (const passage of passages) {
      expect(passage.id).toMatch(new RegExp(`^${file.replace('.', '\\.')}#\\d+(\\.\\d+)?$`));
      expect(passage.text.length).toBeLessThanOrEqual(MAX_PASSAGE_CHARS);
      expect(text.slice(passage.start, passage.end)).toBe(passage.text);
      expectSentencesRelative(passage);
    }
  });
});

describe('withLabel', () => {
  it('is the passage with its label, every field in the same order as a spread would give', () => {
    const article = makeArticle('label.txt', ['One paragraph here.', 'Another one.'], { title: 'Label' });
    for (const passage of articlePassages(article)) {
      const labelled = withLabel(passage, 7);
      expect(labelled).toStrictEqual({ ...passage, label: 7 });
      expect(Object.keys(labelled)).toEqual(Object.keys({ ...passage, label: 7 }));
    }
  });
});
