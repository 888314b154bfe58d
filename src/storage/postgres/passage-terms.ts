/**
 * A passage's lexical terms as citebot's own BM25 index sees them (src/index/bm25.ts, `LexicalIndex.add`):
 * the analyser's stems of each sentence span (the whole text when it has none), whose concatenation is
 * the text field, and the stems of "headline section" as the title field. The Postgres store writes its
 * postings from this, and retrieval recomputes the per-sentence stems of candidates from the stored text
 * with it instead of storing them twice: analysis is a cached lookup per word, microseconds a passage.
 */
import type { Span } from '../../model.js';
import { contentStems } from '../../text/tokens.js';

/** bm25.ts keeps term frequencies in 16 bits. */
const MAX_TF = 65_535;

export interface PassageTerms {
  /** Stems of each sentence, in order (one entry for a passage without sentence spans). */
  sentenceStems: string[][];
  /** Term → frequency in the passage text. */
  text: Map<string, number>;
  /** Number of terms in the text, repeats counted: BM25's document length. */
  textLength: number;
  /** Term → frequency in the headline and section heading. */
  title: Map<string, number>;
  /** The headline and section heading's terms, in order. */
  titleTerms: string[];
  titleLength: number;
}

/** Stems of each sentence of a passage, exactly as the lexical index splits and analyses it. */
export function sentenceStems(text: string, sentences: readonly Span[], analyze: (text: string) => string[] = contentStems): string[][] {
  const spans = sentences.length > 0 ? sentences : [{ start: 0, end: text.length }];
  return spans.map((span) => analyze(text.slice(span.start, span.end)));
}

function frequencies(terms: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, Math.min(MAX_TF, (counts.get(term) ?? 0) + 1));
  return counts;
}

/** Both lexical fields of a passage whose article has the headline `title`. */
export function passageTerms(
  passage: { text: string; sentences: readonly Span[]; section?: string },
  title: string,
  analyze: (text: string) => string[] = contentStems,
): PassageTerms {
  const stems = sentenceStems(passage.text, passage.sentences, analyze);
  const titleTerms = analyze(`${title} ${passage.section ?? ''}`);
  return {
    sentenceStems: stems,
    text: frequencies(stems.flat()),
    textLength: stems.reduce((sum, sentence) => sum + sentence.length, 0),
    title: frequencies(titleTerms),
    titleTerms,
    titleLength: titleTerms.length,
  };
}
