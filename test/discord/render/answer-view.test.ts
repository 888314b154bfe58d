/** render.ts on its own: Discord's limits, escaping and mentions, whatever the input. */
import { describe, expect, it } from 'vitest';
import type { APIEmbed } from 'discord.js';
import type { Answer, AnswerResult } from '../../../src/retrieval/answer.js';
import { renderAnswer, renderQuote } from '../../../src/discord/render/answer-view.js';
import { hasLiveMention } from '../harness.js';
import {
  DISCORD_LIMITS,
  fit,
  forChoices,
  forEdit,
  forInteraction,
  forReply,
  type ButtonSpec,
  type FittedMessage,
} from '../../../src/discord/render/fit.js';
import { clipMarkdown } from '../../../src/discord/render/text.js';
import { escapeText } from '../../../src/discord/render/escape.js';
import { renderArticle, renderContext, renderSources } from '../../../src/discord/render/catalog-views.js';

function result(overrides: Partial<AnswerResult> = {}, rank = 1): AnswerResult {
  const quote = overrides.quote ?? 'Washington has deployed around 2,000 troops to Syria.';
  return {
    rank,
    score: 2.1,
    confidence: 'high',
    article: {
      file: `00${rank}_seed.txt`,
      title: 'Russia Tells U.S. Military to Get Out of Syria',
      outlet: 'Newsweek',
      byline: 'John Haltiwanger',
      date: '2017-12-22',
      age: null,
      url: 'http://www.newsweek.com/russia-tells-us-military-get-out-syria-756463',
    },
    paragraph: 3,
    passageId: `00${rank}_seed.txt#3`,
    passage: quote,
    quote,
    link: null,
    highlights: [],
    corroboratedBy: [],
    ...overrides,
  };
}

function answer(results: AnswerResult[], overrides: Partial<Answer> = {}): Answer {
  return { question: 'how many US troops are in Syria?', mode: 'hybrid', answered: true, results, ...overrides };
}

/** Checks every limit of a fitted message, whatever produced it. */
function expectWithinLimits(message: FittedMessage): void {
  const L = DISCORD_LIMITS;
  expect(message.content?.length ?? 0).toBeLessThanOrEqual(L.content);
  expect(message.embeds.length).toBeLessThanOrEqual(L.embedsPerMessage);
  let total = message.content?.length ?? 0;
  for (const embed of message.embeds as APIEmbed[]) {
    expect(embed.title?.length ?? 0).toBeLessThanOrEqual(L.embedTitle);
    expect(embed.description?.length ?? 0).toBeLessThanOrEqual(L.embedDescription);
    expect(embed.footer?.text.length ?? 0).toBeLessThanOrEqual(L.footerText);
    expect((embed.fields ?? []).length).toBeLessThanOrEqual(L.embedFields);
    for (const field of embed.fields ?? []) {
      expect(field.name.length).toBeGreaterThan(0);
      expect(field.name.length).toBeLessThanOrEqual(L.fieldName);
      expect(field.value.length).toBeGreaterThan(0);
      expect(field.value.length).toBeLessThanOrEqual(L.fieldValue);
      total += field.name.length + field.value.length;
    }
    total +=
      (embed.title?.length ?? 0) + (embed.description?.length ?? 0) + (embed.footer?.text.length ?? 0) + (embed.author?.name.length ?? 0);
  }
  expect(total).toBeLessThanOrEqual(L.messageTotal);
  expect(message.components.length).toBeLessThanOrEqual(L.actionRows);
  const ids = new Set<string>();
  for (const row of message.components) {
    expect(row.components.length).toBeLessThanOrEqual(L.buttonsPerRow);
    for (const button of row.components) {
      expect(button.label?.length ?? 0).toBeLessThanOrEqual(L.buttonLabel);
      expect(button.custom_id.length).toBeLessThanOrEqual(L.customId);
      expect(ids.has(button.custom_id)).toBe(false);
      ids.add(button.custom_id);
    }
  }
}

describe('renderAnswer', () => {
  it('block-quotes the quote with matching words in bold, then the source line and confidence', () => {
    const quote = 'Washington has deployed around 2,000 troops to Syria.';
    const draft = renderAnswer(
      answer([
        result({
          quote,
          // "2,000" and "troops" (given twice, overlapping) are one bold phrase: only a space is between them.
          highlights: [
            { start: 37, end: 43 },
            { start: 31, end: 36 },
            { start: 38, end: 43 },
          ],
          corroboratedBy: [
            {
              file: 'x.txt',
              title: 'Other',
              outlet: 'Press TV',
              byline: null,
              date: null,
              age: null,
              url: null,
              paragraph: 2,
              quote: 'About 2,000 troops.',
            },
          ],
        }),
      ]),
    );
    const description = draft.embeds?.[0]?.description ?? '';
    expect(description).toBe(
      [
        '> Washington has deployed around **2,000 troops** to Syria.',
        '**1.** Russia Tells U.S. Military to Get Out of Syria — Newsweek, by John Haltiwanger, 2017-12-22, ¶3, [link](http://www.newsweek.com/russia-tells-us-military-get-out-syria-756463) · confidence: **high**',
        'Also reported by Press TV (¶2)',
      ].join('\n'),
    );
    expect(draft.embeds?.[0]?.title).toBe('how many US troops are in Syria?');
  });

  it('renders a quote full of Markdown and mentions literally', () => {
    const quote =
      '```js\nalert(1)``` **bold** > not a quote ||spoiler|| __u__ ~~s~~ [x](https://evil.example) -# small # big @everyone @here <@123456789012345678> <@&123456789012345678> <#123456789012345678> back\\slash';
    const rendered = renderQuote(quote, [{ start: 3, end: 5 }]);
    expect(rendered).not.toContain('```');
    expect(rendered).not.toMatch(/(?<!\\)\|\|/);
    expect(rendered).not.toMatch(/(?<!\\)~~/);
    expect(rendered).not.toMatch(/(?<![\\])\[x\]\(/);
    expect(hasLiveMention(rendered)).toBe(false);
    // Every line is a block quote line; none opens a nested quote or a heading.
    for (const line of rendered.split('\n')) expect(line).toMatch(/^> (?![>#]|-#)/);
    // The only unescaped bold markers are the highlight's.
    expect(rendered.match(/(?<!\\)\*\*/g)).toHaveLength(2);
    expect(rendered).toContain('**js**');
    expect(rendered).toContain('back\\\\slash');
  });

  it('escapes line-leading block quotes and subtext that discord.js leaves alone', () => {
    expect(escapeText('> quoted\n-# small\n>>> all')).toBe('\\> quoted\n\\-# small\n\\>>> all');
  });

  it('merges touching highlights so bold markers never abut, but not across punctuation', () => {
    expect(
      renderQuote('2,000 troops', [
        { start: 0, end: 5 },
        { start: 5, end: 12 },
      ]),
    ).toBe('> **2,000 troops**');
    expect(
      renderQuote('Syria, troops', [
        { start: 0, end: 5 },
        { start: 7, end: 13 },
      ]),
    ).toBe('> **Syria**, **troops**');
  });

  it('escapes long text piecewise exactly like escapeMarkdown, and fast', () => {
    const nasty = '~~strike~~ ||spoiler|| **bold** __under__ `code` ```block``` *it* _it_ https://x.example/a_b_c ';
    const long = nasty.repeat(200);
    const started = performance.now();
    const escaped = escapeText(long);
    expect(performance.now() - started).toBeLessThan(200);
    expect(escaped).toBe(escapeText(nasty).repeat(200));
    expect(escaped).not.toMatch(/(?<!\\)(~~|\|\||\*\*|__|`)/);
  });

  it('keeps a 10,000-character quote within the description limit, cut at a word with an ellipsis', () => {
    const long = `${'the troops stayed in Syria '.repeat(380)}end.`;
    expect(long.length).toBeGreaterThan(10_000);
    const fitted = fit(renderAnswer(answer([result({ quote: long, highlights: [{ start: 4, end: 10 }] })])));
    expectWithinLimits(fitted);
    const description = fitted.embeds[0]?.description ?? '';
    expect(description).toMatch(/^> the \*\*troops\*\* stayed/);
    expect(description).toMatch(/…\n\*\*1\.\*\* Russia Tells/);
    expect(description).toContain('confidence: **high**');
  });

  it('keeps 30 results within every limit and says how many were left out', () => {
    const results = Array.from({ length: 30 }, (_, index) =>
      result(
        {
          quote: `Quote number ${index + 1} ${'with many words about troops '.repeat(20)}`,
          article: {
            file: `${index}.txt`,
            title: 'T'.repeat(300),
            outlet: 'O'.repeat(300),
            byline: null,
            date: null,
            age: null,
            url: null,
          },
        },
        index + 1,
      ),
    );
    const fitted = fit(renderAnswer(answer(results)));
    expectWithinLimits(fitted);
    const description = fitted.embeds[0]?.description ?? '';
    expect(description).toMatch(/…and \d+ more results not shown\.$/);
    expect(description).toContain('**1.** ');
    // Long headlines are cut in the source line.
    expect(description).not.toContain('T'.repeat(200));
  });

  it('says "no confident match" and lists the closest articles without quoting them', () => {
    const draft = renderAnswer(
      answer(
        [
          result({}, 1),
          result({ article: { file: 'b.txt', title: 'Another', outlet: null, byline: null, date: null, age: null, url: null } }, 2),
        ],
        {
          answered: false,
        },
      ),
    );
    const description = draft.embeds?.[0]?.description ?? '';
    expect(description).toMatch(/^No confident match/);
    expect(description).toContain('**2.** Another — unknown outlet, undated, ¶3');
    expect(description).not.toMatch(/^> /m);
  });

  it('shows a notice alone when the question could not be searched', () => {
    const draft = renderAnswer(answer([], { answered: false, notice: 'The question is empty.' }));
    expect(draft).toEqual({ content: '⚠️ The question is empty.', rows: undefined });
  });

  it('escapes the echoed question in the title', () => {
    const draft = renderAnswer(answer([result()], { question: '**why** @everyone <@123456789012345678> ' + 'x'.repeat(400) }));
    const title = fit(draft).embeds[0]?.title ?? '';
    expect(title.length).toBeLessThanOrEqual(256);
    expect(title).toMatch(/^\\\*\\\*why\\\*\\\* @\u200beveryone <@\u200b1234/);
  });
});

describe('fit', () => {
  it('brings any draft within every Discord limit', () => {
    const bigEmbed = (index: number): APIEmbed => ({
      title: `title ${index} ${'t'.repeat(400)}`,
      description: 'd'.repeat(5_000),
      fields: Array.from({ length: 30 }, (_, field) => ({ name: `n${field}${'n'.repeat(300)}`, value: 'v'.repeat(2_000) })),
      footer: { text: 'f'.repeat(3_000) },
      author: { name: 'a'.repeat(300) },
    });
    const button = (id: string, label = 'L'.repeat(200)): ButtonSpec => ({ customId: id, label });
    const fitted = fit({
      content: 'c'.repeat(5_000),
      embeds: Array.from({ length: 12 }, (_, index) => bigEmbed(index)),
      rows: Array.from({ length: 7 }, (_, row) => Array.from({ length: 7 }, (_, index) => button(`id-${row}-${index}`))).concat([
        [button('id-0-0'), button('x'.repeat(101))],
      ]),
    });
    expectWithinLimits(fitted);
    expect(fitted.content).toHaveLength(2_000);
    expect(fitted.content?.endsWith('…')).toBe(true);
  });

  it('never cuts Markdown into a dangling escape or an open bold', () => {
    expect(clipMarkdown('abc\\*def', 5)).toBe('abc…');
    expect(clipMarkdown('**bold text here** rest', 10)).toBe('**bold **…');
    expect(clipMarkdown('😀😀😀', 4)).toBe('😀…');
  });

  it('replaces an empty draft with something Discord accepts', () => {
    expect(fit({}).content).toBe('(nothing to show)');
  });

  it('drops an embed URL Discord would refuse', () => {
    expect(fit({ embeds: [{ title: 't', url: 'javascript:alert(1)' }] }).embeds[0]).toEqual({ title: 't' });
  });
});

describe('outputs', () => {
  it('every send carries allowedMentions parse []; replies also repliedUser false and failIfNotExists false', () => {
    expect(forReply({ content: 'x' })).toMatchObject({ allowedMentions: { parse: [], repliedUser: false }, failIfNotExists: false });
    expect(forInteraction({ content: 'x' })).toEqual({ content: 'x', embeds: [], components: [], allowedMentions: { parse: [] } });
    expect(forInteraction({ content: 'x' }, { ephemeral: true })).toMatchObject({ flags: 64, allowedMentions: { parse: [] } });
    expect(forEdit({ embeds: [{ title: 't' }] })).toMatchObject({ content: '', allowedMentions: { parse: [] } });
  });

  it('autocomplete: 50 titles of 300 characters → 25 choices with names of at most 100', () => {
    const choices = forChoices(
      Array.from({ length: 50 }, (_, index) => ({ name: `${index} ${'headline '.repeat(34)}`, value: `file-${index}.txt` })),
    );
    expect(choices).toHaveLength(25);
    for (const choice of choices) {
      expect(choice.name.length).toBeGreaterThan(0);
      expect(choice.name.length).toBeLessThanOrEqual(100);
      expect(choice.name.endsWith('…')).toBe(true);
    }
    expect(
      forChoices([
        { name: 'x', value: 'v'.repeat(101) },
        { name: '   ', value: 'ok' },
      ]),
    ).toEqual([{ name: 'ok', value: 'ok' }]);
  });
});

describe('listings', () => {
  const entries = Array.from({ length: 23 }, (_, index) => ({
    file: `${index}.txt`,
    title: `Headline ${index + 1} @everyone`,
    outlet: 'Press TV',
    passages: index,
    url: index === 0 ? 'https://example.com/a(b)' : undefined,
  }));

  it('pages /sources and clamps the page', () => {
    const draft = renderSources(entries, { page: 99, pageSize: 10, pageId: (page) => `p:${page}` });
    const fitted = fit(draft);
    expectWithinLimits(fitted);
    expect(fitted.embeds[0]?.fields).toHaveLength(3);
    expect(fitted.embeds[0]?.footer?.text).toMatch(/^Page 3 of 3/);
    expect(fitted.components[0]?.components.map((button) => [button.custom_id, button.disabled ?? false])).toEqual([
      ['p:1', false],
      ['p:3', true],
    ]);
    expect(hasLiveMention(JSON.stringify(fitted))).toBe(false);
    const first = fit(renderSources(entries, { page: 0, pageSize: 10, pageId: String }));
    expect(first.embeds[0]?.fields?.[0]?.value).toContain('[link](https://example.com/a%28b%29)');
  });

  it('/article and Context stay within limits for huge paragraphs', () => {
    const paragraphs = [1, 2, 3].map((number) => ({ number, text: `Paragraph ${number} ${'words '.repeat(2_000)}` }));
    const article = {
      file: 'a.txt',
      title: 'H'.repeat(300),
      outlet: 'Newsweek',
      date: '2017-12-22',
      age: null,
      url: 'http://www.newsweek.com/x',
      paragraphCount: 40,
    };
    expectWithinLimits(fit(renderArticle(article, paragraphs)));
    const context = fit(renderContext(article, paragraphs, 2));
    expectWithinLimits(context);
    expect(context.embeds[0]?.description).toMatch(/^\*\*¶1\*\* Paragraph 1/);
    expect(context.embeds[0]?.description).toMatch(/\n> \*\*¶2\*\* Paragraph 2/);
  });
});

describe('renderAnswer with a metadata fact', () => {
  const article = result().article;
  it('leads with the fact in bold and the article it is read from, then the supporting quotes', () => {
    const draft = renderAnswer(
      answer([result()], {
        question: 'who wrote the newsweek article',
        fact: { field: 'byline', value: 'John Haltiwanger', text: 'Written by John Haltiwanger.', article },
      }),
    );
    const description = draft.embeds?.[0]?.description ?? '';
    expect(
      description.startsWith(
        '**Written by John Haltiwanger.**\nRussia Tells U.S. Military to Get Out of Syria — Newsweek, 2017-12-22, [link](',
      ),
    ).toBe(true);
    expect(description).toContain('From the article:');
    expect(description.indexOf('From the article:')).toBeLessThan(description.indexOf('> Washington has deployed'));
    expectWithinLimits(fit(draft));
  });

  it('escapes a hostile byline and keeps the description within Discord’s limit', () => {
    const value = `@everyone **bold** ${'x'.repeat(5000)}`;
    const draft = renderAnswer(
      answer(
        Array.from({ length: 10 }, (_, i) => result({ quote: 'q '.repeat(600) }, i + 1)),
        {
          fact: { field: 'byline', value, text: `Written by ${value}.`, article: { ...article, title: 't'.repeat(4000) } },
        },
      ),
    );
    const message = fit(draft);
    expectWithinLimits(message);
    expect(hasLiveMention(JSON.stringify(message))).toBe(false);
  });
});
