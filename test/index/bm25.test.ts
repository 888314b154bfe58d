import { describe, expect, it } from 'vitest';
import { DEFAULT_LEXICAL_OPTIONS, LexicalIndex, type LexicalDocument, type LexicalOptions } from '../../src/index/bm25.js';
import { splitSentences } from '../../src/text/tokens.js';

function doc(label: number, text: string, title = '', section?: string): LexicalDocument {
  return { label, text, title, section, sentences: splitSentences(text) };
}

function build(documents: LexicalDocument[], options: LexicalOptions = DEFAULT_LEXICAL_OPTIONS): LexicalIndex {
  const index = LexicalIndex.create(options);
  index.add(documents);
  return index;
}

/** One term's BM25+ contribution to one field, written out independently of the index. */
function contribution(
  tf: number,
  length: number,
  averageLength: number,
  df: number,
  n: number,
  { k, b, d }: LexicalOptions['bm25'],
): number {
  const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
  return idf * (d + ((k + 1) * tf) / (tf + k * (1 - b + (b * length) / averageLength)));
}

// Stems: troop troop border | troop river bank cross | oil price; titles: border report | river | oil.
// Text lengths 3, 4, 2 (average 3); title lengths 2, 1, 1 (average 4/3).
const TINY = [doc(0, 'troops troops border', 'Border report'), doc(1, 'troops river bank crossing', 'River'), doc(2, 'oil prices', 'Oil')];

const QUERIES = [['troop'], ['border'], ['river', 'oil'], ['report'], ['troop', 'cross', 'price', 'syria'], ['bank', 'border', 'open']];

/** Both indexes give every label the same score for every query in QUERIES. */
function expectSameScores(actual: LexicalIndex, expected: LexicalIndex, labels: number[]): void {
  const table = (index: LexicalIndex) => QUERIES.flatMap((terms) => labels.map((label) => index.search(terms).score(label)));
  const want = table(expected);
  table(actual).forEach((value, i) => expect(value).toBeCloseTo(want[i]!, 12));
}

// A corpus with a title-only word ("budget") and words shared between passages, so removing one changes
// document frequencies and average lengths in both fields.
const CORPUS = [
  doc(0, 'Troops left Syria. The border stayed open.', 'Border troops', 'World'),
  doc(1, 'Oil prices rose as the border closed.', 'Oil budget'),
  doc(2, 'Troops crossed the river bank near the border. Troops waited.', 'River crossing', 'Budget'),
  doc(3, 'The bank raised prices.', 'Bank'),
  doc(4, 'Syria reopened the crossing.', 'Syria'),
];
const LABELS = [0, 1, 2, 3, 4];

describe('LexicalIndex scoring', () => {
  it.each([
    ['the defaults', DEFAULT_LEXICAL_OPTIONS],
    ['classic BM25 with other k and b', { bm25: { k: 2, b: 0.3, d: 0 }, titleBoost: 0.5 }],
  ] as const)('scores equal the BM25+ formula worked by hand (%s)', (_name, options) => {
    const index = build(TINY, options);
    const p = options.bm25;
    const troop = index.search(['troop']);
    expect(troop.score(0)).toBeCloseTo(contribution(2, 3, 3, 2, 3, p), 12);
    expect(troop.score(1)).toBeCloseTo(contribution(1, 4, 3, 2, 3, p), 12);
    expect(troop.score(2)).toBe(0);
    expect(troop.top(Infinity).length).toBe(2);

    // "border" is in passage 0's text and its title: both fields add, the title at titleBoost.
    const border = index.search(['border']).score(0);
    expect(border).toBeCloseTo(contribution(1, 3, 3, 1, 3, p) + options.titleBoost * contribution(1, 2, 4 / 3, 1, 3, p), 12);

    const both = index.search(['river', 'oil']);
    expect(both.score(1)).toBeCloseTo(contribution(1, 4, 3, 1, 3, p) + options.titleBoost * contribution(1, 1, 4 / 3, 1, 3, p), 12);
    expect(both.score(2)).toBeCloseTo(contribution(1, 2, 3, 1, 3, p) + options.titleBoost * contribution(1, 1, 4 / 3, 1, 3, p), 12);
  });

  it('create() without options uses DEFAULT_LEXICAL_OPTIONS, a BM25+ with titles weighted below text', () => {
    expect(DEFAULT_LEXICAL_OPTIONS.bm25.d).toBeGreaterThan(0);
    expect(DEFAULT_LEXICAL_OPTIONS.titleBoost).toBeGreaterThan(0);
    expect(DEFAULT_LEXICAL_OPTIONS.titleBoost).toBeLessThan(1);
    expect(DEFAULT_LEXICAL_OPTIONS.analyze).toBeUndefined();
    const implicit = LexicalIndex.create();
    implicit.add(TINY);
    expectSameScores(implicit, build(TINY, DEFAULT_LEXICAL_OPTIONS), [0, 1, 2]);
  });

  it('ranks more occurrences above fewer, and a shorter passage above a longer one', () => {
    const index = build([
      doc(0, 'troops border'),
      doc(1, 'troops troops'),
      doc(2, 'troops border river bank crossing oil'),
      doc(3, 'prices'),
    ]);
    expect(
      index
        .search(['troop'])
        .top(3)
        .map((hit) => hit.label),
    ).toEqual([1, 0, 2]);
  });

  it('counts a title-only match at exactly titleBoost weight, and not at all when it is 0', () => {
    const at = (titleBoost: number) => build(TINY, { ...DEFAULT_LEXICAL_OPTIONS, titleBoost }).search(['report']);
    expect(at(0.3).score(0)).toBeGreaterThan(0);
    expect(at(0.6).score(0)).toBeCloseTo(2 * at(0.3).score(0), 12);
    expect(at(0).top(Infinity).length).toBe(0);
    expect(at(0).score(0)).toBe(0);
  });

  it('scales a term by its weight and leaves the others alone', () => {
    const index = build(TINY);
    const plain = index.search(['troop', 'oil']);
    const weighted = index.search(['troop', 'oil'], new Map([['oil', 0.25]]));
    expect(weighted.score(2)).toBeCloseTo(0.25 * plain.score(2), 12);
    expect(weighted.score(0)).toBeCloseTo(plain.score(0), 12);
  });

  it('top(n) is best first, ties broken by label, and bounded by n and by the matches', () => {
    const index = build([
      doc(5, 'troops border'),
      doc(2, 'troops border'),
      doc(7, 'troops troops troops'),
      doc(1, 'troops border'),
      doc(3, 'oil'),
    ]);
    const scores = index.search(['troop']);
    expect(scores.top(3).map((hit) => hit.label)).toEqual([7, 1, 2]);
    expect(scores.top(10).map((hit) => hit.label)).toEqual([7, 1, 2, 5]);
    expect(scores.top(0)).toEqual([]);
    for (const hit of scores.top(10)) expect(hit.score).toBe(scores.score(hit.label));
  });

  it('reports the matched terms per passage and 0 for passages that match nothing', () => {
    const index = build(TINY);
    const scores = index.search(['troop', 'border', 'troop', 'absent']);
    expect(scores.matched(0)).toEqual(['troop', 'border']);
    expect(scores.matched(1)).toEqual(['troop']);
    expect(scores.matched(2)).toEqual([]);
    expect(scores.score(2)).toBe(0);
    expect(scores.score(1000)).toBe(0);
    expect(scores.matched(1000)).toEqual([]);
  });

  it('uses the first 32 distinct terms, the 32nd included', () => {
    const index = build(TINY, { ...DEFAULT_LEXICAL_OPTIONS, analyze: (text) => text.split(' ') });
    const filler = Array.from({ length: 31 }, (_, i) => `filler${i}`);
    expect(index.search([...filler, 'oil']).matched(2)).toEqual(['oil']);
    expect(index.search([...filler, 'filler', 'oil']).score(2)).toBe(0);
  });

  it('gives an unknown term the highest idf', () => {
    const index = build(TINY);
    const unknown = index.idf('zeppelin');
    expect(unknown).toBeCloseTo(Math.log(1 + 3.5 / 0.5), 12);
    for (const term of ['troop', 'border', 'oil', 'price']) expect(unknown).toBeGreaterThan(index.idf(term));
    // "report" is only in a title: idf describes the passage texts.
    expect(index.idf('report')).toBe(unknown);
  });

  it('refuses a label that is already indexed, in a later call or the same one', () => {
    const index = build(TINY);
    expect(() => index.add([doc(1, 'again')])).toThrow(/already indexed/);
    expect(() => LexicalIndex.create().add([doc(4, 'one'), doc(4, 'two')])).toThrow(Error);
  });

  it('honours a custom analyzer for passages, titles and questions', () => {
    const analyze = (text: string) => text.toLowerCase().split(/\s+/).filter(Boolean);
    const index = build([doc(0, 'The troops', 'The title'), doc(1, 'troop')], { ...DEFAULT_LEXICAL_OPTIONS, analyze });
    expect(index.termsOf('The Troops')).toEqual(['the', 'troops']);
    const labelsFor = (terms: string[]) =>
      index
        .search(terms)
        .top(5)
        .map((hit) => hit.label);
    expect(labelsFor(['the'])).toEqual([0]);
    expect(labelsFor(['troop'])).toEqual([1]);
    expect(index.search(['title']).matched(0)).toEqual(['title']);
    // The default drops "the" and stems "troops".
    expect(LexicalIndex.create().termsOf('The Troops')).toEqual(['troop']);
  });
});

describe('LexicalIndex remove', () => {
  it('scores exactly like an index built without the removed passages', () => {
    const index = build(CORPUS);
    // Unknown labels and repeats are no-ops.
    index.remove([2, 99, 2]);
    index.remove([2]);
    const reference = build(CORPUS.filter((d) => d.label !== 2));
    expect(index.documentCount).toBe(4);
    expect(index.has(2)).toBe(false);
    expectSameScores(index, reference, LABELS);
    for (const term of ['troop', 'border', 'river', 'budget', 'bank']) expect(index.idf(term)).toBeCloseTo(reference.idf(term), 12);
    expect(index.search(['river']).top(Infinity).length).toBe(0);

    index.remove([0, 4]);
    expectSameScores(index, build([CORPUS[1]!, CORPUS[3]!]), LABELS);
  });

  // A removed passage's postings stay until the next serialize; a live label over them would count twice.
  it('refuses to reuse a removed label before the index is serialized, and accepts it after', () => {
    const index = build(CORPUS);
    index.remove([2]);
    expect(() => index.add([doc(2, 'Oil.')])).toThrow(/passage 2 was removed/);
    const loaded = LexicalIndex.deserialize(index.serialize());
    loaded.add([doc(2, 'Oil.')]);
    expectSameScores(loaded, build([...CORPUS.filter((d) => d.label !== 2), doc(2, 'Oil.')]), LABELS);
  });
});

describe('LexicalIndex serialize', () => {
  it('round-trips to identical scores and coverage', () => {
    const index = build(CORPUS);
    const loaded = LexicalIndex.deserialize(index.serialize());
    expect(loaded.documentCount).toBe(5);
    expectSameScores(loaded, index, LABELS);
    const q = (target: LexicalIndex) =>
      target.coverageQuery([
        {
          equivalents: new Map([
            ['troop', 1],
            ['oil', 0.4],
          ]),
          weight: 1,
        },
        { equivalents: new Map([['border', 1]]), weight: 1 },
      ]);
    for (const label of LABELS) expect(loaded.coverage(label, q(loaded))).toEqual(index.coverage(label, q(index)));
    expect(loaded.coverage(2, q(loaded)).sentences).toHaveLength(2);
  });

  it('drops removed passages: the loaded index equals one built without them', () => {
    const index = build(CORPUS);
    const full = index.serialize();
    index.remove([1, 3]);
    const bytes = index.serialize();
    expect(bytes.byteLength).toBeLessThan(full.byteLength);
    const loaded = LexicalIndex.deserialize(bytes);
    const reference = build(CORPUS.filter((d) => d.label !== 1 && d.label !== 3));
    expect(loaded.documentCount).toBe(3);
    expect(loaded.has(1)).toBe(false);
    expectSameScores(loaded, reference, LABELS);
  });

  it('still takes additions and removals after loading, and survives a second round trip', () => {
    const index = build(CORPUS);
    index.remove([4]);
    const loaded = LexicalIndex.deserialize(index.serialize());
    const extra = doc(7, 'Troops guarded the oil bank.', 'Guard duty');
    loaded.add([extra]);
    loaded.remove([0]);
    const reference = build([CORPUS[1]!, CORPUS[2]!, CORPUS[3]!, extra]);
    expectSameScores(loaded, reference, [...LABELS, 7]);
    expectSameScores(LexicalIndex.deserialize(loaded.serialize()), reference, [...LABELS, 7]);
    expect(() => loaded.add([doc(7, 'again')])).toThrow(/already indexed/);
  });

  it('rejects bytes that are not an index file', () => {
    const bytes = build(CORPUS).serialize();
    const garbage = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256);
    expect(() => LexicalIndex.deserialize(garbage)).toThrow(Error);
    expect(() => LexicalIndex.deserialize(new Uint8Array(0))).toThrow(Error);
    expect(() => LexicalIndex.deserialize(bytes.subarray(0, 24))).toThrow(Error);
    expect(() => LexicalIndex.deserialize(bytes.subarray(0, bytes.byteLength - 16))).toThrow(Error);
  });
});

describe('LexicalIndex coverage', () => {
  const words = [
    {
      equivalents: new Map([
        ['troop', 1],
        ['soldier', 0.5],
        ['armi', 0.5],
      ]),
      weight: 2,
    },
    { equivalents: new Map([['border', 1]]), weight: 1 },
    { equivalents: new Map([['absent', 1]]), weight: 1 },
  ];
  const index = build([
    doc(0, 'Troops left Syria. The border stayed open. Oil prices rose.'),
    doc(1, 'Soldiers crossed the border.'),
    doc(2, 'Soldiers and the army. Troops.'),
    { label: 3, text: 'Troops here. Border there.', title: '' },
  ]);

  it('prepares shares that sum to 1 and credits only for terms the index knows', () => {
    const query = index.coverageQuery(words);
    expect(query.shares).toEqual([0.5, 0.25, 0.25]);
    expect(query.credits.size).toBe(4);
    expect([...query.credits.values()]).toEqual([[[0, 1]], [[0, 0.5]], [[0, 0.5]], [[1, 1]]]);
  });

  it("lists a passage's term ids sentence by sentence, each id naming its term", () => {
    const sentences = index.sentenceTermIds(0).map((ids) => [...ids].map((id) => index.termOf(id)));
    expect(sentences).toEqual([
      ['troop', 'left', 'syria'],
      ['border', 'stai', 'open'],
      ['oil', 'price', 'rose'],
    ]);
    expect(index.idOf('border')).toBe(index.sentenceTermIds(0)[1]![0]);
    expect(index.sentenceTermIds(99)).toEqual([]);
    expect(index.idOf('never-seen')).toBeUndefined();
  });

  it('gives each sentence and the passage the share of the question they hold', () => {
    const query = index.coverageQuery(words);
    expect(index.coverage(0, query)).toEqual({ sentences: [0.5, 0.25, 0], passage: 0.75 });
    // A close word earns its credit's part of its word's share.
    expect(index.coverage(1, query)).toEqual({ sentences: [0.5 * 0.5 + 0.25], passage: 0.5 });
    // A word counts once, at its best credit: two close words do not add up, the word itself beats them.
    expect(index.coverage(2, query)).toEqual({ sentences: [0.25, 0.5], passage: 0.5 });
    // Without sentence spans the text is one sentence.
    expect(index.coverage(3, query)).toEqual({ sentences: [0.75], passage: 0.75 });
  });

  it('is empty for a label that is not indexed or a question with no known term', () => {
    expect(index.coverage(9, index.coverageQuery(words))).toEqual({ sentences: [], passage: 0 });
    expect(index.coverage(0, index.coverageQuery([words[2]!]))).toEqual({ sentences: [], passage: 0 });
  });
});

describe('LexicalIndex storage', () => {
  // Written by the implementation before postings moved off the heap (format 5): CORPUS with passage 3
  // removed, serialized.
  const FORMAT_5 =
    'Q0JMWAUAAACQAgAAeyJ0ZXJtcyI6WyJ0cm9vcCIsImxlZnQiLCJzeXJpYSIsImJvcmRlciIsInN0YWkiLCJvcGVuIiwid29ybGQiLCJvaWwiLCJwcmljZSIsInJvc2UiLCJjbG9zZSIsImJ1ZGdldCIsImNyb3NzIiwicml2ZXIiLCJiYW5rIiwibmVhciIsIndhaXQiLCJyYWlzIiwicmVvcGVuIl0sInZlcnNpb24iOjUsImxheW91dCI6eyJ0ZXh0Lm9mZnNldHMiOlswLDIwLCJJbnQzMkFycmF5Il0sInRleHQubGFiZWxzIjpbODAsMjEsIkludDMyQXJyYXkiXSwidGV4dC5jb3VudHMiOlsxNjQsMjEsIlVpbnQxNkFycmF5Il0sInRleHQubGVuZ3RocyI6WzIwOCw1LCJJbnQzMkFycmF5Il0sInRpdGxlLm9mZnNldHMiOlsyMjgsMjAsIkludDMyQXJyYXkiXSwidGl0bGUubGFiZWxzIjpbMzA4LDksIkludDMyQXJyYXkiXSwidGl0bGUuY291bnRzIjpbMzQ0LDksIlVpbnQxNkFycmF5Il0sInRpdGxlLmxlbmd0aHMiOlszNjQsNSwiSW50MzJBcnJheSJdLCJzZW50ZW5jZXMub2Zmc2V0cyI6WzM4NCw2LCJJbnQzMkFycmF5Il0sInNlbnRlbmNlcy50ZXJtcyI6WzQwOCwzMiwiSW50MzJBcnJheSJdLCJ0aXRsZXMub2Zmc2V0cyI6WzUzNiw2LCJJbnQzMkFycmF5Il0sInRpdGxlcy50ZXJtcyI6WzU2MCw5LCJJbnQzMkFycmF5Il0sImFsaXZlIjpbNTk2LDUsIlVpbnQ4QXJyYXkiXX19AAAAAAAAAgAAAAMAAAAFAAAACAAAAAkAAAAKAAAACgAAAAsAAAAMAAAADQAAAA4AAAAOAAAAEAAAABEAAAASAAAAEwAAABQAAAAUAAAAFQAAAAAAAAACAAAAAAAAAAAAAAAEAAAAAAAAAAEAAAACAAAAAAAAAAAAAAABAAAAAQAAAAEAAAABAAAAAgAAAAQAAAACAAAAAgAAAAIAAAACAAAABAAAAAEAAgABAAEAAQABAAEAAQABAAEAAQABAAEAAQABAAEAAQABAAEAAQABAAAABgAAAAUAAAAIAAAAAAAAAAMAAAAAAAAAAQAAAAEAAAACAAAAAwAAAAMAAAADAAAABAAAAAUAAAAFAAAABQAAAAUAAAAHAAAACAAAAAkAAAAJAAAACQAAAAkAAAAJAAAACQAAAAAAAAAEAAAAAAAAAAAAAAABAAAAAQAAAAIAAAACAAAAAgAAAAEAAQABAAEAAQABAAEAAQABAAAAAwAAAAIAAAADAAAAAAAAAAEAAAAAAAAACQAAABAAAAAbAAAAGwAAACAAAAACAAAAAwAAAAYAAAAAAAAAAQAAAAIAAAADAAAABAAAAAUAAAABAAAABQAAAAcAAAAIAAAACQAAAAMAAAAKAAAAAgAAAAYAAAAIAAAAAAAAAAwAAAANAAAADgAAAA8AAAADAAAAAAAAABAAAAABAAAAAwAAAAIAAAASAAAADAAAAAAAAAADAAAABQAAAAgAAAAIAAAACQAAAAMAAAAAAAAABgAAAAcAAAALAAAADQAAAAwAAAALAAAAAgAAAAEBAQABAAAA';

  it('reads an index the previous implementation wrote, and writes the very same bytes', () => {
    const old = Buffer.from(FORMAT_5, 'base64');
    const index = build(CORPUS);
    index.remove([3]);
    expect(Buffer.from(index.serialize()).equals(old)).toBe(true);
    const loaded = LexicalIndex.deserialize(old);
    expect(loaded.documentCount).toBe(4);
    for (const terms of QUERIES)
      for (const label of LABELS) expect(loaded.search(terms).score(label)).toBe(index.search(terms).score(label));
    expect(loaded.sentenceTermIds(2).map((ids) => [...ids].map((id) => loaded.termOf(id)))).toEqual([
      ['troop', 'cross', 'river', 'bank', 'near', 'border'],
      ['troop', 'wait'],
    ]);
  });

  it('reads from a view of a larger buffer at any offset, and refuses one cut short', () => {
    const bytes = build(CORPUS).serialize();
    for (const shift of [1, 2, 4]) {
      const larger = new Uint8Array(bytes.byteLength + shift + 8).fill(7);
      larger.set(bytes, shift);
      const loaded = LexicalIndex.deserialize(larger.subarray(shift, shift + bytes.byteLength));
      expectSameScores(loaded, build(CORPUS), LABELS);
      expect(() => LexicalIndex.deserialize(larger.subarray(shift, shift + bytes.byteLength - 4))).toThrow(/truncated/);
    }
  });

  // Thousands of passages: postings and per-passage term ids fill several pages, and the frequent terms'
  // postings run through many slices.
  const analyze = (text: string) => text.split(' ').filter(Boolean);
  const options: LexicalOptions = { ...DEFAULT_LEXICAL_OPTIONS, analyze };
  const next = (() => {
    let state = 11;
    return () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  })();
  const word = () => `w${Math.floor(next() * next() * 600)}`;
  const large = (labels: number[], salt = '') =>
    labels.map((label): LexicalDocument => {
      const sentences = Array.from({ length: 1 + (label % 3) }, () =>
        ['common', label % 2 === 0 ? 'even' : 'odd', ...Array.from({ length: 4 + Math.floor(next() * 5) }, word), salt].join(' '),
      );
      const text = sentences.join('. ');
      let at = 0;
      const spans = sentences.map((sentence) => {
        const span = { start: at, end: at + sentence.length };
        at += sentence.length + 2;
        return span;
      });
      return { label, text, title: `${word()} ${word()}`, section: label % 5 === 0 ? 'common desk' : undefined, sentences: spans };
    });
  const queries = Array.from({ length: 60 }, (_, i) => [
    ...(i % 4 === 0 ? ['common'] : []),
    ...Array.from({ length: 1 + (i % 4) }, word),
    i % 7 === 0 ? 'absent' : 'even',
  ]);

  /** BM25+ over both fields written out plainly, term by term and field by field as the index adds them. */
  function referenceScorer(documents: LexicalDocument[], { bm25: { k, b, d }, titleBoost }: LexicalOptions) {
    const fields = documents.map((document) => ({
      label: document.label,
      text: (document.sentences ?? []).flatMap((span) => analyze(document.text.slice(span.start, span.end))),
      title: analyze(`${document.title} ${document.section ?? ''}`),
    }));
    const n = fields.length;
    const averages = {
      text: fields.reduce((sum, field) => sum + field.text.length, 0) / n || 1,
      title: fields.reduce((sum, field) => sum + field.title.length, 0) / n || 1,
    };
    return (terms: string[]): Map<number, number> => {
      const scores = new Map<number, number>();
      for (const term of [...new Set(terms)].slice(0, 32)) {
        for (const [name, boost] of [
          ['text', 1],
          ['title', titleBoost],
        ] as const) {
          const holding = fields.filter((field) => field[name].includes(term));
          if (holding.length === 0 || boost === 0) continue;
          const idf = Math.log(1 + (n - holding.length + 0.5) / (holding.length + 0.5));
          for (const field of holding) {
            const count = field[name].filter((t) => t === term).length;
            const normalised = count / (count + k * (1 - b + (b * field[name].length) / averages[name]));
            scores.set(field.label, (scores.get(field.label) ?? 0) + boost * idf * (d + (k + 1) * normalised));
          }
        }
      }
      return scores;
    };
  }

  /** Every score of every query equal to the reference's, to the last bit. */
  function expectReferenceScores(index: LexicalIndex, documents: LexicalDocument[]): void {
    const reference = referenceScorer(documents, options);
    for (const terms of queries) {
      const want = reference(terms);
      const best = [...want].map(([label, score]) => ({ label, score })).sort((a, b) => b.score - a.score || a.label - b.label);
      // Scored whole, and block by block (which looks single passages up in each list).
      for (const strategy of ['whole', 'blocked'] as const) {
        const scores = index.search(terms, undefined, strategy);
        const different = documents.filter((document) => scores.score(document.label) !== (want.get(document.label) ?? 0));
        expect(different.map((document) => [document.label, scores.score(document.label), want.get(document.label)])).toEqual([]);
        for (const n of [1, 10, 50]) expect(scores.top(n)).toEqual(best.slice(0, n));
      }
    }
  }

  function coverageTable(index: LexicalIndex, labels: number[]) {
    return queries.slice(0, 10).flatMap((terms) => {
      const query = index.coverageQuery(terms.map((term, i) => ({ weight: 1 + i, equivalents: new Map([[term, 1]]) })));
      return labels.map((label) => [index.coverage(label, query), index.runCoverage(label, query, 0, 1)]);
    });
  }

  it('scores bit for bit like BM25+ worked out plainly, built, loaded, after removals and after re-adding', () => {
    const documents = large(Array.from({ length: 7000 }, (_, label) => label));
    const index = LexicalIndex.create(options);
    for (let from = 0; from < documents.length; from += 512) index.add(documents.slice(from, from + 512));
    expectReferenceScores(index, documents);

    const loaded = LexicalIndex.deserialize(index.serialize(), options);
    expectReferenceScores(loaded, documents);
    const sample = Array.from({ length: 40 }, (_, i) => i * 170);
    expect(coverageTable(loaded, sample)).toEqual(coverageTable(index, sample));

    const removed = documents.filter((document) => document.label % 5 === 1).map((document) => document.label);
    loaded.remove(removed);
    const kept = documents.filter((document) => document.label % 5 !== 1);
    expectReferenceScores(loaded, kept);

    const again = LexicalIndex.deserialize(loaded.serialize(), options);
    const readded = large(removed.slice(0, 300), 'again');
    const added = large([7000, 7001, 9000]);
    again.add([...readded, ...added]);
    expectReferenceScores(again, [...kept, ...readded, ...added]);
    expect(again.documentCount).toBe(kept.length + 303);
    const fresh = LexicalIndex.create(options);
    fresh.add([...kept, ...readded, ...added].sort((a, b) => a.label - b.label));
    const labels = [...sample, ...removed.slice(0, 20), 7000, 9000];
    expect(coverageTable(again, labels)).toEqual(coverageTable(fresh, labels));
    // Compared as bytes: a deep comparison of megabytes takes minutes.
    const bytes = Buffer.from(again.serialize());
    expect(Buffer.from(LexicalIndex.deserialize(bytes, options).serialize()).equals(bytes)).toBe(true);
  });
});
