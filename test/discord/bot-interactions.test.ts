/**
 * Interactions: /ask, /sources, /article (with autocomplete), the "Find sources" context menu and the
 * buttons under answers, on the real bot and a real index through the fake Discord.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { InteractionResponseType, MessageFlags, RESTJSONErrorCodes } from 'discord.js';
import type { APIInteractionResponse, APIMessage, RESTPatchAPIWebhookWithTokenMessageJSONBody } from 'discord.js';
import type { FeedbackEntry } from '../../src/eval/feedback.js';
import { isRequest, waitUntil, type InteractionHandle, type RecordedRequest } from '../support/fake-discord.js';
import { customIds, hasLiveMention, useBotHarness, visibleText, type BotHarness } from './harness.js';
import type { Embedder } from '../../src/embedding/embedder.js';

const { library: testLibrary, setup } = useBotHarness();

type Callback = RecordedRequest<APIInteractionResponse>;
type Edit = RecordedRequest<RESTPatchAPIWebhookWithTokenMessageJSONBody>;

function callbackOf(h: BotHarness, handle: InteractionHandle): Promise<Callback> {
  return h.fake.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath), 3_000);
}

function editOf(h: BotHarness, handle: InteractionHandle): Promise<Edit> {
  return h.fake.waitForRequest<RESTPatchAPIWebhookWithTokenMessageJSONBody>(isRequest('PATCH', handle.originalPath), 3_000);
}

/** The data of a type 4 (reply) or 7 (update) callback. */
function callbackData(
  callback: Callback,
): Record<string, unknown> & { content?: string; flags?: number; embeds?: never[]; components?: unknown[] } {
  return ('data' in callback.body ? callback.body.data : {}) as ReturnType<typeof callbackData>;
}

/** Runs /ask and returns the deferral and the edit that carries the answer. */
async function ask(h: BotHarness, options: Record<string, string | number | boolean>) {
  const handle = h.fake.chatInputCommand('ask', options);
  const callback = await callbackOf(h, handle);
  const edit = await editOf(h, handle);
  return { handle, callback, edit, message: h.fake.getInteractionReply(handle) };
}

describe('/ask', () => {
  it('defers at once, then edits in the answer with quote, source and buttons', async () => {
    const h = await setup();
    const { callback, edit, message } = await ask(h, { question: 'how many US troops are in Syria?' });

    expect(callback.body.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect((callbackData(callback).flags ?? 0) & MessageFlags.Ephemeral).toBe(0);
    expect(callback.status).toBe(204);
    expect(edit.body.allowed_mentions).toEqual({ parse: [] });
    const embed = edit.body.embeds?.[0];
    expect(embed?.title).toBe('how many US troops are in Syria?');
    expect(embed?.description).toMatch(/^> .*2,000 .*\*\*troops\*\*/m);
    expect(embed?.description).toMatch(/\*\*1\.\*\* .+ — .+, (undated|\d{4}-\d{2}-\d{2}), ¶\d+/);
    expect(embed?.description?.match(/^\*\*\d\.\*\*/gm)).toHaveLength(3);
    expect(customIds(edit.body)).toEqual([
      expect.stringMatching(/^cb:more:/),
      expect.stringMatching(/^cb:vote:.+:up$/),
      expect.stringMatching(/^cb:vote:.+:down$/),
      expect.stringMatching(/^cb:ctx:\d+$/),
      expect.stringMatching(/^cb:ctx:\d+$/),
      expect.stringMatching(/^cb:ctx:\d+$/),
    ]);
    expect(((message?.flags ?? 0) & MessageFlags.Ephemeral) === 0).toBe(true);
  });

  it('private:true answers ephemerally (flags 64) and results:1 shows one result', async () => {
    const h = await setup();
    const { callback, edit, message } = await ask(h, { question: 'what did Zakharova say?', results: 1, private: true });
    expect(callback.body).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    expect(edit.body.embeds?.[0]?.description?.match(/^\*\*\d\.\*\*/gm)).toHaveLength(1);
    expect((message?.flags ?? 0) & MessageFlags.Ephemeral).toBe(MessageFlags.Ephemeral);
    expect(h.fake.messagesIn(h.fake.channelId)).toEqual([]);
  });

  it('refuses an empty or mention-only question at once, privately, pinging nobody', async () => {
    const h = await setup();
    const handle = h.fake.chatInputCommand('ask', { question: '@everyone <@&123456789012345678> ```' });
    const callback = await callbackOf(h, handle);
    expect(callback.body.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(callbackData(callback)).toMatchObject({
      content: expect.stringMatching(/question is empty/),
      flags: MessageFlags.Ephemeral,
      allowed_mentions: { parse: [] },
    });
  });

  it('abstains on an off-topic question and names the closest articles', async () => {
    const h = await setup();
    const { edit } = await ask(h, { question: 'who won the 2018 world cup final?' });
    const description = edit.body.embeds?.[0]?.description ?? '';
    expect(description).toMatch(/^No confident match/);
    expect(description.match(/^\*\*\d\.\*\* .+ — /gm)?.length).toBeGreaterThanOrEqual(1);
    expect(customIds(edit.body).every((id) => id.startsWith('cb:vote:'))).toBe(true);
  });

  it('holds the cooldown with an ephemeral note', async () => {
    const h = await setup();
    await ask(h, { question: 'how many troops are in Syria?' });
    const handle = h.fake.chatInputCommand('ask', { question: 'where did Lavrov speak?' });
    const callback = await callbackOf(h, handle);
    expect(callbackData(callback)).toMatchObject({
      content: expect.stringMatching(/Please wait 5 seconds/),
      flags: MessageFlags.Ephemeral,
    });
  });

  it('an error while answering: the public "thinking…" goes, a short private apology comes, the stack is logged', async () => {
    const broken: Embedder = {
      fingerprint: testLibrary().embedder.fingerprint,
      embed: () => Promise.reject(new Error('the model fell over')),
    };
    const h = await setup({ embedder: broken });
    const handle = h.fake.chatInputCommand('ask', { question: 'how many troops are in Syria?' });
    await callbackOf(h, handle);
    const followUp = await h.fake.waitForRequest<{ content: string; flags: number; allowed_mentions: unknown }>(
      isRequest('POST', handle.followupPath),
      3_000,
    );
    expect(followUp.body).toMatchObject({
      content: expect.stringMatching(/^Sorry, something went wrong/),
      flags: MessageFlags.Ephemeral,
      allowed_mentions: { parse: [] },
    });
    expect(h.fake.requestsTo('DELETE', handle.originalPath)).toHaveLength(1);
    expect(h.fake.messagesIn(h.fake.channelId)).toEqual([]);
    const failure = h.logs.find((line) => line.event === 'interaction-failed');
    expect(failure?.err).toMatchObject({ message: 'the model fell over', stack: expect.stringContaining('at ') });
    h.logs.splice(0, h.logs.length);
  });

  it('when the 3 second deadline is missed, logs the error and does not crash', async () => {
    const h = await setup({ fake: { interactionResponseDeadlineMs: 0 } });
    const handle = h.fake.chatInputCommand('ask', { question: 'how many troops are in Syria?' });
    await callbackOf(h, handle);
    await waitUntil(() => h.logs.some((line) => line.event === 'interaction-failed' && line.level === 50));
    const failure = h.logs.find((line) => line.event === 'interaction-failed');
    expect(failure?.err).toMatchObject({ code: RESTJSONErrorCodes.UnknownInteraction, stack: expect.any(String) });
    // The error log must not carry the interaction token (it is in the request URL).
    expect(JSON.stringify(h.logs)).not.toContain(handle.token);
    h.logs.splice(0, h.logs.length);
    expect(h.client.isReady()).toBe(true);
  });
});

describe('buttons under an answer', () => {
  it('More shows the next results privately, none repeated', async () => {
    const h = await setup();
    const { edit, message } = await ask(h, { question: 'what did Lavrov say about the US presence in Syria?' });
    const firstPage = edit.body.embeds?.[0]?.description ?? '';
    h.clock.advance(10_000);

    const more = h.fake.button(customIds(edit.body)[0]!, message!);
    const callback = await callbackOf(h, more);
    expect(callback.body).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    const next = await editOf(h, more);
    const nextPage = next.body.embeds?.[0]?.description ?? '';
    expect(next.body.embeds?.[0]?.title).toMatch(/^More: what did Lavrov say/);
    expect(nextPage.match(/^\*\*(\d+)\.\*\*/gm)).toEqual(expect.arrayContaining([expect.stringMatching(/^\*\*[4-9]\.\*\*/)]));
    const quotes = (text: string) => text.split('\n').filter((line) => line.startsWith('> '));
    for (const quote of quotes(nextPage)) expect(quotes(firstPage)).not.toContain(quote);
  });

  it('Context shows the paragraphs around the quote, privately', async () => {
    const h = await setup();
    const { edit, message } = await ask(h, { question: 'how many US troops are in Syria?' });
    const contextId = customIds(edit.body).find((id) => id.startsWith('cb:ctx:'))!;
    const label = Number(contextId.split(':')[2]);
    const passage = testLibrary().index.passages.get(label)!;

    const handle = h.fake.button(contextId, message!);
    const callback = await callbackOf(h, handle);
    expect(callback.body.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    const data = callbackData(callback);
    expect(data.flags).toBe(MessageFlags.Ephemeral);
    const embed = (data.embeds as unknown as Array<{ title: string; description: string }>)[0]!;
    expect(embed.title).toBe(testLibrary().index.articles.get(passage.file)?.title);
    expect(embed.description).toContain(`> **¶${passage.paragraph}** `);
    expect(embed.description).toContain(`**¶${passage.paragraph - 1}** `);
    expect(embed.description).toContain(`**¶${passage.paragraph + 1}** `);
  });

  it('👍 and 👎 append JSONL feedback with a hashed user id; a repeated vote is not counted twice', async () => {
    const h = await setup();
    const { edit, message } = await ask(h, { question: 'how many US troops are in Syria?' });
    const [up, down] = customIds(edit.body).filter((id) => id.startsWith('cb:vote:'));

    const first = h.fake.button(up!, message!);
    expect((await callbackOf(h, first)).body).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    expect((await editOf(h, first)).body.content).toMatch(/your 👍 is recorded/);

    const again = h.fake.button(up!, message!);
    expect(callbackData(await callbackOf(h, again)).content).toMatch(/already gave this answer a 👍/);

    const other = h.fake.button(down!, message!, { user: h.fake.owner });
    await editOf(h, other);

    const lines = (await readFile(h.feedbackFile, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as FeedbackEntry);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      question: 'how many US troops are in Syria?',
      vote: 'up',
      user: expect.stringMatching(/^[0-9a-f]{16}$/),
      mode: 'hybrid',
      answered: true,
      top: { file: expect.stringMatching(/\.txt$/), paragraph: expect.any(Number), quote: expect.stringContaining('2,000') },
    });
    expect(lines[1]).toMatchObject({ vote: 'down' });
    expect(lines[0]?.user).not.toBe(lines[1]?.user);
    const raw = JSON.stringify(lines);
    expect(raw).not.toContain(h.fake.human.id);
    expect(raw).not.toContain(h.fake.owner.id);
  });

  it('buttons of a forgotten answer get a polite ephemeral note', async () => {
    const h = await setup({ bot: { memory: { ttlMs: 60_000 } } });
    const { edit, message } = await ask(h, { question: 'how many US troops are in Syria?' });
    h.clock.advance(61_000);
    const handle = h.fake.button(customIds(edit.body)[1]!, message!);
    const data = callbackData(await callbackOf(h, handle));
    expect(data).toMatchObject({ flags: MessageFlags.Ephemeral, content: expect.stringMatching(/no longer remember/) });

    const unknown = h.fake.button('cb:nonsense', message!);
    expect(callbackData(await callbackOf(h, unknown)).content).toMatch(/not one I know/);
  });
});

describe('/sources and /article', () => {
  it('/sources lists the articles, paged with Prev/Next', async () => {
    const h = await setup({ bot: { sourcesPageSize: 2 } });
    const handle = h.fake.chatInputCommand('sources');
    const callback = await callbackOf(h, handle);
    const data = callbackData(callback);
    expect(data.flags).toBe(MessageFlags.Ephemeral);
    const embed = (
      data.embeds as unknown as Array<{ title: string; fields: Array<{ name: string; value: string }>; footer: { text: string } }>
    )[0]!;
    expect(embed.title).toBe('Indexed articles (5)');
    expect(embed.fields).toHaveLength(2);
    expect(embed.fields[0]?.value).toMatch(/passages?/);
    expect(embed.footer.text).toMatch(/^Page 1 of 3/);
    const buttons = (data.components as Array<{ components: Array<{ custom_id: string; disabled?: boolean }> }>)[0]!.components;
    expect(buttons.map((button) => [button.custom_id, button.disabled ?? false])).toEqual([
      ['cb:src:-1', true],
      ['cb:src:1', false],
    ]);

    const listing = h.fake.getInteractionReply(handle)!;
    const next = h.fake.button('cb:src:1', listing);
    const update = await callbackOf(h, next);
    expect(update.body.type).toBe(InteractionResponseType.UpdateMessage);
    const page2 = h.fake.getMessage(listing.id)!;
    expect(page2.embeds[0]?.footer?.text).toMatch(/^Page 2 of 3/);
    expect(page2.embeds[0]?.fields?.[0]?.name).toMatch(/^3\. /);
    expect(page2.embeds[0]?.fields?.map((field) => field.name)).not.toEqual(embed.fields.map((field) => field.name));

    const last = h.fake.button('cb:src:2', listing);
    await callbackOf(h, last);
    expect(h.fake.getMessage(listing.id)?.embeds[0]?.fields).toHaveLength(1);
  });

  it('autocomplete offers matching headlines: at most 25, names ≤100, value = file name', async () => {
    const h = await setup();
    const handle = h.fake.autocomplete('article', { title: 'russia syria' }, 'title');
    const callback = await callbackOf(h, handle);
    expect(callback.body.type).toBe(InteractionResponseType.ApplicationCommandAutocompleteResult);
    const choices = (callbackData(callback).choices ?? []) as Array<{ name: string; value: string }>;
    expect(choices.length).toBeGreaterThanOrEqual(2);
    expect(choices.length).toBeLessThanOrEqual(25);
    for (const choice of choices) {
      expect(choice.name.length).toBeLessThanOrEqual(100);
      expect(testLibrary().index.articles.has(choice.value)).toBe(true);
      expect(choice.name.toLowerCase()).toContain('russia');
    }

    const everything = h.fake.autocomplete('article', { title: '' }, 'title');
    expect((callbackData(await callbackOf(h, everything)).choices as unknown[]).length).toBe(5);
  });

  it('/article shows headline, outlet, date, link and opening paragraphs', async () => {
    const h = await setup();
    const newsweek = [...testLibrary().index.articles.values()].find((article) => article.outlet === 'Newsweek')!;
    const handle = h.fake.chatInputCommand('article', { title: newsweek.file });
    const data = callbackData(await callbackOf(h, handle));
    const embed = (
      data.embeds as unknown as Array<{ title: string; url?: string; description: string; fields: Array<{ name: string; value: string }> }>
    )[0]!;
    expect(embed.title).toBe(newsweek.title);
    expect(embed.url).toBe(newsweek.url);
    expect(embed.description).toMatch(/^\*\*¶1\*\* /);
    expect(embed.description).toContain('**¶2** ');
    expect(embed.fields).toEqual(
      expect.arrayContaining([
        { name: 'Outlet', value: 'Newsweek', inline: true },
        { name: 'Date', value: '2017-12-22', inline: true },
      ]),
    );

    const missing = h.fake.chatInputCommand('article', { title: 'recipes for @everyone' });
    const note = callbackData(await callbackOf(h, missing));
    expect(note.content).toMatch(/^No indexed article matches “recipes for @\u200beveryone”/);
    expect(hasLiveMention(note.content ?? '')).toBe(false);
  });
});

describe('the "Find sources" context menu', () => {
  it('finds the passages that bear on a message, privately', async () => {
    const h = await setup();
    const target = h.fake.sendMessage({ content: 'I read that Russia wants all American troops out of Syria, is that true?' });
    const handle = h.fake.messageContextMenu('Find sources', target);
    const callback = await callbackOf(h, handle);
    expect(callback.body).toEqual({
      type: InteractionResponseType.DeferredChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral },
    });
    const edit = await editOf(h, handle);
    expect(edit.body.embeds?.[0]?.title).toBe('Sources for this message');
    expect(edit.body.embeds?.[0]?.description).toMatch(/^> /m);
    expect(edit.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('says so when the message has no words', async () => {
    const h = await setup();
    const target = h.fake.sendMessage({ content: '<@123456789012345678> 🎉🎉' });
    const handle = h.fake.messageContextMenu('Find sources', target);
    expect(callbackData(await callbackOf(h, handle))).toMatchObject({
      flags: MessageFlags.Ephemeral,
      content: expect.stringMatching(/no words to look up/),
    });
  });
});

describe('every answer is safe to show', () => {
  it('nothing in /ask output can ping, whatever the question', async () => {
    const h = await setup();
    const { edit } = await ask(h, { question: '<@123456789012345678> @here how many troops are in Syria? <#123456789012345678>' });
    expect(hasLiveMention(visibleText(edit.body as never))).toBe(false);
    const stored: APIMessage | undefined = h.fake.getMessage(h.fake.getInteractionReply({ token: edit.path.split('/')[3]! })?.id ?? '');
    expect(stored).toMatchObject({ mentions: [], mention_roles: [], mention_everyone: false });
  });
});
