import { describe, expect, it } from 'vitest';
import { answerKind, contentStems, foldWord, holdsAnswerKind, splitSentences, stemWord, tokenize } from '../../src/text/tokens.js';

const words = (text: string) => tokenize(text).map((token) => token.word);
const stems = (text: string) => tokenize(text).map((token) => token.stem);
const sentences = (text: string) => splitSentences(text).map((span) => text.slice(span.start, span.end));

describe('tokenize', () => {
  it('reads "U.S." as the word "us", and it is not a stopword', () => {
    const [us, military] = tokenize('U.S. military');
    expect(us).toMatchObject({ word: 'us', stem: 'us', start: 0, end: 4, stop: false });
    expect(military).toMatchObject({ word: 'military', start: 5, end: 13 });
    expect(stems('the US troops')).toEqual(stems('the U.S. troops'));
  });

  it('keeps numbers whole and stems "2,000" to "2000"', () => {
    const tokens = tokenize('around 2,000 troops and 1.5 million dollars');
    expect(tokens.map((t) => t.word)).toEqual(['around', '2,000', 'troops', 'and', '1.5', 'million', 'dollars']);
    expect(tokens[1]!.stem).toBe('2000');
    expect(stemWord('2000')).toBe(tokens[1]!.stem);
  });

  it('folds case and accents so "Zakharová" finds "zakharova"', () => {
    expect(foldWord('Zakharová')).toBe('zakharova');
    expect(stems('ZAKHAROVÁ')).toEqual(stems('zakharova'));
    expect(stems('Café Résumé')).toEqual(stems('cafe resume'));
  });

  it('treats curly and straight apostrophes alike and drops possessives from stems', () => {
    const [curly] = tokenize('Russia’s');
    const [straight] = tokenize("Russia's");
    expect(curly!.word).toBe("russia's");
    expect(curly!.stem).toBe(straight!.stem);
    expect(curly!.stem).toBe(stems('Russia')[0]);
    expect(stems('Trump’s')).toEqual(stems('Trump'));
    // Contractions stay one word, and a function word stays a stopword when written with a curly apostrophe.
    const [wont] = tokenize('won’t');
    expect(wont).toMatchObject({ word: "won't", stop: true });
  });

  it('stems inflections to one form', () => {
    expect(new Set(stems('withdraw withdrawing withdraws'))).toEqual(new Set([stemWord('withdraw')]));
    expect(stems('troops')).toEqual(stems('troop'));
  });

  it('gives offsets that point into the original text', () => {
    const text = '  “U.S. troops,” said Zakharová — 2,000 of them — in Syria’s east. ';
    const tokens = tokenize(text);
    expect(tokens.map((t) => text.slice(t.start, t.end))).toEqual([
      'U.S.',
      'troops',
      'said',
      'Zakharová',
      '2,000',
      'of',
      'them',
      'in',
      'Syria’s',
      'east',
    ]);
    for (const token of tokens) expect(foldWord(text.slice(token.start, token.end)).replace(/\./g, '')).toBe(token.word);
  });

  it('marks function words as stopwords and keeps content words', () => {
    const tokens = tokenize('How many of the troops are in Syria');
    expect(tokens.filter((t) => t.stop).map((t) => t.word)).toEqual(['how', 'many', 'of', 'the', 'are', 'in']);
    expect(contentStems('How many of the troops are in Syria')).toEqual([stemWord('troops'), stemWord('syria')]);
  });

  it.each([
    ['Arabic', 'القوات الأمريكية في سوريا', 4],
    ['Chinese', '美国军队 在 叙利亚', 3],
    ['Cyrillic', 'Американские войска в Сирии', 4],
    ['Greek', 'Αμερικανικά στρατεύματα', 2],
  ])('produces tokens for %s text', (_name, text, count) => {
    const tokens = tokenize(text);
    expect(tokens).toHaveLength(count);
    for (const token of tokens) {
      expect(token.word.length).toBeGreaterThan(0);
      expect(token.stem.length).toBeGreaterThan(0);
      expect(text.slice(token.start, token.end).length).toBeGreaterThan(0);
    }
  });

  it('folds Cyrillic case consistently, so a question matches the article', () => {
    expect(stems('СИРИИ')).toEqual(stems('Сирии'));
  });

  it('produces no tokens for emoji and symbols', () => {
    expect(tokenize('🤔🇺🇸🔥 👍🏽 ❤️')).toEqual([]);
    expect(tokenize('?!… — ** ``')).toEqual([]);
    expect(words('troops 🪖 Syria')).toEqual(['troops', 'syria']);
  });
});

describe('splitSentences', () => {
  it('does not split after Mr., U.S. or Dec.', () => {
    expect(sentences('Mr. Lavrov spoke on Dec. 22 about the U.S. military in Syria. He said it must leave.')).toEqual([
      'Mr. Lavrov spoke on Dec. 22 about the U.S. military in Syria.',
      'He said it must leave.',
    ]);
  });

  it('splits ordinary sentences ending in . ! and ?', () => {
    expect(sentences('Troops stay. Will they leave? Nobody knows!')).toEqual(['Troops stay.', 'Will they leave?', 'Nobody knows!']);
  });

  it('keeps closing quotation marks with their sentence', () => {
    expect(sentences('“We will not leave,” he said. “The mission is not over.” Officials agreed.')).toEqual([
      '“We will not leave,” he said.',
      '“The mission is not over.”',
      'Officials agreed.',
    ]);
    expect(sentences('He said "No." Then he left.')).toEqual(['He said "No."', 'Then he left.']);
  });

  it('trims whitespace from each span and drops empty ones', () => {
    const text = '   First sentence here.    Second one.   \n  ';
    const spans = splitSentences(text);
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      const slice = text.slice(span.start, span.end);
      expect(slice).toBe(slice.trim());
      expect(slice.length).toBeGreaterThan(0);
    }
    expect(splitSentences('   ')).toEqual([]);
    expect(splitSentences('')).toEqual([]);
  });

  it('covers text without end punctuation as one sentence', () => {
    expect(sentences('no punctuation at all here')).toEqual(['no punctuation at all here']);
  });
});

describe('answerKind', () => {
  it.each([
    ['How many US troops are in Syria?', 'number'],
    ['how much oil does Syria produce', 'number'],
    ['What percentage of troops left?', 'number'],
    ['When did Trump announce the withdrawal?', 'time'],
    ['What year did the war start?', 'time'],
    ['Who is the Russian foreign minister?', 'person'],
    ['Whose troops are in Syria?', 'person'],
    ['Where is the al-Tanf base?', 'place'],
    ['Why does Russia want the US out?', 'other'],
    ['Is the US leaving Syria?', 'other'],
  ] as const)('%s → %s', (question, kind) => {
    expect(answerKind(question)).toBe(kind);
  });
});

describe('holdsAnswerKind', () => {
  it('finds what each kind of question asks for', () => {
    expect(holdsAnswerKind('Washington has deployed around 2,000 troops.', 'number')).toBe(true);
    expect(holdsAnswerKind('Several hundred soldiers left.', 'number')).toBe(true);
    // Amounts said in words: plurals of the large numbers, and words that are amounts themselves.
    for (const amount of [
      'Dozens of',
      'Hundreds of',
      'Twenty',
      'Twice as many',
      'Half of the',
      'A pair of',
      'A single',
      'Ten percent of the',
    ])
      expect(holdsAnswerKind(`${amount} soldiers left.`, 'number')).toBe(true);
    expect(holdsAnswerKind('Trump announced it in December 2018.', 'time')).toBe(true);
    expect(holdsAnswerKind('Maria Zakharova spoke to reporters.', 'person')).toBe(true);
    expect(holdsAnswerKind('The base lies near Tanf.', 'place')).toBe(true);
  });

  it('is false when the text lacks it, and always false for "other"', () => {
    expect(holdsAnswerKind('The troops will stay for now.', 'number')).toBe(false);
    expect(holdsAnswerKind('the troops will stay.', 'person')).toBe(false);
    expect(holdsAnswerKind('Washington has deployed around 2,000 troops in December 2018.', 'other')).toBe(false);
  });
});
