/**
 * What the shard manager and its shard processes say to each other over Node's IPC channel (JSON).
 * discord.js' own lifecycle messages (`_ready`, `_disconnect`, …) travel on the same channel; ours carry
 * a `citebot` field, so neither side mistakes the other's.
 */
import type { AddedLink } from '../web/add-pages.js';

/**
 * The exit code of a shard that cannot run however often it is restarted (Discord refused its token,
 * its intents or its shard): the manager stops every shard and exits instead of respawning it.
 * 78 is EX_CONFIG of sysexits.h, "configuration error".
 */
export const SHARD_EXIT_FATAL = 78;

/** From the manager to a shard. */
export type ManagerMessage =
  /** The index was updated (the manifest now names `version`): load it. */
  | { citebot: 'index-updated'; version: string }
  /** The answer to the shard's `add` request `request`. */
  | { citebot: 'added'; request: string; outcomes: AddedLink[] }
  | { citebot: 'add-failed'; request: string; reason: string };

/** From a shard to the manager. */
export type ShardMessage =
  /**
   * Fetch, save and index these links (/add), and answer with `added` or `add-failed`. `request` is a
   * random UUID, unique across the shard's processes, so a late answer never settles another request.
   */
  | { citebot: 'add'; request: string; links: string[] }
  /** The shard cannot run: why, in a sentence for the operator. It exits with SHARD_EXIT_FATAL next. */
  | { citebot: 'fatal'; reason: string };

const MANAGER_KINDS = new Set<string>(['index-updated', 'added', 'add-failed']);
const SHARD_KINDS = new Set<string>(['add', 'fatal']);

function kindOf(message: unknown): string | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const kind = (message as { citebot?: unknown }).citebot;
  return typeof kind === 'string' ? kind : undefined;
}

export function isManagerMessage(message: unknown): message is ManagerMessage {
  return MANAGER_KINDS.has(kindOf(message) ?? '');
}

export function isShardMessage(message: unknown): message is ShardMessage {
  return SHARD_KINDS.has(kindOf(message) ?? '');
}
