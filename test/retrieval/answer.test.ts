import { describe, expect, it } from 'vitest';
import { answerQuestion, checkQuestion, lacksAskedNumber, MAX_QUESTION_CHARS, MAX_RESULTS } from '../../src/retrieval/answer.js';
import { createFakeEmbedder, makeArticle } from '../helpers.js';
import { buildMemoryIndex } from '../../src/index/memory.js';

function cleaned(raw: string): string {
  const result = checkQuestion(raw);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted, got: ${result.reason}`);
  return result.question;
}

function refused(raw: string): string {
  const result = checkQuestion(raw);
  if (result.ok) throw new Error(`expected ${JSON.stringify(raw)} to be refused, got: ${result.question}`);
  return result.reason;
}

describe('checkQuestion', () => {
  it('accepts a plain question unchanged', () => {
    expect(cleaned('How many US troops are in Syria?')).toBe('How many US troops are in Syria?');
  });

  it.each(['', '   ', '\n\t  \r\n', '\u200B\u200B'])('refuses an empty question (%j) and gives an example', (raw) => {
    expect(refused(raw)).toMatch(/empty.*How many/);
  });

  it('refuses 10,000 characters with a message that names the length and the limit', () => {
    const reason = refused('x'.repeat(10_000));
    expect(reason).toContain('10,000');
    expect(reason).toContain(MAX_QUESTION_CHARS.toLocaleString('en-US'));
    expect(reason).toMatch(/characters/);
  });

  it('accepts a question of exactly the maximum length', () => {
    const question = `${'word '.repeat(MAX_QUESTION_CHARS / 5 - 1)}last`;
    expect(question.length).toBe(MAX_QUESTION_CHARS - 1);
    expect(cleaned(question)).toBe(question);
  });

  it.each(['🤔', '🤔🔥🇺🇸', '?!?', '** __ ~~'])('refuses a question without words (%j)', (raw) => {
    expect(checkQuestion(raw).ok).toBe(false);
  });

  it('says "no words" for emoji only', () => {
    expect(refused('🤔🔥🇺🇸')).toMatch(/no words/);
  });

  it('removes user, role and channel mentions and @everyone/@here', () => {
    expect(cleaned('<@123456789012345678> how many troops are in Syria?')).toBe('how many troops are in Syria?');
    expect(cleaned('<@!123456789012345678> <@&223456789012345678> <#323456789012345678> troops in Syria')).toBe('troops in Syria');
    expect(cleaned('@everyone @here where are the troops')).toBe('where are the troops');
    expect(refused('<@123456789012345678>')).toMatch(/only mentions in it, no question/);
  });

  it('removes Markdown emphasis, code and spoiler markers', () => {
    expect(cleaned('how many **US troops** are in _Syria_ right now')).toBe('how many US troops are in Syria right now');
    expect(cleaned('what did `Lavrov` say about ||the base||')).toBe('what did Lavrov say about the base');
    expect(cleaned('> ## who is Zakharova')).toBe('who is Zakharova');
  });

  it('collapses whitespace and strips control and zero-width characters', () => {
    expect(cleaned('  where\n\n is \t the\u200B base\u0007  ')).toBe('where is the base');
  });

  it.each([
    ['Arabic', 'كم عدد القوات الأمريكية في سوريا؟'],
    ['Chinese', '美国在叙利亚有多少军队？'],
    ['Russian', 'Сколько американских военных в Сирии?'],
  ])('accepts a question in %s', (_name, question) => {
    expect(cleaned(question)).toBe(question);
  });
});

const PENTAGON = 'The Pentagon says about 2,000 US troops remain in Syria for now.';

function newsCorpus() {
  return [
    makeArticle(
      'one.txt',
      [
        'Russia demanded that American forces leave Syria, calling their presence unlawful.',
        PENTAGON,
        'Diplomats in Geneva will meet next month to discuss a constitution for the country.',
      ],
      { title: 'Russia wants US out', outlet: 'Outlet One', date: '2018-01-01', url: 'https://one.example/a' },
    ),
    makeArticle('two.txt', ['Oil fields in eastern Syria are held by Kurdish-led militias backed by Washington.', PENTAGON], {
      title: 'Oil fields',
      outlet: 'Outlet Two',
    }),
    makeArticle('three.txt', ['Turkey shelled positions near the Syrian border town on Sunday, officials in Ankara said.'], {
      title: 'Border shelling',
      outlet: 'Outlet Three',
    }),
  ];
}

describe('answerQuestion', () => {
  it('answers with a verbatim quote and its source', async () => {
    const index = await buildMemoryIndex(newsCorpus(), null);
    const answer = await answerQuestion('  How many US troops are in Syria?  ', { index, embedder: null });
    expect(answer.question).toBe('How many US troops are in Syria?');
    expect(answer.mode).toBe('lexical');
    expect(answer.answered).toBe(true);
    const top = answer.results[0]!;
    expect(top.rank).toBe(1);
    expect(top.quote).toBe(PENTAGON);
    expect(top.passage).toContain(top.quote);
    expect(top.article).toEqual({
      file: 'one.txt',
      title: 'Russia wants US out',
      outlet: 'Outlet One',
      byline: null,
      date: '2018-01-01',
      age: expect.stringMatching(/ years ago$/),
      url: 'https://one.example/a',
    });
    // The link opens the article at the quote.
    expect(top.link).toMatch(/^https:\/\/one\.example\/a#:~:text=/);
    expect(top.paragraph).toBe(2);
    expect(top.passageId).toBe('one.txt#2');
    expect(['high', 'medium']).toContain(top.confidence);
    for (const span of top.highlights) expect(span.end).toBeLessThanOrEqual(top.quote.length);
    expect(answer.results.map((r) => r.rank)).toEqual(answer.results.map((_, i) => i + 1));
  });

  it('shows the same sentence from two outlets once, with the other outlet in corroboratedBy', async () => {
    const index = await buildMemoryIndex(newsCorpus(), null);
    const answer = await answerQuestion('How many US troops remain in Syria?', { index, embedder: null, k: 5 });
    const withPentagon = answer.results.filter((result) => result.quote.includes('2,000'));
    expect(withPentagon).toHaveLength(1);
    const [result] = withPentagon;
    expect(result!.article.file).toBe('one.txt');
    expect(result!.corroboratedBy).toEqual([
      {
        file: 'two.txt',
        title: 'Oil fields',
        outlet: 'Outlet Two',
        byline: null,
        date: null,
        age: null,
        url: null,
        paragraph: 2,
        quote: PENTAGON,
      },
    ]);
    // Ranks stay consecutive after the merge.
    expect(answer.results.map((r) => r.rank)).toEqual(answer.results.map((_, i) => i + 1));
  });

  it('abstains on an off-topic question and lists each closest article once', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(newsCorpus(), embedder);
    const answer = await answerQuestion('What is the best recipe for chocolate cake with strawberries in Syria?', {
      index,
      embedder,
      k: 5,
    });
    expect(answer.mode).toBe('hybrid');
    expect(answer.answered).toBe(false);
    expect(answer.results.length).toBeGreaterThan(0);
    const files = answer.results.map((result) => result.article.file);
    expect(new Set(files).size).toBe(files.length);
    for (const result of answer.results) {
      expect(result.confidence).toBe('low');
      expect(result.passage).toContain(result.quote);
    }
  });

  it('declines a how-many question whose best passage holds no number, and answers the same passage asked another way', async () => {
    const index = await buildMemoryIndex(newsCorpus(), null);
    const counted = await answerQuestion('How many Kurdish-led militias hold the oil fields in eastern Syria?', { index, embedder: null });
    expect(counted.answered).toBe(false);
    expect(counted.results[0]?.article.file).toBe('two.txt');
    expect(counted.results[0]?.confidence).toBe('low');
    const which = await answerQuestion('Which Kurdish-led militias hold the oil fields in eastern Syria?', { index, embedder: null });
    expect(which.answered).toBe(true);
    expect(which.results[0]?.quote).toContain('Oil fields in eastern Syria are held by Kurdish-led militias');
  });

  it('answers a how-many question from the next passage that holds a number when the best one holds none', async () => {
    const bridge = makeArticle('bridge.txt', [
      'The city council voted on Monday to rebuild the old river bridge, which has been closed to traffic since the spring floods damaged its piers.',
      'The work will cost about 40 million euros and should take two years, the mayor said after the vote.',
    ]);
    const index = await buildMemoryIndex([...newsCorpus(), bridge], null);
    const answer = await answerQuestion('how much will the river bridge cost?', { index, embedder: null });
    expect(answer.answered).toBe(true);
    expect(answer.results[0]?.paragraph).toBe(2);
    expect(answer.results[0]?.quote).toContain('40 million euros');
    // Asked another way, the first paragraph stays first.
    const which = await answerQuestion('which river bridge was closed by the spring floods?', { index, embedder: null });
    expect(which.results[0]?.paragraph).toBe(1);
  });

  it('abstains with no results when nothing matches at all', async () => {
    const index = await buildMemoryIndex(newsCorpus(), null);
    const answer = await answerQuestion('Recipe for chocolate cake?', { index, embedder: null });
    expect(answer.answered).toBe(false);
    expect(answer.results).toEqual([]);
  });

  it('returns the refusal as a notice, without searching, for a question it cannot search', async () => {
    const embedder = createFakeEmbedder();
    const index = await buildMemoryIndex(newsCorpus(), embedder);
    const queries = () => embedder.calls.filter((call) => call.kind === 'query').length;
    const before = queries();
    const answer = await answerQuestion('🤔🤔', { index, embedder });
    expect(answer).toMatchObject({ answered: false, results: [], mode: 'hybrid' });
    expect(answer.notice).toMatch(/no words/);
    expect(queries()).toBe(before);
  });

  it('passes a caller notice on', async () => {
    const index = await buildMemoryIndex(newsCorpus(), null);
    const answer = await answerQuestion('How many US troops are in Syria?', { index, embedder: null, notice: 'lexical only' });
    expect(answer.notice).toBe('lexical only');
  });

  describe('k', () => {
    // Twelve different statements about troops (they share only that word), so nothing merges.
    const statements = [
      'Troops patrol the dusty roads around Hasakah at night.',
      'Armoured convoys carrying troops crossed from Iraq yesterday.',
      'Local farmers complain that troops trample their wheat.',
      'Engineers built new barracks where troops sleep in winter.',
      'A helicopter evacuated wounded troops after an ambush.',
      'Negotiators debated whether troops could guard the dam.',
      'Reporters filmed troops unloading crates of ammunition.',
      'Commanders rotated fresh troops into the desert outpost.',
      'Villagers offered bread and tea to passing troops.',
      'Satellite photos reveal troops digging trenches near Tanf.',
      'Doctors vaccinated troops against cholera last spring.',
      'Lawyers argued the troops lacked any parliamentary mandate.',
    ];
    const manyArticles = () => statements.map((text, i) => makeArticle(`p${String(i).padStart(2, '0')}.txt`, [text]));

    it.each([
      [undefined, 3],
      [0, 1],
      [-4, 1],
      [1, 1],
      [2.9, 2],
      [10, 10],
      [50, MAX_RESULTS],
    ])('k = %s gives %i results', async (k, count) => {
      const index = await buildMemoryIndex(manyArticles(), null);
      const answer = await answerQuestion('What do the troops do?', { index, embedder: null, k });
      expect(answer.results).toHaveLength(count);
    });
  });
});

describe('checkQuestion on hostile text', () => {
  it('keeps words apart that a control character separated, and drops invisible bidi and zero-width characters', () => {
    expect(checkQuestion('troops\u0000Syria')).toEqual({ ok: true, question: 'troops Syria' });
    expect(checkQuestion('troops\u0085Syria\u009B')).toEqual({ ok: true, question: 'troops Syria' });
    expect(checkQuestion('\u202Etroops\u202C in \u2066Syria\u2069\u200B?')).toEqual({ ok: true, question: 'troops in Syria?' });
  });

  it('tells a mention-only message from an empty one', () => {
    const mentions = checkQuestion('@everyone <@&123456789012345678>');
    expect(mentions.ok).toBe(false);
    expect(!mentions.ok && mentions.reason).toMatch(/only mentions/);
    const empty = checkQuestion('   ');
    expect(!empty.ok && empty.reason).toMatch(/question is empty/);
  });

  it('accepts exactly 1,000 characters and says so when refusing more', () => {
    expect(checkQuestion(`troops ${'a'.repeat(993)}`).ok).toBe(true);
    const long = checkQuestion('a'.repeat(1_001));
    expect(!long.ok && long.reason).toMatch(/1,001 characters long; please keep it to 1,000 or fewer/);
  });
});

describe('lacksAskedNumber', () => {
  it('is true only for a how-many or how-much question and a passage without a number or number word', () => {
    expect(lacksAskedNumber('How many troops are there?', { text: 'Troops are stationed near the border.' })).toBe(true);
    expect(lacksAskedNumber('how much did it cost', { text: 'It cost a fortune, officials said.' })).toBe(true);
    expect(lacksAskedNumber('How many troops are there?', { text: 'About 2,000 troops are stationed there.' })).toBe(false);
    expect(lacksAskedNumber('How many troops are there?', { text: 'Several hundred troops remain.' })).toBe(false);
    expect(lacksAskedNumber('Who sent the troops?', { text: 'Troops are stationed near the border.' })).toBe(false);
    expect(lacksAskedNumber('When did the troops arrive?', { text: 'Troops are stationed near the border.' })).toBe(false);
  });
});
