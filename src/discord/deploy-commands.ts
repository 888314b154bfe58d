/**
 * `npm run deploy-commands`: registers the slash and context-menu commands with Discord. For one guild
 * when DISCORD_GUILD_ID is set (changes show at once, good while developing), otherwise globally
 * (Discord may take up to an hour to show them everywhere). Never run at bot start-up: registration
 * has its own rate limits and only needs doing when the commands change.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REST, Routes } from 'discord.js';
import { configFromEnvironment, runMain, UsageError } from '../cli/common.js';
import { commandData } from './commands/index.js';

export interface DeployOptions {
  token: string;
  applicationId: string;
  guildId?: string;
  /** REST base URL without the version (default Discord's, `https://discord.com/api`); tests point it at a fake. */
  api?: string;
}

export interface DeployReport {
  scope: 'guild' | 'global';
  names: string[];
}

/** Replaces the registered commands with the current list (one PUT: removed commands disappear). */
export async function deployCommands(options: DeployOptions): Promise<DeployReport> {
  const rest = new REST(options.api ? { api: options.api } : {}).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  const registered = (await rest.put(route, { body: commandData() })) as Array<{ name: string }>;
  return { scope: options.guildId ? 'guild' : 'global', names: registered.map((command) => command.name) };
}

/** The keys deploy-commands cannot run without, with where to find each. */
export function missingDeploySettings(discord: { token?: string; applicationId?: string }): string[] {
  const missing: string[] = [];
  if (!discord.token) missing.push('DISCORD_TOKEN (Developer Portal → your application → Bot → Reset Token)');
  if (!discord.applicationId) missing.push('DISCORD_APPLICATION_ID (Developer Portal → your application → General Information → Application ID)');
  return missing;
}

async function main(): Promise<number> {
  const config = configFromEnvironment();
  const { token, applicationId, guildId } = config.discord;
  if (!token || !applicationId) {
    const missing = missingDeploySettings(config.discord);
    throw new UsageError(`deploy-commands needs these settings in .env (see .env.example):\n${missing.map((line) => `  - ${line}`).join('\n')}`);
  }
  const report = await deployCommands({ token, applicationId, guildId, api: config.discord.apiUrl });
  const where = report.scope === 'guild' ? `guild ${guildId} (available now)` : 'every server (global commands can take up to an hour to appear)';
  console.log(`Registered ${report.names.length} commands for ${where}: ${report.names.join(', ')}`);
  return 0;
}

// Run only as a script, so tests can import deployCommands.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) runMain(main);
