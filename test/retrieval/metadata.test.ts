import { describe, expect, it } from 'vitest';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { describeFact, mentionsSource, metadataQuestion, sourceNames } from '../../src/retrieval/metadata.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { makeArticle } from '../helpers.js';

describe('metadataQuestion', () => {
  it.each([
    ['who wrote the newsweek article', 'byline'],
    ['Who wrote the NYT piece about interest costs?', 'byline'],
    ["who's the author of the article about moscow slamming washington?", 'byline'],
    ['Name the reporter behind the story on the oil fields', 'byline'],
    ['whose byline is on the Lavrov interview?', 'byline'],
    ['who wrote about neon signs?', 'byline'],
    ['ok who wrote it?', 'byline'],
    ['Which outlet ran the story about the border shelling?', 'outlet'],
    ['what news site published the report on oil fields', 'outlet'],
    ['Which paper is that article from?', 'outlet'],
    ['where was the piece on the oil fields published?', 'outlet'],
    ['When was the Newsweek story published?', 'date'],
    ['when did they put out the article on the oil fields', 'date'],
    ['what date was the piece about Geneva talks posted?', 'date'],
    ['publication date of the article on the shelling?', 'date'],
    ['how old is this story about Ankara?', 'date'],
  ])('reads %j as asking for the %s', (question, field) => {
    expect(metadataQuestion(question)?.field).toBe(field);
  });

  it.each([
    'How many US troops are in Syria?',
    'Who wrote the letter to Congress about the withdrawal?',
    'Who wrote that it is difficult to define civil disobedience?',
    'who reported the attack on the convoy?',
    'When did Trump announce the pullout?',
    'What organization runs the satellite that measured the dust?',
    'To which year is the earliest known piece of English silver dated?',
    'Where did the earliest item in the glass collection come from?',
    'What publication printed that the wealthiest 1% have more money?',
    'In the ACLU author’s five-minute browsing test, what data was sent to Facebook?',
    'who is maria zakharova',
  ])('leaves %j to the passages', (question) => {
    expect(metadataQuestion(question)).toBeNull();
  });

  it('keeps what the article is about as the topic, without the metadata wording', () => {
    const asked = metadataQuestion('Who wrote the Breitbart piece about Snopes fact-checker David Emery?');
    expect(asked?.topic).toContain('Breitbart');
    expect(asked?.topic).toContain('Snopes fact-checker David Emery');
    expect(asked?.topic).not.toMatch(/\bwrote\b|\bpiece\b/i);
  });

  it('notes whose piece the question says it is', () => {
    expect(metadataQuestion("When was Thoreau's essay published?")?.possessor).toBe('Thoreau');
    expect(metadataQuestion('When was the essay published?')?.possessor).toBeUndefined();
  });
});

describe('sources named in a question', () => {
  const newsweek = { outlet: 'Newsweek', url: 'http://www.newsweek.com/russia-756463' };
  it('knows an article by its outlet and by its site name', () => {
    expect(sourceNames(newsweek)).toEqual(['newsweek', 'newsweek']);
    expect(sourceNames({ url: 'https://www.bbc.co.uk/news/x' })).toEqual(['bbc']);
    expect(sourceNames({ url: 'http://www.heraldsun.com.au/news/opinion/x' })).toEqual(['heraldsun']);
  });

  it('takes the site of a subdomain, not the subdomain: money.cnn.com is CNN, not "money"', () => {
    const cnnMoney = { outlet: 'CNNMoney', url: 'http://money.cnn.com/2016/02/01/news/economy/poverty/index.html' };
    expect(sourceNames(cnnMoney)).toEqual(['cnnmoney', 'cnn']);
    expect(mentionsSource('what share of the money people need do the programs cover?', cnnMoney)).toBe(false);
    expect(mentionsSource('who wrote the CNN piece on poverty?', cnnMoney)).toBe(true);
    expect(mentionsSource('who wrote the Newsweek article?', newsweek)).toBe(true);
    expect(mentionsSource('who wrote the washingtonpost.com piece?', { url: 'https://www.washingtonpost.com/a' })).toBe(true);
    expect(mentionsSource('Which outlet said Press TV was wrong?', { outlet: 'Press TV' })).toBe(true);
    expect(mentionsSource('who wrote the article on the press', { outlet: 'Press TV' })).toBe(false);
    expect(mentionsSource('anything', { outlet: undefined, url: 'not a link' })).toBe(false);
  });

  it('says plainly when the article lacks the field', () => {
    expect(describeFact('byline', 'Jane Doe')).toBe('Written by Jane Doe.');
    expect(describeFact('byline', null)).toMatch(/does not name its author/);
    expect(describeFact('outlet', null)).toMatch(/does not name the outlet/);
    expect(describeFact('date', null)).toMatch(/no date/);
  });
});

function library() {
  return buildMemoryIndex(
    [
      makeArticle(
        'oil.txt',
        [
          'Oil fields in eastern Syria are held by Kurdish-led militias backed by Washington.',
          'The militias sell crude to traders across the border, residents said.',
          'Jane Doe is a correspondent covering the Middle East.',
        ],
        {
          title: 'Who holds the oil fields',
          outlet: 'The Daily Example',
          byline: 'Jane Doe and Sam Roe',
          date: '2019-03-02',
          url: 'https://www.dailyexample.com/oil',
        },
      ),
      makeArticle('shelling.txt', ['Turkey shelled positions near the Syrian border town on Sunday, officials in Ankara said.'], {
        title: 'Border shelling',
        outlet: 'Other Outlet',
      }),
      makeArticle('shelling-2.txt', ['Officials in Ankara said the shelling of the border town would go on.'], {
        title: 'More shelling',
        outlet: 'Daily Example',
        url: 'https://www.dailyexample.com/shelling',
      }),
    ],
    null,
  );
}

describe('metadata answers', () => {
  it('answers who wrote a piece from its byline, with the passage that names the author first', async () => {
    const answer = await answerQuestion('Who wrote the article about the oil fields held by militias?', {
      index: await library(),
      embedder: null,
    });
    expect(answer.answered).toBe(true);
    expect(answer.fact).toMatchObject({ field: 'byline', value: 'Jane Doe and Sam Roe', text: 'Written by Jane Doe and Sam Roe.' });
    expect(answer.fact?.article.file).toBe('oil.txt');
    expect(answer.results[0]?.article.file).toBe('oil.txt');
    expect(answer.results[0]?.quote).toBe('Jane Doe is a correspondent covering the Middle East.');
  });

  it('answers the outlet and the date, and says when the article has no date', async () => {
    const index = await library();
    const outlet = await answerQuestion('Which outlet ran the story on oil fields in eastern Syria?', { index, embedder: null });
    expect(outlet.fact).toMatchObject({ field: 'outlet', value: 'The Daily Example' });
    const date = await answerQuestion('When was the piece about Turkey shelling the border town published?', { index, embedder: null });
    expect(date.fact).toMatchObject({ field: 'date', value: null, text: 'The article carries no date.' });
    expect(date.fact?.article.file).toBe('shelling.txt');
  });

  it('prefers the article of the outlet the question names', async () => {
    const answer = await answerQuestion('When was the dailyexample.com story about the shelling published?', {
      index: await library(),
      embedder: null,
    });
    expect(answer.fact?.article.file).toBe('shelling-2.txt');
    expect(answer.results[0]?.article.file).toBe('shelling-2.txt');
  });

  it('asks which article is meant when the question does not say', async () => {
    const answer = await answerQuestion('who wrote it?', { index: await library(), embedder: null });
    expect(answer.answered).toBe(false);
    expect(answer.fact).toBeUndefined();
    expect(answer.notice).toMatch(/Which article do you mean/);
  });

  it('asks which one when the question names only an outlet that ran several of the articles', async () => {
    const answer = await answerQuestion('When was the Daily Example article published?', { index: await library(), embedder: null });
    expect(answer.answered).toBe(false);
    expect(answer.notice).toMatch(
      /^2 articles are from The Daily Example: “Who holds the oil fields”, “More shelling”\. Which one do you mean\?/,
    );
  });

  it('answers a piece in the story from the passages, not from the fields', async () => {
    const answer = await answerQuestion("When was Thoreau's essay published?", { index: await library(), embedder: null });
    expect(answer.fact).toBeUndefined();
  });

  it('abstains, with no fact, when no article matches the topic', async () => {
    const answer = await answerQuestion('Who wrote the article about the Winter Olympics?', { index: await library(), embedder: null });
    expect(answer.answered).toBe(false);
    expect(answer.fact).toBeUndefined();
  });
});
