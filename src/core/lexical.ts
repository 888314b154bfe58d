/**
 * The lexical index: BM25 over passage text (and, with a lower weight, the headline and section heading)
 * using MiniSearch for the inverted index and scoring. Tokens are the shared stemmed content words, so
 * "withdrawal", "withdrawing" and "withdraw" meet.
 */
import MiniSearch from 'minisearch';
import { contentStems } from './text.js';

export interface LexicalDocument {
  label: number;
  text: string;
  title: string;
  section?: string;
}

export interface Bm25Parameters {
  k: number;
  b: number;
  /** BM25+ lower bound on a matching term's contribution; 0 is classic BM25. */
  d: number;
}

export interface LexicalOptions {
  bm25: Bm25Parameters;
  /** Weight of a match in the headline or section heading, relative to one in the passage text. */
  titleBoost: number;
  /** Turns text into index terms; the default is stemmed content words. */
  analyze?: (text: string) => string[];
}

export interface LexicalMatch {
  /** Sum of BM25 scores of the matched query terms (no coordination factor). */
  score: number;
  /** Query terms found in the passage text or its headings. */
  matched: string[];
}

/** Parameters measured on the retrieval check (npm run check -- --dataset ../shared/eval/squad11-dev). */
export const DEFAULT_LEXICAL_OPTIONS: LexicalOptions = {
  bm25: { k: 1.2, b: 0.75, d: 0.5 },
  titleBoost: 0.3,
};

interface Serialized {
  version: 1;
  documentFrequency: Record<string, number>;
  miniSearch: unknown;
}

export class LexicalIndex {
  private constructor(
    private readonly engine: MiniSearch<LexicalDocument>,
    private readonly documentFrequency: Map<string, number>,
    private readonly analyze: (text: string) => string[],
  ) {}

  static create(options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    const analyze = options.analyze ?? contentStems;
    return new LexicalIndex(new MiniSearch(miniSearchOptions(options, analyze)), new Map(), analyze);
  }

  static fromJSON(json: string, options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
    const data = JSON.parse(json) as Serialized;
    if (data.version !== 1 || typeof data.documentFrequency !== 'object') throw new Error('unknown lexical index format');
    const analyze = options.analyze ?? contentStems;
    const engine = MiniSearch.loadJS(data.miniSearch as never, miniSearchOptions(options, analyze)) as MiniSearch<LexicalDocument>;
    return new LexicalIndex(engine, new Map(Object.entries(data.documentFrequency)), analyze);
  }

  toJSON(): string {
    const data: Serialized = {
      version: 1,
      documentFrequency: Object.fromEntries(this.documentFrequency),
      miniSearch: this.engine.toJSON(),
    };
    return JSON.stringify(data);
  }

  get documentCount(): number {
    return this.engine.documentCount;
  }

  add(documents: LexicalDocument[]): void {
    for (const document of documents) {
      for (const term of new Set(this.analyze(document.text))) {
        this.documentFrequency.set(term, (this.documentFrequency.get(term) ?? 0) + 1);
      }
    }
    this.engine.addAll(documents);
  }

  remove(documents: LexicalDocument[]): void {
    for (const document of documents) {
      if (!this.engine.has(document.label)) continue;
      for (const term of new Set(this.analyze(document.text))) {
        const count = (this.documentFrequency.get(term) ?? 0) - 1;
        if (count > 0) this.documentFrequency.set(term, count);
        else this.documentFrequency.delete(term);
      }
      this.engine.discard(document.label);
    }
  }

  /** Index terms of a question, in the form `search` takes. */
  terms(text: string): string[] {
    return this.analyze(text);
  }

  /**
   * Inverse document frequency of a term in the passage texts (the BM25 form, always positive). A term no
   * passage has gets the highest value: a question about something absent should not look well covered.
   */
  idf(term: string): number {
    const n = this.engine.documentCount;
    const df = this.documentFrequency.get(term) ?? 0;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /**
   * Every passage that contains at least one of the terms, with its BM25 score; `weights` scales the
   * contribution of single terms (alias expansions count for less than the question's own words).
   */
  search(terms: string[], weights?: ReadonlyMap<string, number>): Map<number, LexicalMatch> {
    const results = new Map<number, LexicalMatch>();
    if (terms.length === 0) return results;
    const found = this.engine.search(terms.join(' '), {
      tokenize: (query) => query.split(' '),
      processTerm: (term) => term,
      boostTerm: weights ? (term) => weights.get(term) ?? 1 : undefined,
    });
    for (const hit of found) {
      // MiniSearch multiplies by the number of matched terms; undo it to get plain BM25.
      const matched = hit.queryTerms;
      results.set(hit.id as number, { score: hit.score / Math.max(1, matched.length), matched });
    }
    return results;
  }
}

function miniSearchOptions(options: LexicalOptions, analyze: (text: string) => string[]) {
  return {
    idField: 'label',
    fields: ['text', 'title', 'section'],
    tokenize: (text: string) => analyze(text),
    processTerm: (term: string) => term,
    searchOptions: {
      boost: { text: 1, title: options.titleBoost, section: options.titleBoost },
      bm25: options.bm25,
      combineWith: 'OR' as const,
      prefix: false,
      fuzzy: false,
    },
  };
}
