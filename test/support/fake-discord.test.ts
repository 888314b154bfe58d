/**
 * Proves the fake Discord is faithful enough for the real discord.js Client: a tiny inline bot
 * (NOT the product) logs in, answers messages and interactions, survives a 429 and a dropped
 * gateway connection, while the tests assert on the REST calls it makes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ActionRowBuilder,
  ApplicationCommandOptionType,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  InteractionResponseType,
  MessageFlags,
  MessageType,
  RESTJSONErrorCodes,
} from 'discord.js';
import type {
  APIInteractionResponse,
  APIMessage,
  Client,
  ClientOptions,
  Interaction,
  Message,
  RESTPatchAPIWebhookWithTokenMessageJSONBody,
  RESTPostAPIChannelMessageJSONBody,
} from 'discord.js';
import { createTestClient, isRequest, loginTestClient, startFakeDiscord, waitUntil } from './fake-discord.js';
import type { FakeDiscord, FakeDiscordOptions } from './fake-discord.js';
import { DiscordSpec } from './discord-spec.js';

// ---------------------------------------------------------------------------
// A tiny bot: just enough behaviour to exercise every protocol path.
// ---------------------------------------------------------------------------

const TOPICS = ['inflation', 'interest rates', 'unemployment'];

interface TinyBot {
  /** Errors thrown by handlers (a rejected REST call, for instance). */
  errors: unknown[];
  /** Every message the client emitted `messageCreate` for, including the bot's own. */
  seen: Message[];
  /** Target messages of the "Cite" context-menu command. */
  contextTargets: Message[];
}

function attachTinyBot(client: Client): TinyBot {
  const bot: TinyBot = { errors: [], seen: [], contextTargets: [] };
  // Event handlers cannot be awaited by the emitter; keep their failures visible to the test.
  const guard = (work: () => Promise<unknown>) => void work().catch((error: unknown) => bot.errors.push(error));

  client.on(Events.MessageCreate, (message) => {
    bot.seen.push(message);
    if (message.author.bot || !client.user || !message.mentions.users.has(client.user.id)) return;
    const question = message.content.replace(/<@!?\d+>/g, '').trim();
    guard(() => message.reply({ content: `You said: ${question}`, allowedMentions: { parse: [], repliedUser: false } }));
  });
  client.on(Events.InteractionCreate, (interaction) => guard(() => handleInteraction(interaction, bot)));
  return bot;
}

async function handleInteraction(interaction: Interaction, bot: TinyBot): Promise<void> {
  if (interaction.isChatInputCommand() && interaction.commandName === 'ask') {
    await interaction.deferReply();
    await interaction.editReply(`Answer: ${interaction.options.getString('query', true)}`);
  } else if (interaction.isAutocomplete() && interaction.commandName === 'ask') {
    const typed = interaction.options.getFocused().toLowerCase();
    const matches = TOPICS.filter((topic) => topic.includes(typed));
    await interaction.respond(matches.map((topic) => ({ name: topic, value: topic })));
  } else if (interaction.isButton() && interaction.customId === 'helpful') {
    await interaction.update({ content: 'Thanks for the feedback', components: [] });
  } else if (interaction.isMessageContextMenuCommand() && interaction.commandName === 'Cite') {
    bot.contextTargets.push(interaction.targetMessage);
    await interaction.reply({ content: `Citing ${interaction.targetMessage.url}`, flags: MessageFlags.Ephemeral });
  }
}

// ---------------------------------------------------------------------------
// Per-test setup and teardown
// ---------------------------------------------------------------------------

let fake: FakeDiscord | undefined;
let client: Client | undefined;
let bot: TinyBot | undefined;

async function setup(options: FakeDiscordOptions = {}, intents?: ClientOptions['intents']) {
  fake = await startFakeDiscord(options);
  client = createTestClient(fake, intents);
  bot = attachTinyBot(client);
  const readyClient = await loginTestClient(client, fake);
  return { fake, client: readyClient, bot };
}

afterEach(async () => {
  // Destroy the client BEFORE closing the server, or it keeps trying to reconnect.
  await client?.destroy();
  await fake?.close();
  const leftovers = { botErrors: bot?.errors ?? [], clientErrors: fake?.clientErrors ?? [] };
  client = undefined;
  fake = undefined;
  bot = undefined;
  expect(leftovers).toEqual({ botErrors: [], clientErrors: [] });
});

const channelMessagesPath = (f: FakeDiscord) => `/channels/${f.channelId}/messages`;

function replyTo(f: FakeDiscord, message: APIMessage) {
  return (request: { method: string; path: string; body: unknown }) =>
    request.method === 'POST' &&
    request.path === channelMessagesPath(f) &&
    (request.body as RESTPostAPIChannelMessageJSONBody | null)?.message_reference?.message_id === message.id;
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

describe('fake Discord with the real discord.js Client', () => {
  it('logs in: READY and GUILD_CREATE fill the caches', async () => {
    const { fake, client } = await setup();

    expect(client.user.id).toBe(fake.botUser.id);
    expect(client.application.id).toBe(fake.applicationId);
    const guild = client.guilds.cache.get(fake.guildId);
    expect(guild?.available).toBe(true);
    expect(guild?.members.me?.roles.cache.has(fake.botRoleId)).toBe(true);
    expect(client.channels.cache.get(fake.channelId)?.type).toBe(ChannelType.GuildText);
    expect(client.channels.cache.get(fake.secondChannelId)?.type).toBe(ChannelType.GuildText);
    const thread = client.channels.cache.get(fake.threadId);
    expect(thread?.isThread() && thread.parentId).toBe(fake.channelId);

    expect(fake.stats.identifies).toBe(1);
    expect(fake.gatewayConnections[0]?.query).toEqual({ v: '10', encoding: 'json' });
    const gatewayBot = fake.requestsTo('GET', '/gateway/bot')[0];
    expect(gatewayBot?.headers.authorization).toBe(`Bot ${fake.token}`);
  });

  it('rejects a wrong token the way Discord does', async () => {
    const { fake } = await setup();
    const intruder = createTestClient(fake);
    await expect(intruder.login('not-the-token')).rejects.toMatchObject({ code: 'TokenInvalid' });
    await intruder.destroy();
    expect(fake.requestsTo('GET', '/gateway/bot').map((request) => request.status)).toEqual([200, 401]);
  });

  it('answers a mention with a reply carrying message_reference and allowed_mentions', async () => {
    const { fake, bot } = await setup();
    const since = fake.cursor();

    fake.sendMessage({ content: 'just chatting, no mention' });
    const question = fake.sendMessage({ content: 'what changed?', mentionBot: true });
    const post = await fake.waitForRequest<RESTPostAPIChannelMessageJSONBody>(isRequest('POST', channelMessagesPath(fake)), 2_000, since);

    expect(post.status).toBe(200);
    expect(post.body.content).toBe('You said: what changed?');
    expect(post.body.message_reference?.message_id).toBe(question.id);
    expect(post.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    const reply = fake.getMessage((post.response as APIMessage).id);
    expect(reply?.type).toBe(MessageType.Reply);
    expect(reply?.mentions).toEqual([]); // replied_user: false → the asker is not pinged

    // Discord echoes the bot's own reply back; the bot must see it and not answer itself.
    await waitUntil(() => bot.seen.some((message) => message.author.id === fake.botUser.id));
    expect(fake.requestsTo('POST', channelMessagesPath(fake))).toHaveLength(1);
  });

  it('chat input command: deferReply() then editReply() → callback type 5 + PATCH @original', async () => {
    const { fake } = await setup();
    const handle = fake.chatInputCommand('ask', { query: 'interest rates' });

    const callback = await fake.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath));
    expect(callback.body.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    expect(callback.status).toBe(204);
    expect(callback.headers.authorization).toBeUndefined();

    const edit = await fake.waitForRequest<RESTPatchAPIWebhookWithTokenMessageJSONBody>(isRequest('PATCH', handle.originalPath));
    expect(edit.rawUrl).toContain('/messages/%40original');
    expect(edit.body.content).toBe('Answer: interest rates');
    const reply = fake.getInteractionReply(handle);
    expect(reply?.content).toBe('Answer: interest rates');
    expect((reply?.flags ?? 0) & MessageFlags.Loading).toBe(0);
  });

  it('button: update() → callback type 7 edits the message the button is on', async () => {
    const { fake, client } = await setup();
    const channel = client.channels.cache.get(fake.channelId);
    if (!channel?.isSendable()) throw new Error('general is not sendable');
    const row = new ActionRowBuilder<ButtonBuilder>().addComponents(
      new ButtonBuilder().setCustomId('helpful').setLabel('Helpful').setStyle(ButtonStyle.Success),
    );
    const prompt = await channel.send({ content: 'Was this helpful?', components: [row] });

    const handle = fake.button('helpful', prompt.id);
    const callback = await fake.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath));

    expect(callback.body).toMatchObject({
      type: InteractionResponseType.UpdateMessage,
      data: { content: 'Thanks for the feedback', components: [] },
    });
    const updated = fake.getMessage(prompt.id);
    expect(updated?.content).toBe('Thanks for the feedback');
    expect(updated?.components).toEqual([]);
    expect(updated?.edited_timestamp).not.toBeNull();
  });

  it('autocomplete: respond() → callback type 8 with the choices', async () => {
    const { fake } = await setup();
    const handle = fake.autocomplete('ask', { query: 'inf' }, 'query');

    const callback = await fake.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath));

    expect(callback.body).toEqual({
      type: InteractionResponseType.ApplicationCommandAutocompleteResult,
      data: { choices: [{ name: 'inflation', value: 'inflation' }] },
    });
  });

  it('message context menu: the interaction carries the target message', async () => {
    const { fake, bot } = await setup();
    const target = fake.sendMessage({ content: 'The central bank raised rates by 0.25 points.' });

    const handle = fake.messageContextMenu('Cite', target);
    const callback = await fake.waitForRequest<APIInteractionResponse>(isRequest('POST', handle.callbackPath));

    const received = bot.contextTargets[0];
    expect(received?.id).toBe(target.id);
    expect(received?.content).toBe(target.content);
    expect(received?.author.id).toBe(fake.human.id);
    expect(callback.body).toMatchObject({
      type: InteractionResponseType.ChannelMessageWithSource,
      data: { flags: MessageFlags.Ephemeral, content: expect.stringContaining(target.id) },
    });
    // Ephemeral replies are invisible in the channel.
    expect(fake.messagesIn(fake.channelId).map((message) => message.id)).toEqual([target.id]);
  });

  it('a 429 with Retry-After is retried by discord.js and the reply still arrives once', async () => {
    const { fake } = await setup();
    fake.failNext({ method: 'POST', pathPattern: /^\/channels\/\d+\/messages$/, retryAfterSeconds: 0.2 });

    const question = fake.sendMessage({ content: 'are you there?', mentionBot: true });
    const delivered = await fake.waitForRequest((request) => replyTo(fake, question)(request) && request.status === 200, 3_000);

    const attempts = fake.requestsTo('POST', channelMessagesPath(fake));
    expect(attempts.map((request) => request.status)).toEqual([429, 200]);
    expect(attempts[0]?.body).toEqual(delivered.body);
    expect(delivered.time - (attempts[0]?.time ?? 0)).toBeGreaterThanOrEqual(190);
    const botReplies = fake.messagesIn(fake.channelId).filter((message) => message.author.id === fake.botUser.id);
    expect(botReplies).toHaveLength(1);
  });

  it.each([4000, 'terminate'] as const)(
    'dropped gateway (%s): the client resumes, missed events are replayed, later ones still answered',
    async (how) => {
      const { fake } = await setup();

      fake.dropConnection(how);
      const sentWhileDown = fake.sendMessage({ content: 'sent while disconnected', mentionBot: true });
      await waitUntil(() => fake.stats.resumes >= 1, { timeoutMs: 3_000, description: 'a RESUME' });
      await fake.waitForRequest(replyTo(fake, sentWhileDown));

      const sentAfter = fake.sendMessage({ content: 'sent after resuming', mentionBot: true });
      await fake.waitForRequest(replyTo(fake, sentAfter));

      expect(fake.stats.identifies).toBe(1);
      expect(fake.gatewayConnections.at(-1)?.path).toBe('/resume');
    },
  );

  it.skipIf(!DiscordSpec.available())('registers application commands and routes interactions to their ids', async () => {
    const { fake, client } = await setup();
    await client.application.commands.set([
      {
        name: 'ask',
        description: 'Ask a question about the news',
        options: [{ type: ApplicationCommandOptionType.String, name: 'query', description: 'The question', required: true }],
      },
    ]);
    const [registered] = fake.applicationCommands();
    expect(registered?.name).toBe('ask');

    const handle = fake.chatInputCommand('ask', { query: 'x' });
    expect(handle.payload.data && 'id' in handle.payload.data && handle.payload.data.id).toBe(registered?.id);
    await expect(client.application.commands.set([{ name: 'Bad Name', description: 'x' }])).rejects.toMatchObject({
      code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
    });
    // Sent on purpose: taken, so that closing the fake does not fail the test.
    expect(fake.takeSpecViolations()).toEqual([
      expect.objectContaining({ method: 'PUT', route: '/applications/{application_id}/commands', status: 400 }),
    ]);
    // Let the tiny bot finish answering before teardown destroys the client.
    await fake.waitForRequest(isRequest('PATCH', handle.originalPath));
  });

  it.skipIf(!DiscordSpec.available())('unknown routes answer a Discord-shaped 404 and are recorded', async () => {
    const { fake, client } = await setup();
    const error: unknown = await client.rest.get('/nothing/here').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect(error).toMatchObject({ status: 404, code: 0 });
    expect(fake.unknownRequests().map((request) => request.path)).toEqual(['/nothing/here']);
    expect(fake.takeSpecViolations()).toEqual([expect.objectContaining({ path: '/nothing/here', route: null, status: 404 })]);
  });

  it('without the MessageContent intent only messages mentioning the bot carry content', async () => {
    const { fake, bot } = await setup({}, [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    const plain = fake.sendMessage({ content: 'invisible to the bot' });
    const mention = fake.sendMessage({ content: 'visible', mentionBot: true });
    await fake.waitForRequest(replyTo(fake, mention));

    expect(bot.seen.find((message) => message.id === plain.id)?.content).toBe('');
    expect(bot.seen.find((message) => message.id === mention.id)?.content).toBe(mention.content);
  });

  it('enforces the 3 second interaction deadline (10062 Unknown interaction)', async () => {
    const { fake, bot } = await setup({ interactionResponseDeadlineMs: 0 });
    const handle = fake.chatInputCommand('ask', { query: 'too slow' });

    const callback = await fake.waitForRequest(isRequest('POST', handle.callbackPath));
    await waitUntil(() => bot.errors.length > 0);

    expect(callback.status).toBe(404);
    expect(bot.errors.splice(0)).toEqual([expect.objectContaining({ code: RESTJSONErrorCodes.UnknownInteraction })]);
  });
});
