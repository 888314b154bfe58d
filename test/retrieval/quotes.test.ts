import { describe, expect, it } from 'vitest';
import { selectQuote, type Quote } from '../../src/retrieval/quotes.js';
import { quoteQueryOf, search } from '../../src/retrieval/search.js';
import { tokenize } from '../../src/text/tokens.js';
import { makeArticle } from '../helpers.js';
import type { Article, IndexedPassage } from '../../src/model.js';
import { buildMemoryIndex } from '../../src/index/memory.js';

// Filler paragraphs give the index document frequencies like a real corpus: common words get low idf.
const FILLER = [
  'Russia said the American presence in Syria was unlawful and demanded that the troops leave.',
  'The Syrian government has repeatedly accused the coalition of causing civilian casualties.',
  'Officials in Moscow and Damascus said talks on the future of the country would continue.',
];

async function quoteFor(paragraph: string, question: string, extra: Article[] = []): Promise<{ passage: IndexedPassage; quote: Quote }> {
  const articles = [makeArticle('target.txt', [paragraph]), makeArticle('filler.txt', FILLER), ...extra];
  const index = await buildMemoryIndex(articles, null);
  const passage = [...index.passages.values()].find((p) => p.file === 'target.txt')!;
  const found = await search(question, { index, embedder: null, k: 1 });
  return { passage, quote: selectQuote(passage, quoteQueryOf(question, index, found)) };
}

/** The quote is verbatim and starts and ends on sentence boundaries of the passage. */
function expectWholeSentences(passage: IndexedPassage, quote: Quote): void {
  expect(passage.text.slice(quote.start, quote.end)).toBe(quote.text);
  expect(passage.text).toContain(quote.text);
  expect(passage.sentences.some((s) => s.start === quote.start)).toBe(true);
  expect(passage.sentences.some((s) => s.end === quote.end)).toBe(true);
}

describe('selectQuote', () => {
  const TROOPS =
    'Russia demanded again on Thursday that American forces leave Syria without delay. ' +
    'Washington has deployed around 2,000 troops to Syria, mostly in the northeast of the country. ' +
    'The Pentagon declined to comment on the demand from Moscow on Thursday evening.';

  it('picks the sentence with the number for a "how many" question', async () => {
    const { passage, quote } = await quoteFor(TROOPS, 'How many troops are in Syria?');
    expect(quote.text).toBe('Washington has deployed around 2,000 troops to Syria, mostly in the northeast of the country.');
    expectWholeSentences(passage, quote);
  });

  it('picks the sentence about the date for a "when" question', async () => {
    const paragraph =
      'Zakharova criticised the American plan to withdraw from Syria at a briefing for journalists. ' +
      'Trump announced the withdrawal of troops from Syria in December 2018, surprising his own generals. ' +
      'Many officials in Washington said they were not consulted about the withdrawal plan.';
    const { passage, quote } = await quoteFor(paragraph, 'When did Trump announce the withdrawal?');
    expect(quote.text.startsWith('Trump announced the withdrawal')).toBe(true);
    expect(quote.text).toContain('December 2018');
    expectWholeSentences(passage, quote);
  });

  it('takes the previous sentence along when the best one starts with "He"', async () => {
    const paragraph =
      'Russian Foreign Minister Sergei Lavrov spoke to reporters in Beijing on Tuesday afternoon. ' +
      'He said the Americans have no intention of leaving the eastern bank of the Euphrates. ' +
      'Chinese officials made no comment on the remarks at the press conference.';
    const { passage, quote } = await quoteFor(paragraph, 'Do the Americans intend to leave the eastern bank of the Euphrates?');
    expect(quote.text).toBe(
      'Russian Foreign Minister Sergei Lavrov spoke to reporters in Beijing on Tuesday afternoon. He said the Americans have no intention of leaving the eastern bank of the Euphrates.',
    );
    expectWholeSentences(passage, quote);
  });

  it('takes the previous sentence along when the best one starts with "They"', async () => {
    const paragraph =
      'The Kurdish-led militias control most of the oil fields east of the river. ' +
      'They receive weapons and training from American instructors at bases near Hasakah. ' +
      'The Syrian government calls the arrangement theft of national resources.';
    const { passage, quote } = await quoteFor(paragraph, 'Who trains at the bases near Hasakah with American weapons?');
    expect(quote.text.startsWith('The Kurdish-led militias control')).toBe(true);
    expect(quote.text.endsWith('bases near Hasakah.')).toBe(true);
    expectWholeSentences(passage, quote);
  });

  it('takes the next sentence along when it goes on from the best one with more of the question ("He is also…")', async () => {
    const paragraph =
      'Peyton Manning became the first quarterback ever to lead two different teams to multiple Super Bowls. ' +
      'He is also the oldest quarterback ever to play in a Super Bowl at age 39. ' +
      'The Broncos travelled to California a week before the game.';
    const { passage, quote } = await quoteFor(
      paragraph,
      'How old was the first quarterback to lead two different teams to multiple Super Bowls when he played?',
    );
    expect(quote.text.startsWith('Peyton Manning became')).toBe(true);
    expect(quote.text.endsWith('at age 39.')).toBe(true);
    expectWholeSentences(passage, quote);
  });

  it('takes the next sentence along when it opens by pointing back ("In that test, …") with more of the question', async () => {
    const paragraph =
      'The engineers ran a simple ten-minute braking test on a wet track last spring. ' +
      'In that test, the new tyres stopped the car four metres sooner than the old ones. ' +
      'The results will be published in the autumn.';
    const { passage, quote } = await quoteFor(paragraph, 'In the ten-minute braking test, how much sooner did the new tyres stop?');
    expect(quote.text.startsWith('The engineers ran')).toBe(true);
    expect(quote.text.endsWith('than the old ones.')).toBe(true);
    expectWholeSentences(passage, quote);
  });

  it('takes along the quotation the best sentence announces', async () => {
    const paragraph =
      'Charles Schultze, chairman of the Council of Economic Advisers, once summed up the danger of deficits with a metaphor. ' +
      '“It’s not so much a question of the wolf at the door, but termites in the woodwork.” ' +
      'Economists still cite the line in debates over the budget.';
    const { passage, quote } = await quoteFor(paragraph, 'How did the chairman of the economic advisers sum up the danger of deficits?');
    expect(quote.text).toContain('summed up the danger of deficits');
    expect(quote.text).toContain('termites in the woodwork');
    expect(quote.text).not.toContain('Economists');
    expectWholeSentences(passage, quote);
  });

  it('quotes a single sentence when it stands alone and the next one adds nothing', async () => {
    const { passage, quote } = await quoteFor(TROOPS, 'How many troops are in Syria?');
    expect(passage.sentences).toHaveLength(3);
    expect(quote.text).not.toContain('Pentagon');
    expect(quote.text).not.toContain('demanded');
  });

  it('returns a sentence of a one-sentence passage whole', async () => {
    const { passage, quote } = await quoteFor('Washington has deployed around 2,000 troops to Syria.', 'How many troops are in Syria?');
    expect(quote.text).toBe(passage.text);
    expect(quote.start).toBe(0);
    expect(quote.end).toBe(passage.text.length);
  });

  it('highlights exactly the words of the quote that match the question', async () => {
    const question = 'How many troops are in Syria?';
    const { quote } = await quoteFor(TROOPS, question);
    const highlighted = quote.highlights.map((span) => quote.text.slice(span.start, span.end));
    expect(highlighted).toEqual(['troops', 'Syria']);
    for (const span of quote.highlights) {
      expect(span.start).toBeGreaterThanOrEqual(0);
      expect(span.end).toBeLessThanOrEqual(quote.text.length);
    }
    // Stopwords of the question ("how", "many", "in") are never highlighted.
    const stopHighlights = quote.highlights.filter((span) => tokenize(quote.text.slice(span.start, span.end))[0]!.stop);
    expect(stopHighlights).toEqual([]);
  });

  it('highlights inflected forms of the question words ("withdrawing" for "withdraw")', async () => {
    const paragraph = 'Zakharova said the Americans were not withdrawing their troops from the country at all.';
    const { quote } = await quoteFor(paragraph, 'Is Washington going to withdraw?');
    const highlighted = quote.highlights.map((span) => quote.text.slice(span.start, span.end));
    expect(highlighted).toContain('withdrawing');
  });
});
