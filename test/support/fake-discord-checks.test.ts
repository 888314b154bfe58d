/**
 * The fake Discord checks and logs what it is sent: a request that breaks Discord's API description is
 * answered like Discord answers it and fails the test when the fake closes; with FAKE_DISCORD_LOG set,
 * every request is one JSON line in that file, without a token in sight.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RESTJSONErrorCodes } from 'discord.js';
import type { Client } from 'discord.js';
import { createTestClient, loginTestClient, SpecViolationError, startFakeDiscord, type FakeDiscord } from './fake-discord.js';
import type { RequestLogLine } from './request-log.js';
import { DiscordSpec } from './discord-spec.js';

let fake: FakeDiscord | undefined;
let client: Client | undefined;
let tmp: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-fake-log-'));
});

afterEach(async () => {
  await client?.destroy();
  await fake?.close();
  client = undefined;
  fake = undefined;
  await rm(tmp, { recursive: true, force: true });
});

/** A raw REST call as a bot makes it: `path` after /api/v10, JSON body, the bot token unless `auth` is false. */
async function call(discord: FakeDiscord, method: string, route: string, body?: unknown, auth = true) {
  const response = await fetch(`${discord.restUrl}/v10${route}`, {
    method,
    headers: {
      ...(auth ? { authorization: `Bot ${discord.token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

describe.skipIf(!DiscordSpec.available())('requests that break the description', () => {
  it('are answered 400 with Discord’s error shape, recorded, and make close() throw with route and reasons', async () => {
    const discord = await startFakeDiscord();
    fake = discord;
    const answer = await call(discord, 'POST', `/channels/${discord.channelId}/messages`, { content: 'x'.repeat(2001) });

    expect(answer).toEqual({
      status: 400,
      body: {
        code: RESTJSONErrorCodes.InvalidFormBodyOrContentType,
        message: 'Invalid Form Body',
        errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'must be 2000 or fewer in length (it is 2001)' }] } },
      },
    });
    expect(discord.specViolations).toEqual([
      {
        seq: 0,
        method: 'POST',
        path: `/channels/${discord.channelId}/messages`,
        route: '/channels/{channel_id}/messages',
        status: 400,
        problems: [{ at: '/content', code: 'BASE_TYPE_MAX_LENGTH', message: 'must be 2000 or fewer in length (it is 2001)' }],
      },
    ]);
    fake = undefined;
    const closing = discord.close();
    await expect(closing).rejects.toBeInstanceOf(SpecViolationError);
    await expect(closing).rejects.toThrow(
      /POST \/channels\/\d+\/messages \(POST \/channels\/\{channel_id\}\/messages\) → 400\n +\/content: must be 2000/,
    );
  });

  it('include a route Discord does not have, another API version and a body that is not JSON', async () => {
    fake = await startFakeDiscord();
    expect((await call(fake, 'GET', '/nothing/here')).status).toBe(404);
    const v9 = await fetch(`${fake.restUrl}/v9/gateway/bot`, { headers: { authorization: `Bot ${fake.token}` } });
    expect(v9.status).toBe(400);
    const notJson = await call(fake, 'POST', `/channels/${fake.channelId}/messages`, '{"content":');
    expect(notJson.body?.code).toBe(RESTJSONErrorCodes.RequestBodyContainsInvalidJSON);

    const taken = fake.takeSpecViolations();
    expect(taken.map((violation) => [violation.path, violation.status, violation.problems[0]?.at])).toEqual([
      ['/nothing/here', 404, 'path'],
      ['/api/v9/gateway/bot', 400, 'path'],
      [`/channels/${fake.channelId}/messages`, 400, ''],
    ]);
    expect(fake.specViolations).toEqual([]); // taken: close() has nothing to complain about
  });

  it('with checkRequests: false reach the fake unchecked, which still refuses what it knows to refuse', async () => {
    fake = await startFakeDiscord({ checkRequests: false });
    const answer = await call(fake, 'POST', `/channels/${fake.channelId}/messages`, { content: 'x'.repeat(2001) });
    expect(answer.status).toBe(400);
    expect((await call(fake, 'GET', '/nothing/here')).status).toBe(404);
    expect(fake.specViolations).toEqual([]);
  });
});

describe('the request log', () => {
  it('FAKE_DISCORD_LOG: one JSON line per request, concurrent ones too; no token, interaction tokens as :token', async () => {
    const file = path.join(tmp, 'requests.jsonl');
    fake = await withLogEnv(file, () => startFakeDiscord());
    const discord = fake;
    client = await loginTestClient(createTestClient(discord), discord);
    const channel = client.channels.cache.get(discord.channelId);
    if (!channel?.isSendable()) throw new Error('general is not sendable');
    // discord.js sends a file as multipart: the payload_json part is the body, the file part is named.
    await channel.send({ content: 'with a file', files: [{ attachment: Buffer.from('hello'), name: 'hello.txt' }] });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => call(discord, 'POST', `/channels/${discord.channelId}/messages`, { content: `n${i}` })),
    );
    const handle = discord.chatInputCommand('ask', { question: 'x' });
    expect(
      (await call(discord, 'POST', `${handle.callbackPath}?with_response=false`, { type: 4, data: { content: 'hi' } }, false)).status,
    ).toBe(204);
    expect((await call(discord, 'PATCH', handle.originalPath, { content: 'edited' }, false)).status).toBe(200);

    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RequestLogLine);
    expect(lines).toHaveLength(discord.requests.length);
    expect(lines.map((line) => line.status)).toEqual(discord.requests.map((request) => request.status));
    expect(text).not.toContain(discord.token);
    expect(text).not.toContain(handle.token);

    expect(lines[0]).toEqual({ method: 'GET', path: '/gateway/bot', query: {}, body: null, multipart: false, status: 200 });
    expect(lines.find((line) => line.multipart)).toMatchObject({
      method: 'POST',
      path: `/channels/${discord.channelId}/messages`,
      body: { content: 'with a file', attachments: [{ id: '0' }] },
      files: ['files[0]'],
      status: 200,
    });
    const posted = lines.filter((line) => !line.multipart && line.path === `/channels/${discord.channelId}/messages`);
    expect(posted.map((line) => (line.body as { content: string }).content).sort()).toEqual(
      Array.from({ length: 30 }, (_, i) => `n${i}`).sort(),
    );
    expect(lines.at(-2)).toEqual({
      method: 'POST',
      path: `/interactions/${handle.id}/:token/callback`,
      query: { with_response: 'false' },
      body: { type: 4, data: { content: 'hi' } },
      multipart: false,
      status: 204,
    });
    expect(lines.at(-1)?.path).toBe(`/webhooks/${discord.applicationId}/:token/messages/@original`);
  });

  it.skipIf(!DiscordSpec.available())(
    'the requestLog option wins over the environment (null: no log), and a violation is written with its reasons',
    async () => {
      const fromEnv = path.join(tmp, 'from-env.jsonl');
      const explicit = path.join(tmp, 'explicit.jsonl');
      fake = await withLogEnv(fromEnv, () => startFakeDiscord({ requestLog: explicit }));
      const silent = await withLogEnv(fromEnv, () => startFakeDiscord({ requestLog: null }));
      await call(fake, 'POST', `/channels/${fake.channelId}/messages`, { content: 'x'.repeat(2001) });
      await call(silent, 'GET', '/gateway/bot');
      await silent.close();
      fake.takeSpecViolations();

      const [line] = (await readFile(explicit, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((entry) => JSON.parse(entry) as RequestLogLine);
      expect(line).toMatchObject({ status: 400, violations: ['/content: must be 2000 or fewer in length (it is 2001)'] });
      await expect(readFile(fromEnv, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    },
  );
});

/** Runs `start` with FAKE_DISCORD_LOG set to `file`, then puts the variable back as it was. */
async function withLogEnv<T>(file: string, start: () => Promise<T>): Promise<T> {
  const previous = process.env.FAKE_DISCORD_LOG;
  process.env.FAKE_DISCORD_LOG = file;
  try {
    return await start();
  } finally {
    if (previous === undefined) delete process.env.FAKE_DISCORD_LOG;
    else process.env.FAKE_DISCORD_LOG = previous;
  }
}
