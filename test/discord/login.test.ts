/** loginBot turns the usual set-up mistakes into a sentence that says what to do. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { GatewayCloseCodes, type Client } from 'discord.js';
import type { SearchIndex } from '../../src/retrieval/search.js';
import { BotLoginError, createBot, loginBot } from '../../src/discord/bot.js';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';

let fake: FakeDiscord | undefined;
let client: Client | undefined;

afterEach(async () => {
  await client?.destroy();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

// Logging in needs no articles.
const emptyIndex = { articles: new Map(), passages: new Map(), lexical: {}, vectors: null } as unknown as SearchIndex;

function botFor(discord: FakeDiscord): Client {
  return createBot({
    library: { index: emptyIndex, embedder: null },
    config: { discord: { answerChannelIds: [] }, feedbackFile: '/nonexistent/feedback.jsonl' },
    logger: pino({ level: 'silent' }),
    clientOptions: { rest: { api: discord.restUrl }, waitGuildTimeout: 200 },
  });
}

describe('loginBot', () => {
  it('explains a rejected token', async () => {
    fake = await startFakeDiscord();
    client = botFor(fake);
    const error = await loginBot(client, 'not-the-token').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BotLoginError);
    expect((error as Error).message).toMatch(/rejected DISCORD_TOKEN.*Bot → Reset Token/);
  });

  it('explains a token the gateway refuses (close 4004), and that retrying will not help', async () => {
    fake = await startFakeDiscord();
    fake.refuseIdentify(GatewayCloseCodes.AuthenticationFailed);
    client = botFor(fake);
    const error = await loginBot(client, fake.token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BotLoginError);
    expect((error as Error).message).toMatch(/rejected DISCORD_TOKEN.*Bot → Reset Token/);
    expect((error as BotLoginError).retryable).toBe(false);
  });

  it('explains a shard Discord refuses (close 4010) by naming SHARDS', async () => {
    fake = await startFakeDiscord();
    fake.refuseIdentify(GatewayCloseCodes.InvalidShard);
    client = botFor(fake);
    const error = await loginBot(client, fake.token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BotLoginError);
    expect((error as Error).message).toBe(
      'Discord refused the shard (Invalid shard). Set SHARDS=auto to use the number of shards Discord recommends for this bot.',
    );
  });

  it('explains a Message Content intent left off in the portal', async () => {
    fake = await startFakeDiscord({ privilegedIntents: 0 });
    client = botFor(fake);
    const error = await loginBot(client, fake.token).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BotLoginError);
    expect((error as Error).message).toMatch(/Privileged Gateway Intents → Message Content Intent/);
  });

  it('explains an unreachable Discord', async () => {
    fake = await startFakeDiscord();
    const url = fake.restUrl;
    await fake.close();
    fake = undefined;
    client = createBot({
      library: { index: emptyIndex, embedder: null },
      config: { discord: { answerChannelIds: [] }, feedbackFile: '/nonexistent/feedback.jsonl' },
      logger: pino({ level: 'silent' }),
      clientOptions: { rest: { api: url, retries: 0 } },
    });
    const error = await loginBot(client, 'a.b.c').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BotLoginError);
    expect((error as Error).message).toMatch(/^Could not reach Discord/);
    // Worth trying again later: a shard that cannot reach Discord is restarted, not given up.
    expect((error as BotLoginError).retryable).toBe(true);
  });

  it('explains a Discord that takes the connection and never answers', async () => {
    // A server that accepts every request and never responds.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      client = createBot({
        library: { index: emptyIndex, embedder: null },
        config: { discord: { answerChannelIds: [] }, feedbackFile: '/nonexistent/feedback.jsonl' },
        logger: pino({ level: 'silent' }),
        clientOptions: { rest: { api: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api`, retries: 0, timeout: 300 } },
      });
      const error = await loginBot(client, 'a.b.c').catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(BotLoginError);
      expect((error as Error).message).toMatch(/took the connection but did not answer in time/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
