/**
 * Registers the slash and context-menu commands with Discord: for one guild when a guild id is given
 * (changes show at once, good while developing), otherwise globally (Discord may take up to an hour to
 * show them everywhere). Run by `npm run deploy-commands`, never at bot start-up: registration has its
 * own rate limits and only needs doing when the commands change.
 */
import { REST, Routes } from 'discord.js';
import { CitebotError } from '../errors.js';
import { commandData } from './commands/index.js';

/** Discord (or DISCORD_API_URL) took the connection and never answered. */
export class DiscordNoAnswer extends CitebotError {
  constructor(api: string | undefined, timeoutMs: number, options?: ErrorOptions) {
    super(
      'DiscordNoAnswer',
      `${api ?? 'Discord'} did not answer within ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`}, twice. Check the network connection${api ? ', and DISCORD_API_URL' : ''}.`,
      undefined,
      options,
    );
  }
}

/** How long one registration request may wait for an answer; it is tried twice. */
const DEPLOY_TIMEOUT_MS = 15_000;

export interface DeployOptions {
  token: string;
  applicationId: string;
  guildId?: string;
  /** REST base URL without the version (default Discord's, `https://discord.com/api`); tests point it at a fake. */
  api?: string;
  /** How long one request may wait for an answer (default 15 s); it is tried twice before giving up. */
  timeoutMs?: number;
}

export interface DeployReport {
  scope: 'guild' | 'global';
  names: string[];
}

/** Replaces the registered commands with the current list (one PUT: removed commands disappear). */
export async function deployCommands(options: DeployOptions): Promise<DeployReport> {
  const timeout = options.timeoutMs ?? DEPLOY_TIMEOUT_MS;
  // discord.js would try a silent server four times at 15 s each; one retry is enough to ride out a blip.
  const rest = new REST({ ...(options.api ? { api: options.api } : {}), timeout, retries: 1 }).setToken(options.token);
  const route = options.guildId
    ? Routes.applicationGuildCommands(options.applicationId, options.guildId)
    : Routes.applicationCommands(options.applicationId);
  let registered: Array<{ name: string }>;
  try {
    registered = (await rest.put(route, { body: commandData() })) as Array<{ name: string }>;
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw new DiscordNoAnswer(options.api, timeout, { cause: error });
    throw error;
  }
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
