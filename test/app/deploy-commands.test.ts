/** deploy-commands: the command list registered by REST, for one guild or globally, against the fake. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationCommandOptionType, ApplicationCommandType } from 'discord.js';
import { commandData } from '../../src/discord/commands/index.js';
import { DiscordNoAnswer, deployCommands, missingDeploySettings } from '../../src/discord/deploy-commands.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeDiscord, type FakeDiscord } from '../support/fake-discord.js';
import { repoRoot } from '../discord/harness.js';

let fake: FakeDiscord | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('deployCommands', () => {
  it('registers every command for one guild with a single PUT', async () => {
    fake = await startFakeDiscord();
    const report = await deployCommands({ token: fake.token, applicationId: fake.applicationId, guildId: fake.guildId, api: fake.restUrl });

    expect(report).toEqual({ scope: 'guild', names: ['ask', 'sources', 'article', 'Find sources', 'add'] });
    const puts = fake.requestsTo('PUT', `/applications/${fake.applicationId}/guilds/${fake.guildId}/commands`);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.headers.authorization).toBe(`Bot ${fake.token}`);
    const registered = fake.applicationCommands(fake.guildId);
    expect(registered.map((command) => [command.name, command.type])).toEqual([
      ['ask', ApplicationCommandType.ChatInput],
      ['sources', ApplicationCommandType.ChatInput],
      ['article', ApplicationCommandType.ChatInput],
      ['Find sources', ApplicationCommandType.Message],
      ['add', ApplicationCommandType.ChatInput],
    ]);
    // /add is for members who may manage messages: Discord hides it from the others.
    expect(String(registered.find((command) => command.name === 'add')?.default_member_permissions)).toBe('8192');
    expect(fake.applicationCommands()).toEqual([]);
  });

  it('registers globally without a guild id', async () => {
    fake = await startFakeDiscord();
    const report = await deployCommands({ token: fake.token, applicationId: fake.applicationId, api: fake.restUrl });
    expect(report.scope).toBe('global');
    expect(fake.requestsTo('PUT', `/applications/${fake.applicationId}/commands`)).toHaveLength(1);
    expect(fake.applicationCommands().map((command) => command.name)).toEqual(['ask', 'sources', 'article', 'Find sources', 'add']);
  });

  it('says so, without a stack, when the API takes the connection and never answers', async () => {
    const silent = createServer(() => {}); // accepts, reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const api = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/api`;
    try {
      const error = await deployCommands({ token: 'x.y.z', applicationId: '123456789012345678', api, timeoutMs: 200 }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DiscordNoAnswer);
      expect((error as Error).message).toBe(
        `${api} did not answer within 200 ms, twice. Check the network connection, and DISCORD_API_URL.`,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('describes the options Discord shows', () => {
    const ask = commandData().find((command) => command.name === 'ask');
    expect(ask && 'options' in ask ? ask.options : []).toEqual([
      expect.objectContaining({ name: 'question', type: ApplicationCommandOptionType.String, required: true, max_length: 1000 }),
      expect.objectContaining({ name: 'results', type: ApplicationCommandOptionType.Integer, min_value: 1, max_value: 5 }),
      expect.objectContaining({ name: 'private', type: ApplicationCommandOptionType.Boolean }),
      expect.objectContaining({ name: 'outlet', type: ApplicationCommandOptionType.String, max_length: 100 }),
      expect.objectContaining({ name: 'since', type: ApplicationCommandOptionType.String, max_length: 10 }),
      expect.objectContaining({ name: 'until', type: ApplicationCommandOptionType.String, max_length: 10 }),
    ]);
    const article = commandData().find((command) => command.name === 'article');
    expect(article && 'options' in article ? article.options : []).toEqual([
      expect.objectContaining({ name: 'title', autocomplete: true, required: true }),
    ]);
  });

  it('names what is missing and where to find it', () => {
    expect(missingDeploySettings({})).toEqual([
      expect.stringMatching(/^DISCORD_TOKEN \(.*Reset Token\)$/),
      expect.stringMatching(/^DISCORD_APPLICATION_ID \(.*Application ID\)$/),
    ]);
    expect(missingDeploySettings({ token: 't', applicationId: '1' })).toEqual([]);
  });

  it('as a script, exits 1 with that message when the token is missing', async () => {
    const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
    const run = promisify(execFile)(tsx, [path.join(repoRoot, 'src/app/deploy-commands.ts')], {
      cwd: repoRoot,
      env: { ...process.env, DISCORD_TOKEN: '', DISCORD_APPLICATION_ID: '', DISCORD_GUILD_ID: '' },
    });
    const failure = (await run.then(
      () => null,
      (error: unknown) => error,
    )) as { code?: number; stderr?: string } | null;
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /^error: deploy-commands needs these settings in \.env \(see \.env\.example\):\n {2}- DISCORD_TOKEN .*\n {2}- DISCORD_APPLICATION_ID /,
    );
  });
});
