/**
 * Registers the slash and context-menu commands with Discord: for one guild when a guild id is given
 * (changes show at once, good while developing), otherwise globally (Discord may take up to an hour to
 * show them everywhere). Run by `npm run deploy-commands`, never at bot start-up: registration has its
 * own rate limits and only needs doing when the commands change.
 */
import { REST, Routes } from 'discord.js';
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
  if (!discord.applicationId)
    missing.push('DISCORD_APPLICATION_ID (Developer Portal → your application → General Information → Application ID)');
  return missing;
}
