/**
 * GET /gateway/bot, asked once by the shard manager before it starts anything: it checks the token
 * (a rejected one stops start-up at once, before the index is built), and gives the shard count Discord
 * recommends (SHARDS=auto) and how many shards may identify at once. discord.js' own lookup for
 * `totalShards: 'auto'` always asks discord.com, whatever DISCORD_API_URL says; this one does not.
 */
import { REST, Routes, type RESTGetAPIGatewayBotResult } from 'discord.js';
import { loginFailure } from './bot.js';

export interface GatewayInfo {
  /** The number of shards Discord recommends for this bot. */
  shards: number;
  /** Shards that may identify in the same 5 seconds. */
  maxConcurrency: number;
  /** Sessions the bot may still start before `resetAfterMs` has passed. */
  remainingSessions: number;
  resetAfterMs: number;
}

export async function fetchGatewayInfo(token: string, options: { api?: string; timeoutMs?: number } = {}): Promise<GatewayInfo> {
  const rest = new REST({ ...(options.api ? { api: options.api } : {}), timeout: options.timeoutMs ?? 15_000, retries: 1 }).setToken(token);
  try {
    const info = (await rest.get(Routes.gatewayBot())) as RESTGetAPIGatewayBotResult;
    return {
      shards: info.shards,
      maxConcurrency: Math.max(1, info.session_start_limit.max_concurrency),
      remainingSessions: info.session_start_limit.remaining,
      resetAfterMs: info.session_start_limit.reset_after,
    };
  } catch (error) {
    throw loginFailure(error) ?? error;
  } finally {
    rest.clearHashSweeper();
    rest.clearHandlerSweeper();
  }
}
