/**
 * The obvious alternative every check reports next to citebot: plain BM25 (k1 1.2, b 0.75) over
 * lower-cased \w+ tokens (Unicode word characters, as Python's re has them) with a small stopword list, no stemming, passage text only — the configuration
 * of the reference run published with the squad11-dev set.
 */
import { LexicalIndex } from '../index/bm25.js';
import type { IndexedPassage } from '../model.js';

const SMALL_STOPWORDS = new Set(
  'a an the of to in on at for by with from and or but is are was were be been being it its this that these those as which who whom what when where why how do does did not no'.split(
    ' ',
  ),
);

export function plainTokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}\p{M}_]+/gu) ?? []).filter((token) => !SMALL_STOPWORDS.has(token));
}

export class Bm25Baseline {
  private readonly index = LexicalIndex.create({ bm25: { k: 1.2, b: 0.75, d: 0 }, titleBoost: 0, analyze: plainTokens });

  constructor(passages: Iterable<IndexedPassage>) {
    this.index.add([...passages].map((passage) => ({ label: passage.label, text: passage.text, title: '' })));
  }

  /** Labels of the best `k` passages, best first. */
  search(question: string, k: number): number[] {
    return this.index
      .search(this.index.termsOf(question))
      .top(k)
      .map(({ label }) => label);
  }
}
