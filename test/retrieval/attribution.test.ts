import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { quoteWithSpeaker, sentenceSpeaker, speakerOf, type PrecedingText } from '../../src/retrieval/attribution.js';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { buildMemoryIndex } from '../../src/index/memory.js';
import { readAttributionLabels, scoreAttribution } from '../../src/eval/attribution.js';
import { readDataset } from '../../src/eval/datasets.js';
import { articlePassages } from '../../src/ingest/passages.js';
import { answerJson } from '../../src/app/answer-json.js';
import { renderAnswerText } from '../../src/app/render-text.js';
import { renderAnswer } from '../../src/discord/render/answer-view.js';
import { readSeedArticles } from '../../src/ingest/seed-files.js';
import { makeArticle, REPO_ROOT, SEEDS_DIR } from '../helpers.js';

/** Paragraphs before a quote, nearest first, numbered from the quote's paragraph back. */
function before(quoteParagraph: number, ...paragraphs: string[]): PrecedingText[] {
  return paragraphs.map((text, i) => ({ text, paragraph: quoteParagraph - 1 - i }));
}

describe('sentenceSpeaker', () => {
  it.each([
    ['“We will stay,” he said.', 'reference', 'he'],
    ['She said she stayed up until 4 a.m.', 'reference', 'She'],
    ['“We are not withdrawing troops at this stage,” the official said.', 'reference', 'the official'],
    ['The Russian official stressed that the withdrawal would ensure sovereignty.', 'reference', 'The Russian official'],
    [
      '“I cannot share their confidence,” said the official representative of the Foreign Ministry earlier this month.',
      'reference',
      'the official representative of the Foreign Ministry',
    ],
    ["Russia's special envoy for Syria says he believes all troops will leave.", 'reference', "Russia's special envoy for Syria"],
  ])('%j refers to its speaker as %s %j', (sentence, kind, reference) => {
    expect(sentenceSpeaker(sentence)).toMatchObject({ kind, reference });
  });

  it.each([
    ['“It is temporary,” Alexander Lavrentiev said.', 'Alexander Lavrentiev'],
    ['“Everything else is getting squeezed,” said C. Eugene Steuerle, a fellow at the Urban Institute.', 'C. Eugene Steuerle'],
    ['“These concerns cannot be addressed,” says president David Weisbrot.', 'David Weisbrot'],
    ['Hicks, a Navy veteran herself and the wife of a sailor, said her intention was to honor the flag.', 'Hicks'],
    [
      'The official representative of the Russian Foreign Ministry, Maria Zakharova, said on Wednesday that no steps were taken.',
      'Maria Zakharova',
    ],
    ['On Friday, US Acting Assistant Secretary for Near East Asian Affairs Joey Hood said forces will stay.', 'Joey Hood'],
    ['The difference, Mr. Warner said, was that the economy was near the precipice then.', 'Mr. Warner'],
  ])('%j names %j', (sentence, name) => {
    expect(sentenceSpeaker(sentence)).toMatchObject({ kind: 'named', name });
  });

  it('takes an unnamed source for an unnamed speaker, and a group of people for no one in particular', () => {
    expect(sentenceSpeaker('Equipment was moved, an anonymous source told AFP news agency.')).toEqual({ kind: 'unnamed' });
    expect(sentenceSpeaker('Officials said the talks would resume.')).toEqual({ kind: 'unnamed' });
  });

  it('does not read "States" in "the United States" as a verb, nor a verb inside a quotation', () => {
    expect(sentenceSpeaker('The United States may arrive at a decision to leave.')).toBeNull();
    expect(sentenceSpeaker('He wrote “as the minister said, we stay” on the board.')).toMatchObject({ kind: 'reference', reference: 'He' });
  });

  it('does not take a thing for a speaker: "the coalition has confirmed", "the city believed"', () => {
    expect(sentenceSpeaker('The coalition has confirmed heavy air strikes.')).toBeNull();
    expect(sentenceSpeaker('Amid the chaos, the city believed itself to be under attack.')).toBeNull();
  });

  it('reads a quotation with no attribution as a bare one, where it opens or where it closes', () => {
    expect(sentenceSpeaker('“There is collective amnesia.”')).toEqual({ kind: 'bare', at: 0 });
    expect(sentenceSpeaker('It’s a train-wreck you can’t help but watch.”')).toEqual({ kind: 'bare', at: 0 });
  });
});

describe('speakerOf', () => {
  it('names "he" from the paragraph before, in the fullest form the article gave', () => {
    const quote = '"Soon, all these military contingencies will withdraw from the country,” he added.';
    const speaker = speakerOf(quote, before(3, '"We hope the presence is temporary," Alexander Lavrentiev said.'));
    expect(speaker).toEqual({ name: 'Alexander Lavrentiev', reference: 'he', at: quote.indexOf('he added'), paragraph: 2 });
  });

  it('follows a chain of references back to the name ("he" ← "the Russian official" ← "he" ← name)', () => {
    const speaker = speakerOf(
      'The looting is "absolutely unacceptable”, he said.',
      before(
        5,
        'The Russian official stressed that the withdrawal of foreign forces would ensure sovereignty.',
        '"Soon they will withdraw,” he added.',
        '"We hope it is temporary," Alexander Lavrentiev said.',
      ),
    );
    expect(speaker?.name).toBe('Alexander Lavrentiev');
    expect(speaker?.paragraph).toBe(2);
  });

  it('expands a surname to the full name given earlier: "Hicks" → "Vanessa Hicks"', () => {
    const speaker = speakerOf(
      'She said she stayed up until 4 a.m. to take down comments.',
      before(
        8,
        'Hicks said she was surprised when messages started to pop up.',
        'The photo went viral.',
        'Vanessa Hicks said she had no idea.',
      ),
    );
    expect(speaker?.name).toBe('Vanessa Hicks');
  });

  it('names no one where an unnamed source spoke last, though a name comes earlier', () => {
    const speaker = speakerOf(
      '“We are not withdrawing troops at this stage,” the official said.',
      before(
        6,
        'The US had begun withdrawing equipment, an anonymous source told AFP news agency.',
        'In December, US President Donald Trump announced the withdrawal.',
      ),
    );
    expect(speaker).toBeNull();
  });

  it('names no one when the quote names its own speaker, before or in the sentence', () => {
    const context = before(2, 'Sergei Lavrov spoke in Moscow.');
    expect(speakerOf('Lavrov, meanwhile, said he hoped it would become clearer.', context)).toBeNull();
    expect(speakerOf('“It is surprising,” Lavrov told reporters.', context)).toBeNull();
    expect(speakerOf('Troops arrived in the north on Tuesday.', context)).toBeNull();
  });

  it('does not reach further back than three paragraphs', () => {
    const context = before(
      6,
      'Talks went on.',
      'The border stayed closed.',
      'Prices rose.',
      'Nobody knew.',
      '“We stay,” Alexander Lavrentiev said.',
    );
    expect(speakerOf('“We will leave,” he said.', context)).toBeNull();
  });

  it('does not give "he" an organisation for a name', () => {
    expect(speakerOf('“We stay,” he said.', before(2, 'The Pentagon said it had no plans to withdraw.'))).toBeNull();
  });

  it('names a described speaker from the next paragraph when the article has not named them yet (a news lede)', () => {
    const speaker = speakerOf(
      "Russia's special envoy for Syria says he believes all foreign troops will soon withdraw.",
      [],
      [{ text: '"We hope the presence is temporary," Alexander Lavrentiev said.', paragraph: 2 }],
    );
    expect(speaker).toMatchObject({ name: 'Alexander Lavrentiev', reference: "Russia's special envoy for Syria", paragraph: 2 });
    // A pronoun never looks forward: "he" is someone already mentioned.
    expect(speakerOf('“We stay,” he said.', [], [{ text: '“We go,” Joey Hood said.', paragraph: 2 }])).toBeNull();
  });

  it('gives a bare quotation the speaker of the quotation before it, not a person it talks about', () => {
    const context = before(
      21,
      '“Leaders have taken risks,” Obama said in his speech. Palestinian Authority President Mahmoud Abbas “has put aside efforts.',
    );
    expect(speakerOf('Prime Minister Netanyahu has released prisoners.”', context)?.name).toBe('Obama');
  });
});

describe('quoteWithSpeaker', () => {
  it('puts the name in brackets after the reference and moves the highlights after it', () => {
    const quote = '“We stay,” he said of the troops.';
    const troops = quote.indexOf('troops');
    const shown = quoteWithSpeaker(quote, [{ start: troops, end: troops + 6 }], {
      name: 'Joey Hood',
      reference: 'he',
      at: quote.indexOf('he said'),
      paragraph: 2,
    });
    expect(shown.text).toBe('“We stay,” he [Joey Hood] said of the troops.');
    expect(shown.text.slice(shown.highlights[0]!.start, shown.highlights[0]!.end)).toBe('troops');
  });

  it('puts the name before a bare quotation, and leaves a quote without a speaker as it is', () => {
    expect(quoteWithSpeaker('“We stay.”', [], { name: 'Joey Hood', reference: '', at: 0, paragraph: 2 }).text).toBe(
      '[Joey Hood:] “We stay.”',
    );
    expect(quoteWithSpeaker('“We stay.”', [], undefined).text).toBe('“We stay.”');
  });
});

describe('speakers in answers', () => {
  const article = makeArticle(
    'envoy.txt',
    [
      "Russia's special envoy for Syria says he believes all foreign troops will soon withdraw.",
      '"We hope that the presence of foreign contingents is temporary," Alexander Lavrentiev said.',
      '"I think that the withdrawal of American soldiers from the Euphrates valley may take place at any time," he said.',
    ],
    { title: 'Envoy expects withdrawal', outlet: 'Example News', url: 'https://news.example/envoy' },
  );

  it('carries the speaker in the result, the JSON and every rendering, the quote itself verbatim', async () => {
    const index = await buildMemoryIndex([article], null);
    const answer = await answerQuestion('when may the withdrawal of American soldiers from the Euphrates valley happen?', {
      index,
      embedder: null,
      k: 1,
    });
    const [top] = answer.results;
    expect(top?.paragraph).toBe(3);
    expect(top?.quote).toBe(article.paragraphs[2]!.text);
    expect(top?.speaker).toMatchObject({ name: 'Alexander Lavrentiev', reference: 'he', paragraph: 2 });
    expect((answerJson(answer).results as Array<Record<string, unknown>>)[0]!.speaker).toMatchObject({ name: 'Alexander Lavrentiev' });
    expect(renderAnswerText(answer)).toContain('he [Alexander Lavrentiev] said');
    expect(JSON.stringify(renderAnswer(answer))).toContain('he [Alexander Lavrentiev] said');
  });
});

describe('the attribution check (eval/attribution.jsonl)', () => {
  const labelsFile = path.join(REPO_ROOT, 'eval/attribution.jsonl');
  const newsWeb = path.join(REPO_ROOT, '../shared/eval/news-web-dev');

  it('names no one wrongly over the seeds, and most speakers named elsewhere', async () => {
    const articles = await readSeedArticles(SEEDS_DIR, () => {});
    const score = scoreAttribution(
      articles.flatMap((one) => articlePassages(one)),
      await readAttributionLabels(labelsFile),
    );
    expect(score.checked).toBeGreaterThanOrEqual(25);
    expect(score.elsewhere.wrong + score.unnamed.wrong + score.inSentence.annotated).toBe(0);
    expect(score.elsewhere.right / score.elsewhere.total).toBeGreaterThanOrEqual(0.8);
  });

  it.skipIf(!existsSync(newsWeb))('names no one wrongly over the news-web pages', async () => {
    const { articles } = await readDataset(newsWeb, () => {});
    const score = scoreAttribution(
      articles.flatMap((one) => articlePassages(one)),
      await readAttributionLabels(labelsFile),
    );
    expect(score.checked).toBeGreaterThanOrEqual(70);
    expect(score.elsewhere.wrong + score.unnamed.wrong + score.inSentence.annotated).toBe(0);
    expect(score.elsewhere.right / score.elsewhere.total).toBeGreaterThanOrEqual(0.6);
  });
});
