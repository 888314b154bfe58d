/**
 * The real bot at Discord's limits, through REST against the fake (which checks every request against
 * Discord's API description and documented limits, and fails the test on a violation when it closes):
 * a library of articles with over-long headlines, outlets, bylines, links and paragraphs, so that
 * answers, listings and autocomplete come out as large as the bot ever makes them.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { InteractionResponseType } from 'discord.js';
import type { APIEmbed, APIInteractionResponse, Client, RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord.js';
import { createBot } from '../../src/discord/bot.js';
import { DISCORD_LIMITS } from '../../src/discord/render/fit.js';
import { buildMemoryIndex, type MemoryIndex } from '../../src/index/memory.js';
import { createFakeEmbedder, makeArticle } from '../helpers.js';
import { embedTextLength } from '../support/discord-limits.js';
import { isRequest, loginTestClient, startFakeDiscord, type FakeDiscord, type InteractionHandle } from '../support/fake-discord.js';
import type { LogLine } from './harness.js';

const ARTICLES = 30;
const embedder = createFakeEmbedder();
let index: MemoryIndex;

/** `text` repeated and cut to exactly `length` characters. */
const filled = (text: string, length: number) => text.repeat(Math.ceil(length / text.length)).slice(0, length);

const SENTENCES = [
  'US troops deployed in eastern Syria along the Euphrates will not leave soon, the Pentagon said, as American forces guard the oil fields.',
  'Russian diplomats in Moscow said the American military contingent in Syria has no mandate, and the Kremlin asked Washington to withdraw.',
  'Soldiers of the army stationed near Damascus and the Syrian border told visiting envoys that the troops expect to stay through the winter.',
];

/** A made-up word of its own for every number, so that each article says something different. */
function pseudoWord(n: number): string {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'du', 'fo', 'gi'];
  return [0, 1, 2, 3].map((k) => syllables[Math.floor(n / syllables.length ** k) % syllables.length]).join('');
}

/**
 * Paragraphs thick with the question's words, each sentence with names of its own: quotes come out at
 * their longest (450 characters), and no two articles' quotes are merged as one statement.
 */
function paragraphsOf(article: number): string[] {
  return Array.from({ length: 4 }, (_, p) =>
    [0, 1, 2, 0, 1]
      .map((s, k) => {
        const names = Array.from({ length: 8 }, (_, w) => pseudoWord(article * 400 + p * 50 + k * 10 + w)).join(', ');
        return `${SENTENCES[(s + p + article) % 3]!.slice(0, -1)}, according to ${names}.`;
      })
      .join(' '),
  );
}

beforeAll(async () => {
  const articles = Array.from({ length: ARTICLES }, (_, i) => {
    const paragraphs = paragraphsOf(i);
    // Article 0 has everything at its longest, for /article; the others have short outlets and links,
    // so that /sources fields are small and the listing is cut close to the limit.
    // Some file names are too long for an autocomplete value, so those choices carry a hash.
    const file = i % 3 === 0 ? `${filled(`long-file-name-${i}-`, 140)}.txt` : `article-${String(i).padStart(2, '0')}.txt`;
    return makeArticle(file, paragraphs, {
      title: filled(`Headline ${i}: US troops in Syria and the Russian ministry, a story told at great length `, 300),
      outlet: filled(`Outlet ${i} Syria Daily `, i === 0 ? 900 : 40),
      byline: filled(`By a reporter with a very long name ${i} `, i === 0 ? 1100 : 300),
      date: `2018-01-${String((i % 28) + 1).padStart(2, '0')}`,
      url: `https://news.example.com/${filled(`syria-troops-${i}-`, i === 0 ? 400 : 100)}`,
    });
  });
  index = await buildMemoryIndex(articles, embedder);
});

let fake: FakeDiscord | undefined;
let client: Client | undefined;
let logs: LogLine[] = [];

/** Stops the bot, then the fake, which throws if any request broke Discord's API description or a documented limit. */
async function stop(): Promise<void> {
  const [running, discord] = [client, fake];
  client = undefined;
  fake = undefined;
  await running?.destroy();
  await discord?.close();
  expect(logs.filter((line) => line.level >= 50)).toEqual([]);
}

afterEach(stop);

async function start(options: { notice?: string; sourcesPageSize?: number } = {}): Promise<FakeDiscord> {
  fake = await startFakeDiscord();
  logs = [];
  const bot = createBot({
    library: { index, embedder, notice: options.notice },
    config: { discord: { answerChannelIds: [] }, feedbackFile: '/nonexistent/feedback.jsonl' },
    logger: pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
    sourcesPageSize: options.sourcesPageSize,
    clientOptions: { rest: { api: fake.restUrl }, waitGuildTimeout: 200 },
  });
  client = await loginTestClient(bot, fake);
  return fake;
}

async function callbackOf(discord: FakeDiscord, handle: InteractionHandle) {
  const callback = await discord.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath), 3_000);
  expect(callback.status).toBeLessThan(300);
  return callback.body;
}

function messageData(body: APIInteractionResponse): { content?: string; embeds?: APIEmbed[]; components?: unknown[] } {
  return 'data' in body && body.data && !('choices' in body.data) ? (body.data as ReturnType<typeof messageData>) : {};
}

function choicesOf(body: APIInteractionResponse): Array<{ name: string; value: string }> {
  expect(body.type).toBe(InteractionResponseType.ApplicationCommandAutocompleteResult);
  return ('data' in body && body.data && 'choices' in body.data ? body.data.choices : []) as Array<{ name: string; value: string }>;
}

describe('answers at the limits', () => {
  it('/ask with five long results: the description as long as Discord allows; with a long notice the message still fits', async () => {
    // A question longer than an embed title, in the articles' own words, so the answer is confident.
    const question = `${SENTENCES[0]} ${SENTENCES[1]}`;
    const askAndWait = async (discord: FakeDiscord) => {
      const handle = discord.chatInputCommand('ask', { question, results: 5 });
      await callbackOf(discord, handle);
      const edit = await discord.waitForRequest<RESTPatchAPIWebhookWithTokenMessageJSONBody>(
        isRequest('PATCH', handle.originalPath),
        3_000,
      );
      expect(edit.status).toBe(200);
      return edit.body;
    };

    const full = await askAndWait(await start());
    const embed = full.embeds?.[0];
    expect(embed?.title).toHaveLength(DISCORD_LIMITS.embedTitle);
    expect(embed?.description?.length).toBeGreaterThan(DISCORD_LIMITS.embedDescription - 100);
    expect(embed?.description?.length).toBeLessThanOrEqual(DISCORD_LIMITS.embedDescription);
    expect(embed?.description?.match(/^\*\*\d\.\*\*/gm)?.length).toBeGreaterThanOrEqual(3);

    // The bot budgets content and embeds together: next to a notice of almost 2,000 characters the
    // description gives way, and the message as a whole is just under 6,000.
    await stop();
    const notice = filled('This library is searched by keywords only while the model loads; answers may be weaker. ', 1990);
    const squeezed = await askAndWait(await start({ notice }));
    const content = squeezed.content ?? '';
    expect(content.length).toBeGreaterThan(1900);
    expect(content.length).toBeLessThanOrEqual(DISCORD_LIMITS.content);
    const total = content.length + embedTextLength(squeezed.embeds);
    expect(total).toBeGreaterThan(5_900);
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.messageTotal);
  });

  it('/sources with 25 long entries a page: fields are dropped until the embed is just under 6,000 characters', async () => {
    const discord = await start({ sourcesPageSize: 25 });
    const body = await callbackOf(discord, discord.chatInputCommand('sources'));
    const embeds = messageData(body).embeds ?? [];

    const fields = embeds[0]?.fields ?? [];
    expect(fields.length).toBeGreaterThan(3);
    expect(fields.length).toBeLessThan(25);
    const total = embedTextLength(embeds);
    const largestField = Math.max(...fields.map((field) => field.name.length + field.value.length));
    expect(total).toBeLessThanOrEqual(DISCORD_LIMITS.messageTotal);
    // Only as many fields went as had to: the embed is within one field of the limit.
    expect(total).toBeGreaterThan(DISCORD_LIMITS.messageTotal - largestField);
  });

  it('/article with a long headline, outlet, byline and link stays within every limit', async () => {
    const discord = await start();
    const article = [...index.articles.values()].find((record) => (record.outlet?.length ?? 0) > 500)!;
    const body = await callbackOf(discord, discord.chatInputCommand('article', { title: article.file }));
    const embed = messageData(body).embeds?.[0];

    expect(embed?.title).toHaveLength(DISCORD_LIMITS.embedTitle);
    expect(embed?.fields?.find((field) => field.name === 'Byline')?.value).toHaveLength(DISCORD_LIMITS.fieldValue);
    expect(embed?.fields?.find((field) => field.name === 'Outlet')?.value.length).toBeGreaterThan(850);
    expect(embedTextLength([embed])).toBeGreaterThan(4_500);
  });
});

describe('autocomplete at the limits', () => {
  it('25 choices with 100-character names', async () => {
    const discord = await start();
    const choices = choicesOf(await callbackOf(discord, discord.autocomplete('article', { title: 'headline' }, 'title')));

    expect(choices).toHaveLength(DISCORD_LIMITS.choices);
    for (const choice of choices) {
      expect(choice.name).toHaveLength(DISCORD_LIMITS.choiceName);
      expect(choice.value.length).toBeLessThanOrEqual(DISCORD_LIMITS.choiceValue);
    }
    expect(choices.some((choice) => choice.value.startsWith('sha:'))).toBe(true);
  });

  it('no match: an empty list of choices', async () => {
    const discord = await start();
    const choices = choicesOf(await callbackOf(discord, discord.autocomplete('article', { title: 'zzzz quux' }, 'title')));
    expect(choices).toEqual([]);
  });
});
