/**
 * A shard process's side of the IPC channel to the shard manager (Node's `process.send`, the channel
 * discord.js' ShardingManager opens): /add requests go up and their outcomes come back; index updates
 * come down; a shard that cannot run says why before it exits.
 */
import { randomUUID } from 'node:crypto';
import type { AddedLink } from '../web/add-pages.js';
import { isManagerMessage, type ShardMessage } from './shard-protocol.js';

export interface ManagerLink {
  /**
   * Asks the manager to add the links (/add), the one process that writes the index. When the manager
   * cannot be reached or does not answer in time, every link is "failed" with that reason.
   */
  addLinks(links: string[]): Promise<AddedLink[]>;
  /** Calls `listener` with each index version the manager announces, starting with the latest one announced so far. */
  onIndexUpdated(listener: (version: string) => void): void;
  /** Tells the manager why this shard cannot run; resolves once sent (or the channel is gone). */
  reportFatal(reason: string): Promise<void>;
  /** Calls `listener` once when the channel closes (at once if it is already closed): the manager is gone. */
  onDisconnect(listener: () => void): void;
}

/** How long an /add may take in the manager: five pages fetched (15 s each at most) and an index update. */
const ADD_TIMEOUT_MS = 5 * 60_000;

/** The manager's answer to an /add: the outcomes, or why there are none. */
type AddAnswer = { outcomes: AddedLink[] } | { reason: string };

const UNREACHABLE = "the bot's main process could not be reached, so nothing was added; please try again in a minute";

function duration(ms: number): string {
  if (ms >= 120_000) return `${Math.round(ms / 60_000)} minutes`;
  const seconds = Math.ceil(ms / 1000);
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}

function failed(links: readonly string[], reason: string): AddedLink[] {
  return links.map((link) => ({ link, status: 'failed' as const, reason }));
}

/**
 * Listens on the channel at once, so that an index update announced while the shard still loads is not
 * lost. Throws when this process was not started by the shard manager, or when its manager is already
 * gone: its 'disconnect' has fired, and a shard running without a manager would log in beside the one
 * a restarted manager starts.
 */
export function connectToManager(options: { addTimeoutMs?: number } = {}): ManagerLink {
  if (typeof process.send !== 'function')
    throw new Error('This shard process has no channel to a shard manager; start citebot with `npm start`.');
  // process.send stays a function once the channel has closed.
  if (!process.connected) throw new Error('The shard manager that started this shard process is gone; this shard does not run without it.');
  const send = (message: ShardMessage) =>
    new Promise<void>((resolve, reject) => {
      if (!process.connected) {
        reject(new Error('the channel to the shard manager is closed'));
        return;
      }
      process.send!(message, undefined, {}, (error: Error | null) => (error ? reject(error) : resolve()));
    });
  const timeoutMs = options.addTimeoutMs ?? ADD_TIMEOUT_MS;
  // Request ids unique across processes: an answer meant for an earlier process of this shard (restarted
  // since) settles nothing here, where numbering from 1 again would hand it another user's request.
  const pending = new Map<string, (answer: AddAnswer) => void>();
  let latestVersion: string | undefined;
  const versionListeners: Array<(version: string) => void> = [];

  process.on('message', (message: unknown) => {
    if (!isManagerMessage(message)) return;
    if (message.citebot === 'index-updated') {
      latestVersion = message.version;
      for (const listener of versionListeners) listener(message.version);
      return;
    }
    pending.get(message.request)?.(message.citebot === 'added' ? { outcomes: message.outcomes } : { reason: message.reason });
  });
  // discord.js sends its own messages without a callback: on a closed channel that is an 'error' event,
  // which would crash the shard while it shuts down.
  process.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_IPC_CHANNEL_CLOSED') throw error;
  });
  process.once('disconnect', () => {
    for (const answer of pending.values()) answer({ reason: UNREACHABLE });
  });

  return {
    async addLinks(links) {
      const request = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<AddAnswer>((resolve) => {
        pending.set(request, resolve);
        timer = setTimeout(() => resolve({ reason: `the bot's main process did not answer within ${duration(timeoutMs)}` }), timeoutMs);
      });
      try {
        const answer = await Promise.race([send({ citebot: 'add', request, links }).then(() => answered), answered]);
        return 'outcomes' in answer ? answer.outcomes : failed(links, answer.reason);
      } catch {
        return failed(links, UNREACHABLE);
      } finally {
        pending.delete(request);
        clearTimeout(timer);
      }
    },
    onIndexUpdated(listener) {
      versionListeners.push(listener);
      if (latestVersion !== undefined) listener(latestVersion);
    },
    reportFatal: (reason) => send({ citebot: 'fatal', reason }).catch(() => undefined),
    onDisconnect(listener) {
      if (process.connected) process.once('disconnect', listener);
      else listener();
    },
  };
}
