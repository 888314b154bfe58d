/**
 * Messages: the real bot answering mentions, replies and answer channels on a real index, through the
 * fake Discord. Assertions are on what Discord receives: allowed_mentions, message_reference, content.
 */
import { describe, expect, it } from 'vitest';
import { GatewayDispatchEvents, MessageType, type APIMessage } from 'discord.js';
import { stopBot } from '../../src/discord/bot.js';
import { plainMessage, waitUntil } from '../support/fake-discord.js';
import { botPosts, customIds, hasLiveMention, settle, useBotHarness, visibleText, waitForReply, type MessageBody } from './harness.js';
import type { Embedder } from '../../src/embedding/embedder.js';

const { library: testLibrary, setup } = useBotHarness();

describe('answering messages', () => {
  it('answers a mention with a reply: verbatim quote in a block quote, bold matches, source, buttons, no pings', async () => {
    const { fake } = await setup();
    const question = fake.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });

    const reply = await waitForReply(fake, question);
    expect(reply.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(reply.body.message_reference).toMatchObject({ message_id: question.id, fail_if_not_exists: false });

    const embed = reply.body.embeds?.[0];
    expect(embed?.title).toBe('how many US troops are in Syria?');
    const description = embed?.description ?? '';
    // The top quote is the Araweelo or Newsweek sentence about 2,000 troops, quoted verbatim.
    expect(description).toMatch(/^> .*\*\*troops\*\*/m);
    expect(description).toMatch(/2,000/);
    expect(description).toMatch(/\*\*1\.\*\* .+ — .+, (undated|\d{4}-\d{2}-\d{2}), ¶\d+/);
    expect(description).toMatch(/confidence: \*\*(high|medium|low)\*\*/);
    expect(embed?.footer?.text).toContain('hybrid retrieval');
    expect(customIds(reply.body)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^cb:vote:[\w-]+:up$/), expect.stringMatching(/^cb:ctx:\d+$/)]),
    );

    const stored = fake.getMessage((reply.response as APIMessage).id);
    expect(stored?.type).toBe(MessageType.Reply);
    expect(stored?.mentions).toEqual([]);
    expect(stored?.mention_everyone).toBe(false);

    // Discord echoes the bot's own reply: the bot must not answer itself.
    await settle(150);
    expect(botPosts(fake)).toHaveLength(1);
  });

  it('answers a reply to one of its messages without a mention', async () => {
    const { fake, clock } = await setup();
    const first = fake.sendMessage({ content: 'what did Lavrov say about US troops?', mentionBot: true });
    const answer = await waitForReply(fake, first);
    clock.advance(10_000);

    const followUp = fake.sendMessage({
      content: 'and what did Zakharova say?',
      referencedMessage: (answer.response as APIMessage).id,
      pingRepliedAuthor: false,
    });
    const reply = await waitForReply(fake, followUp);
    expect(reply.body.embeds?.[0]?.title).toBe('and what did Zakharova say?');
    expect(reply.body.embeds?.[0]?.description).toContain('Zakharova');
  });

  it('answers in a thread, replying there', async () => {
    const { fake } = await setup();
    const question = fake.sendMessage({ content: 'what did Lavrentiev say in Astana?', mentionBot: true, channelId: fake.threadId });
    const reply = await waitForReply(fake, question);
    expect(reply.path).toBe(`/channels/${fake.threadId}/messages`);
    expect(reply.body.embeds?.[0]?.description).toMatch(/Lavrentiev|Astana/);
  });

  it('answers every message in an answer channel, and only there, without a mention', async () => {
    const { fake } = await setup({ answerChannelIds: (discord) => [discord.secondChannelId] });
    const elsewhere = fake.sendMessage({ content: 'how many troops are in Syria?' });
    const inAnswerChannel = fake.sendMessage({
      content: 'how many troops are in Syria?',
      channelId: fake.secondChannelId,
      author: fake.owner,
    });
    const chatter = fake.sendMessage({ content: '👍', channelId: fake.secondChannelId, author: fake.human });

    const reply = await waitForReply(fake, inAnswerChannel);
    expect(reply.body.embeds?.[0]?.description).toContain('2,000');
    await settle(150);
    expect(botPosts(fake).map((post) => post.body.message_reference?.message_id)).toEqual([inAnswerChannel.id]);
    expect([elsewhere.id, chatter.id]).not.toContain(reply.body.message_reference?.message_id);
  });

  it('says when nothing matches confidently and lists the closest articles', async () => {
    const { fake } = await setup();
    const question = fake.sendMessage({ content: 'what is the best recipe for chocolate cake?', mentionBot: true });
    const reply = await waitForReply(fake, question);
    const description = reply.body.embeds?.[0]?.description ?? '';
    expect(description).toMatch(/^No confident match/);
    expect(description).toMatch(/\*\*1\.\*\* .+ — .+¶\d+/);
    // No quotes are offered as if they were an answer.
    expect(description).not.toMatch(/^> /m);
    expect(customIds(reply.body).some((id) => id.startsWith('cb:more:') || id.startsWith('cb:ctx:'))).toBe(false);
  });
});

describe('direct messages', () => {
  it('answers a DM without a mention (the fake models no DM channels, so the reply it attempts is checked)', async () => {
    const { fake, logs } = await setup();
    const dmChannelId = String((BigInt(Date.now() - 1_420_070_400_000) << 22n) + 7n);
    const id = String((BigInt(Date.now() - 1_420_070_400_000) << 22n) + 8n);
    const dm = plainMessage({
      id,
      channel_id: dmChannelId,
      author: fake.human,
      content: 'how many troops are in Syria?',
      type: MessageType.Default,
    });
    fake.dispatch(GatewayDispatchEvents.MessageCreate, { ...dm, channel_type: 1 });
    const attempt = await fake.waitForRequest<MessageBody>(
      (request) => request.method === 'POST' && request.path === `/channels/${dmChannelId}/messages`,
      3_000,
    );
    expect(attempt.body.message_reference?.message_id).toBe(id);
    expect(attempt.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    expect(attempt.body.embeds?.[0]?.description).toContain('2,000');
    // The fake answers 404 Unknown Channel; the bot logs that and tries to apologise.
    await waitUntil(() => logs.some((line) => line.event === 'message-failed' && line.level === 40));
    logs.splice(0, logs.length);
  });
});

describe('bad questions get a clear message and ping nobody', () => {
  const cases: Array<{
    name: string;
    content: string;
    expected: RegExp;
    extra?: { mention_everyone?: boolean; mention_roles?: string[] };
  }> = [
    { name: 'an empty mention', content: '', expected: /only mentions in it, no question/ },
    { name: '10,000 characters', content: 'a'.repeat(10_000), expected: /10,000 characters long.*to 1,000 or fewer/ },
    {
      name: 'only @everyone and a role mention',
      content: '@everyone <@&123456789012345678>',
      expected: /only mentions in it, no question/,
      extra: { mention_everyone: true, mention_roles: ['123456789012345678'] },
    },
    { name: 'only Markdown markers', content: '``` ** || > ~~ __', expected: /question is empty/ },
  ];

  it.each(cases)('$name', async ({ content, expected, extra }) => {
    const { fake } = await setup();
    const question = fake.sendMessage({ content, mentionBot: true, ...extra });
    const reply = await waitForReply(fake, question);
    expect(reply.body.content).toMatch(expected);
    expect(reply.body.allowed_mentions).toEqual({ parse: [], replied_user: false });
    const stored = fake.getMessage((reply.response as APIMessage).id);
    expect(stored).toMatchObject({ mentions: [], mention_roles: [], mention_everyone: false });
  });

  it('answers a question wrapped in @everyone, role mentions and Markdown breakers without echoing them live', async () => {
    const { fake } = await setup();
    const question = fake.sendMessage({
      content: '@everyone <@&123456789012345678> ```how many **US troops** are in ||Syria||?```',
      mention_everyone: true,
      mention_roles: ['123456789012345678'],
      mentionBot: true,
    });
    const reply = await waitForReply(fake, question);
    const text = visibleText(reply.body);
    expect(reply.body.embeds?.[0]?.title).toBe('how many US troops are in Syria ?');
    expect(hasLiveMention(text)).toBe(false);
    expect(text).not.toContain('```');
    expect(text).not.toContain('||');
    expect(fake.getMessage((reply.response as APIMessage).id)).toMatchObject({ mentions: [], mention_roles: [], mention_everyone: false });
  });
});

describe('load and abuse', () => {
  it('ignores other bots, webhooks and its own messages', async () => {
    const { fake, client } = await setup();
    fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true, author: fake.otherBot });
    fake.sendMessage({ content: `<@${fake.botUser.id}> I am the bot talking to myself`, author: fake.botUser });
    const id = String(BigInt(Date.now() - 1_420_070_400_000) << 22n);
    const webhookMessage = plainMessage({
      id,
      channel_id: fake.channelId,
      author: { id: '123456789012345678', username: 'Captain Hook', discriminator: '0000', global_name: null, avatar: null },
      content: `<@${fake.botUser.id}> how many troops are in Syria?`,
      mentions: [fake.botUser],
      type: MessageType.Default,
      webhook_id: '123456789012345678',
    });
    fake.dispatch(GatewayDispatchEvents.MessageCreate, { ...webhookMessage, guild_id: fake.guildId });
    const human = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });

    await waitForReply(fake, human);
    await settle(150);
    expect(client.isReady()).toBe(true);
    expect(botPosts(fake).map((post) => post.body.message_reference?.message_id)).toEqual([human.id]);
  });

  it('holds a per-user cooldown with one polite message, then answers again', async () => {
    const { fake, clock, logs } = await setup();
    const first = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });
    await waitForReply(fake, first);

    const tooSoon = fake.sendMessage({ content: 'and where did Lavrov speak?', mentionBot: true });
    const refusal = await waitForReply(fake, tooSoon);
    expect(refusal.body.content).toMatch(/Please wait 5 seconds/);
    expect(refusal.body.embeds ?? []).toEqual([]);

    // Flooding on gets no more replies: the bot never floods back.
    const flood = fake.sendMessage({ content: 'hello??', mentionBot: true });
    await settle(150);
    expect(botPosts(fake).some((post) => post.body.message_reference?.message_id === flood.id)).toBe(false);
    expect(logs.filter((line) => line.event === 'rate-limited')).toHaveLength(2);

    clock.advance(5_001);
    const later = fake.sendMessage({ content: 'where did Lavrov speak?', mentionBot: true });
    const answer = await waitForReply(fake, later);
    expect(answer.body.embeds?.[0]?.description).toContain('Lavrov');
  });

  it('resumes after the gateway drops the connection and still answers', async () => {
    const { fake, logs } = await setup();
    fake.dropConnection('terminate');
    const whileDown = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });
    await waitUntil(() => fake.stats.resumes >= 1, { timeoutMs: 3_000, description: 'a RESUME' });
    await waitForReply(fake, whileDown);

    fake.dropConnection(4000);
    await waitUntil(() => fake.stats.resumes >= 2, { timeoutMs: 3_000, description: 'a second RESUME' });
    const after = fake.sendMessage({ content: 'what did Zakharova say?', mentionBot: true, author: fake.owner });
    await waitForReply(fake, after);

    expect(fake.stats.identifies).toBe(1);
    expect(logs.filter((line) => line.event === 'shard-resume').length).toBeGreaterThanOrEqual(1);
  });

  it('retries a REST 429 after Retry-After: the answer arrives once, nothing lost', async () => {
    const { fake } = await setup();
    fake.failNext({ method: 'POST', pathPattern: /^\/channels\/\d+\/messages$/, retryAfterSeconds: 0.2 });
    const question = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });

    const delivered = await waitForReply(fake, question);
    const attempts = botPosts(fake);
    expect(attempts.map((attempt) => attempt.status)).toEqual([429, 200]);
    expect(attempts[0]?.body).toEqual(delivered.body);
    expect(delivered.time - (attempts[0]?.time ?? 0)).toBeGreaterThanOrEqual(190);
    expect(fake.messagesIn(fake.channelId).filter((message) => message.author.id === fake.botUser.id)).toHaveLength(1);
  });

  it('logs a failed send with its stack and tells the user briefly', async () => {
    const current = await setup();
    const { fake, logs } = current;
    // 403 is not retried (5xx would be, three times): the answer is lost, the apology goes out.
    fake.failNext({ method: 'POST', pathPattern: /^\/channels\/\d+\/messages$/, status: 403, code: 50013, message: 'Missing Permissions' });
    const question = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });

    const apology = await waitForReply(fake, question);
    expect(apology.body.content).toMatch(/^Sorry, something went wrong/);
    const failure = logs.find((line) => line.event === 'message-failed');
    expect(failure?.err).toMatchObject({ stack: expect.stringContaining('at ') });
    // Expected in this test: clear the error lines so teardown does not flag them.
    logs.splice(0, logs.length, ...logs.filter((line) => line.level < 50));
  });

  it('on shutdown takes no new questions, finishes the answer in progress, then disconnects', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Embedder = {
      fingerprint: testLibrary().embedder.fingerprint,
      async embed(texts, kind, onProgress) {
        await gate;
        return testLibrary().embedder.embed(texts, kind, onProgress);
      },
    };
    const { fake, client, work, logger } = await setup({ embedder: slow });
    const inProgress = fake.sendMessage({ content: 'how many troops are in Syria?', mentionBot: true });
    await waitUntil(() => work.size > 0, { description: 'the answer to start' });

    const stopped = stopBot(client, work, logger, 3_000);
    const late = fake.sendMessage({ content: 'a question after the signal', mentionBot: true, author: fake.owner });
    await settle(100);
    release();
    await waitForReply(fake, inProgress);
    await stopped;

    expect(botPosts(fake).map((post) => post.body.message_reference?.message_id)).toEqual([inProgress.id]);
    expect(botPosts(fake).some((post) => post.body.message_reference?.message_id === late.id)).toBe(false);
    expect(client.isReady()).toBe(false);
  });
});
