/**
 * The request checker of the fake Discord is not vacuous: bodies Discord accepts pass, and each limit
 * — from the OpenAPI description or checked by hand — is reported with where and why.
 */
import { describe, expect, it } from 'vitest';
import { commandData } from '../../src/discord/commands/index.js';
import { DiscordSpec, type SpecCheck } from './discord-spec.js';

// The description lives in ../shared beside the checkout; without it there is nothing to check against.
const hasSpec = DiscordSpec.available();
const spec = hasSpec ? DiscordSpec.load() : undefined;

const CHANNEL = '/channels/1234567890123456789/messages';
const CALLBACK = '/interactions/1234567890123456789/aW50ZXJhY3Rpb246dG9rZW4/callback';
const ORIGINAL = '/webhooks/1234567890123456789/aW50ZXJhY3Rpb246dG9rZW4/messages/@original';
const GUILD_COMMANDS = '/applications/1234567890123456789/guilds/9876543210987654321/commands';

function check(method: string, path: string, body: unknown = null, multipart = false): SpecCheck {
  return spec!.check({ method, path, body, multipart });
}

/** `at: message` for each problem, to compare in one line. */
function problems(result: SpecCheck): string[] {
  return result.problems.map((problem) => `${problem.at}: ${problem.message}`);
}

const text = (length: number, char = 'x') => char.repeat(length);
const button = (id: string, label = 'Go') => ({ type: 2, style: 2, custom_id: id, label });
const row = (count: number, prefix: string) => ({ type: 1, components: Array.from({ length: count }, (_, i) => button(`${prefix}${i}`)) });
const choices = (count: number, nameLength = 10, valueLength = 10) =>
  Array.from({ length: count }, (_, i) => ({ name: text(nameLength - 1) + (i % 10), value: text(valueLength - 1, 'v') + (i % 10) }));

/** Embeds whose text adds up to exactly `total` characters, every part within its own limit. */
function embedsTotalling(total: number) {
  const fields = Array.from({ length: 5 }, (_, i) => ({ name: `field ${i}`, value: text(1000) }));
  const used = fields.reduce((sum, field) => sum + field.name.length + field.value.length, 0);
  return [
    { title: text(200, 't'), fields },
    { description: text(total - used - 200 - 7, 'd'), footer: { text: 'footer!' } },
  ];
}

describe.skipIf(!hasSpec)('routes', () => {
  it('finds the route template, preferring literal segments', () => {
    expect(check('GET', '/users/@me').route).toBe('/users/@me');
    expect(check('GET', '/users/1234567890123456789').route).toBe('/users/{user_id}');
    expect(check('PATCH', ORIGINAL, { content: 'hi' }).route).toBe('/webhooks/{webhook_id}/{webhook_token}/messages/@original');
    expect(check('GET', '/gateway/bot')).toMatchObject({ status: null, problems: [] });
  });

  it('reports a route Discord does not have (404) and a method the route does not take (405)', () => {
    expect(check('GET', '/nothing/here')).toMatchObject({ route: null, status: 404 });
    expect(check('POST', '/channels/1234567890123456789/messages/1234567890123456789/reactions')).toMatchObject({ status: 405 });
    expect(problems(check('DELETE', '/gateway/bot'))).toEqual(['method: /gateway/bot takes GET, not DELETE']);
  });

  it('reports a path parameter of the wrong shape, and never repeats a token', () => {
    expect(problems(check('POST', '/channels/undefined/messages', { content: 'hi' }))).toEqual([
      '{channel_id}: path parameter channel_id = "undefined": must match pattern "^(0|[1-9][0-9]*)$"',
    ]);
    const tooLong = `/interactions/1234567890123456789/${text(152_134)}/callback`;
    const report = JSON.stringify(check('POST', tooLong, { type: 6 }).problems);
    expect(report).toContain('interaction_token = :token');
    expect(report).not.toContain(text(100));
  });
});

describe.skipIf(!hasSpec)('message bodies', () => {
  it('accepts what the bot sends: a reply with an embed, buttons and no mentions; a deferral; an edit', () => {
    const reply = {
      content: '⚠️ keywords only',
      embeds: [{ title: 'how many US troops are in Syria?', description: '> quote', color: 0x2e9e5b, footer: { text: 'hybrid' } }],
      components: [row(3, 'a'), row(2, 'b')],
      allowed_mentions: { parse: [], replied_user: false },
      message_reference: { message_id: '1234567890123456789', fail_if_not_exists: false },
    };
    expect(check('POST', CHANNEL, reply)).toMatchObject({ status: null, problems: [] });
    expect(check('POST', CALLBACK, { type: 5, data: { flags: 64 } }).status).toBeNull();
    expect(
      check('PATCH', ORIGINAL, { content: '', embeds: reply.embeds, components: [], allowed_mentions: { parse: [] } }).status,
    ).toBeNull();
  });

  it('content: 2,000 characters pass, 2,001 do not — on create, edit and interaction reply alike', () => {
    expect(check('POST', CHANNEL, { content: text(2000) }).status).toBeNull();
    expect(problems(check('POST', CHANNEL, { content: text(2001) }))).toEqual(['/content: must be 2000 or fewer in length (it is 2001)']);
    expect(check('PATCH', ORIGINAL, { content: text(2001) }).status).toBe(400);
    // Here the description knows the limit too, and says so beside the hand check.
    expect(problems(check('POST', CALLBACK, { type: 4, data: { content: text(2001) } }))).toEqual([
      '/data/content: must NOT have more than 2000 characters',
      '/data/content: must be 2000 or fewer in length (it is 2001)',
    ]);
  });

  it('embeds: 6,000 characters over all embeds pass, 6,001 do not', () => {
    expect(check('POST', CHANNEL, { embeds: embedsTotalling(6000) }).status).toBeNull();
    const over = check('POST', CALLBACK, { type: 4, data: { embeds: embedsTotalling(6001) } });
    expect(over.status).toBe(400);
    expect(over.problems).toEqual([expect.objectContaining({ at: '/data/embeds', code: 'MAX_EMBED_SIZE_EXCEEDED' })]);
    expect(problems(over)[0]).toContain('6001');
  });

  it('embeds: the per-part limits of the description (title 256)', () => {
    expect(problems(check('POST', CHANNEL, { embeds: [{ title: text(257) }] }))).toEqual([
      '/embeds/0/title: must NOT have more than 256 characters',
    ]);
  });

  it('components: 5 rows of 5 buttons pass; a sixth row or a sixth button does not', () => {
    const full = Array.from({ length: 5 }, (_, r) => row(5, `r${r}-`));
    expect(check('POST', CHANNEL, { content: 'x', components: full }).status).toBeNull();
    expect(problems(check('POST', CHANNEL, { content: 'x', components: [...full, row(1, 'extra')] }))).toEqual([
      '/components: must be 5 or fewer action rows (it has 6)',
    ]);
    expect(problems(check('PATCH', ORIGINAL, { components: [row(6, 'b')] }))).toEqual([
      '/components/0/components: must NOT have more than 5 items',
      '/components/0/components: must be 5 or fewer in a row (it has 6)',
    ]);
  });

  it('components: errors name the one wrong part, not every kind of component it is not', () => {
    const result = check('POST', CALLBACK, { type: 7, data: { components: [{ type: 1, components: [button('a', text(81))] }] } });
    expect(problems(result)).toEqual(['/data/components/0/components/0/label: must NOT have more than 80 characters']);
  });

  it('an interaction response of no known type', () => {
    expect(problems(check('POST', CALLBACK, { type: 99 }))).toEqual([
      '/type: must be equal to one of the allowed values (8, 4, 5, 12, 9, 1, 13, 6, 7)',
    ]);
  });

  it('multipart: the payload_json part is what is checked', () => {
    // discord.js numbers new attachments with string ids ("0"), the snowflake shape the description wants.
    expect(check('POST', CHANNEL, { content: 'see file', attachments: [{ id: '0', filename: 'a.txt' }] }, true).status).toBeNull();
    expect(check('POST', CHANNEL, { content: text(2001) }, true).status).toBe(400);
  });
});

describe.skipIf(!hasSpec)('autocomplete results', () => {
  it('25 choices with 100-character names and values pass, and so does an empty list', () => {
    expect(check('POST', CALLBACK, { type: 8, data: { choices: choices(25, 100, 100) } }).status).toBeNull();
    expect(check('POST', CALLBACK, { type: 8, data: { choices: [] } }).status).toBeNull();
  });

  it('26 choices, a 101-character name or a 101-character value do not', () => {
    expect(problems(check('POST', CALLBACK, { type: 8, data: { choices: choices(26) } }))).toEqual([
      '/data/choices: must NOT have more than 25 items',
    ]);
    expect(problems(check('POST', CALLBACK, { type: 8, data: { choices: choices(1, 101) } }))).toEqual([
      '/data/choices/0/name: must NOT have more than 100 characters',
    ]);
    // The description allows values of 6,000 characters; Discord's documentation says 100.
    expect(problems(check('POST', CALLBACK, { type: 8, data: { choices: choices(1, 10, 101) } }))).toEqual([
      '/data/choices/0/value: must be 100 or fewer in length (it is 101)',
    ]);
  });
});

describe.skipIf(!hasSpec)('command registration', () => {
  it("accepts the bot's own commands, the context menu's capitals and space included", () => {
    expect(check('PUT', GUILD_COMMANDS, commandData())).toMatchObject({ status: null, problems: [] });
  });

  it('names: lower case, no spaces, at most 32; descriptions 1–100; for options too', () => {
    const command = (fields: Record<string, unknown>) => [{ name: 'ask', description: 'Ask a question', ...fields }];
    expect(problems(check('PUT', GUILD_COMMANDS, command({ name: 'Ask' })))).toEqual(['/0/name: "Ask" must be lower case']);
    expect(problems(check('PUT', GUILD_COMMANDS, command({ name: 'ask me' })))).toEqual([
      String.raw`/0/name: "ask me" does not match /^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u`,
    ]);
    expect(problems(check('PUT', GUILD_COMMANDS, command({ name: text(33, 'a') })))).toContain(
      '/0/name: must NOT have more than 32 characters',
    );
    expect(problems(check('PUT', GUILD_COMMANDS, command({ description: '' })))).toEqual([
      '/0/description: must be between 1 and 100 in length (it is 0)',
    ]);
    expect(problems(check('PUT', GUILD_COMMANDS, command({ description: text(101) })))).toEqual([
      '/0/description: must NOT have more than 100 characters',
      '/0/description: must be between 1 and 100 in length (it is 101)',
    ]);
    const option = { type: 3, name: 'Query', description: 'What', choices: [{ name: 'long', value: text(101) }] };
    expect(problems(check('POST', GUILD_COMMANDS, { name: 'ask', description: 'Ask', options: [option] }))).toEqual([
      '/options/0/name: "Query" must be lower case',
      '/options/0/choices/0/value: must be 100 or fewer in length (it is 101)',
    ]);
  });
});
