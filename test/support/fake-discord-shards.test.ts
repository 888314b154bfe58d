/**
 * The fake Discord shards like Discord: GET /gateway/bot recommends the configured count, IDENTIFY's
 * `shard: [id, count]` is checked (4010 Invalid shard), and a guild's events reach only the session of
 * shard `(guild_id >> 22) % count`, DMs only shard 0. Real discord.js Clients, one per shard, log in to it.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Events, GatewayCloseCodes, GatewayDispatchEvents, GatewayOpcodes, type Client, type Message } from 'discord.js';
import { createTestClient, shardOfGuild, startFakeDiscord, waitUntil, type FakeDiscord, type FakeDiscordOptions } from './fake-discord.js';

let fake: FakeDiscord | undefined;
const clients: Client[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) await client.destroy();
  const current = fake;
  fake = undefined;
  await current?.close();
  expect(current?.clientErrors ?? []).toEqual([]);
});

async function start(options: FakeDiscordOptions): Promise<FakeDiscord> {
  fake = await startFakeDiscord(options);
  return fake;
}

/** A client for shard `id` of `count` that replies "shard <id>: <question>" to mentions; ready once its guilds are there. */
async function shardClient(
  discord: FakeDiscord,
  id: number,
  count: number,
  guildIds: string[],
): Promise<{ client: Client<true>; seen: Message[] }> {
  const client = createTestClient(discord, undefined, { shards: id, shardCount: count });
  clients.push(client);
  const seen: Message[] = [];
  client.on(Events.MessageCreate, (message) => {
    seen.push(message);
    if (message.author.bot || !message.mentions.users.has(discord.botUser.id)) return;
    void message.reply({ content: `shard ${id}: ${message.content}`, allowedMentions: { parse: [] } });
  });
  const ready = once(client, Events.ClientReady);
  await client.login(discord.token);
  await ready;
  await waitUntil(() => guildIds.every((guildId) => client.guilds.cache.get(guildId)?.available === true), {
    description: `shard ${id}'s guilds`,
  });
  return { client: client as Client<true>, seen };
}

/** Opens a raw gateway connection, identifies with `shard`, and resolves with the close code (or 'ready'). */
async function identifyRaw(discord: FakeDiscord, shard: [number, number]): Promise<number | 'ready'> {
  const socket = new WebSocket(`${discord.gatewayUrl}?v=10&encoding=json`);
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('close', (code) => resolve(code));
      socket.on('message', (data: Buffer) => {
        const payload = JSON.parse(data.toString('utf8')) as { op: number; t: string | null };
        if (payload.op === GatewayOpcodes.Hello) {
          socket.send(
            JSON.stringify({
              op: GatewayOpcodes.Identify,
              d: { token: discord.token, intents: 1, properties: { os: 'linux', browser: 'test', device: 'test' }, shard },
            }),
          );
        } else if (payload.t === GatewayDispatchEvents.Ready) resolve('ready');
      });
    });
  } finally {
    socket.terminate();
  }
}

describe('shardOfGuild', () => {
  it("is Discord's formula: (guild_id >> 22) % shard count; no guild (a DM) is shard 0", () => {
    // 2 ** 22 · 7 + 5: the millisecond part is 7.
    const guildId = String(2 ** 22 * 7 + 5);
    expect(shardOfGuild(guildId, 1)).toBe(0);
    expect(shardOfGuild(guildId, 2)).toBe(1);
    expect(shardOfGuild(guildId, 3)).toBe(1);
    expect(shardOfGuild(guildId, 4)).toBe(3);
    // Beyond 2^53: computed on BigInt, not rounded.
    expect(shardOfGuild('1234567890123456789', 16)).toBe(Number((1234567890123456789n >> 22n) % 16n));
    expect(shardOfGuild(null, 5)).toBe(0);
  });
});

describe('fake Discord with shards', () => {
  it('recommends the configured shard count and identify concurrency in GET /gateway/bot', async () => {
    const discord = await start({ shards: 3, maxConcurrency: 2 });
    const response = await fetch(`${discord.restUrl}/v10/gateway/bot`, { headers: { authorization: `Bot ${discord.token}` } });
    const body = (await response.json()) as { shards: number; session_start_limit: { max_concurrency: number } };
    expect(body.shards).toBe(3);
    expect(body.session_start_limit.max_concurrency).toBe(2);
  });

  it('addGuild picks an id on the requested shard', async () => {
    const discord = await start({ shards: 4 });
    for (const shard of [0, 1, 2, 3]) {
      const guild = discord.addGuild(`guild ${shard}`, { onShard: [shard, 4] });
      expect(shardOfGuild(guild.id, 4)).toBe(shard);
    }
  });

  it("sends each guild's READY entry, GUILD_CREATE, messages and interactions to its own shard only", async () => {
    const discord = await start({ shards: 2 });
    const firstShard = shardOfGuild(discord.guildId, 2);
    const other = discord.addGuild('Second Guild', { onShard: [1 - firstShard, 2] });
    const own = await shardClient(discord, firstShard, 2, [discord.guildId]);
    const theirs = await shardClient(discord, 1 - firstShard, 2, [other.id]);

    expect([...own.client.guilds.cache.keys()]).toEqual([discord.guildId]);
    expect([...theirs.client.guilds.cache.keys()]).toEqual([other.id]);
    expect(theirs.client.channels.cache.get(other.channelId)?.isTextBased()).toBe(true);
    expect(theirs.client.guilds.cache.get(other.id)?.members.me?.roles.cache.has(other.botRoleId)).toBe(true);

    const inFirst = discord.sendMessage({ content: 'first?', mentionBot: true });
    const inSecond = discord.sendMessage({ content: 'second?', mentionBot: true, channelId: other.channelId });
    const replies = await Promise.all(
      [inFirst, inSecond].map((question) =>
        discord.waitForRequest<{ content: string }>(
          (request) =>
            request.method === 'POST' &&
            (request.body as { message_reference?: { message_id?: string } } | null)?.message_reference?.message_id === question.id,
        ),
      ),
    );
    expect(replies.map((reply) => reply.body.content)).toEqual([
      `shard ${firstShard}: <@${discord.botUser.id}> first?`,
      `shard ${1 - firstShard}: <@${discord.botUser.id}> second?`,
    ]);
    expect(discord.receivedBy(inFirst.id)).toEqual([[firstShard, 2]]);
    expect(discord.receivedBy(inSecond.id)).toEqual([[1 - firstShard, 2]]);
    // The gateway form of a message names its own guild.
    expect(theirs.seen.find((message) => message.id === inSecond.id)?.guildId).toBe(other.id);

    const command = discord.chatInputCommand('ask', { query: 'x' }, { channelId: other.channelId });
    expect(command.payload.guild_id).toBe(other.id);
    expect(discord.receivedBy(command.id)).toEqual([[1 - firstShard, 2]]);
  });

  it('sends events without a guild (DMs) to shard 0 only', async () => {
    const discord = await start({ shards: 2 });
    const zeroGuild = shardOfGuild(discord.guildId, 2) === 0 ? discord.guildId : discord.addGuild('zero', { onShard: [0, 2] }).id;
    const oneGuild = shardOfGuild(discord.guildId, 2) === 1 ? discord.guildId : discord.addGuild('one', { onShard: [1, 2] }).id;
    const zero = await shardClient(discord, 0, 2, [zeroGuild]);
    const one = await shardClient(discord, 1, 2, [oneGuild]);
    const received: string[] = [];
    const record = (shard: number) => (packet: { t?: string; d?: { channel_id?: string } }) =>
      void (packet.t === 'TYPING_START' && received.push(`channel ${packet.d?.channel_id} → shard ${shard}`));
    zero.client.on(Events.Raw, record(0));
    one.client.on(Events.Raw, record(1));

    discord.dispatch('TYPING_START', { channel_id: '1', user_id: discord.human.id, timestamp: 0 });
    discord.dispatch('TYPING_START', { channel_id: '2', guild_id: oneGuild, user_id: discord.human.id, timestamp: 0 });
    await waitUntil(() => received.length === 2, { description: 'both dispatches' });
    await new Promise((resolve) => setTimeout(resolve, 100)); // and no third
    expect(received.sort()).toEqual(['channel 1 → shard 0', 'channel 2 → shard 1']);
  });

  it('closes with 4010 Invalid shard for a shard id out of range or a count other than the one recommended', async () => {
    const discord = await start({ shards: 2 });
    expect(await identifyRaw(discord, [2, 2])).toBe(GatewayCloseCodes.InvalidShard);
    expect(await identifyRaw(discord, [-1, 2])).toBe(GatewayCloseCodes.InvalidShard);
    expect(await identifyRaw(discord, [0, 3])).toBe(GatewayCloseCodes.InvalidShard);
    expect(await identifyRaw(discord, [1, 2])).toBe('ready');
    expect(discord.identifiedShards).toEqual([[1, 2]]);
  });

  it('refuseIdentify closes the chosen shard with the chosen code; the other shards log in', async () => {
    const discord = await start({ shards: 2 });
    discord.refuseIdentify(GatewayCloseCodes.AuthenticationFailed, 1);
    expect(await identifyRaw(discord, [1, 2])).toBe(GatewayCloseCodes.AuthenticationFailed);
    expect(await identifyRaw(discord, [0, 2])).toBe('ready');
    discord.acceptIdentify();
    expect(await identifyRaw(discord, [1, 2])).toBe('ready');
  });
});
