/**
 * The shard's side of the IPC link to the shard manager, in a real child process: /add requests and
 * their outcomes, a manager that fails, does not answer or is gone (already before the shard connects
 * or listens), answers meant for another request, and index updates announced before the shard listens.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShardMessage } from '../../src/discord/shard-protocol.js';
import { waitUntil } from '../support/fake-discord.js';

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function startShard(timeoutMs: number, mode: string) {
  const child = fork(path.join(import.meta.dirname, 'manager-link-child.ts'), [String(timeoutMs), mode], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  const printed: Array<Record<string, unknown>> = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) printed.push(JSON.parse(part) as Record<string, unknown>);
  });
  const requests: ShardMessage[] = [];
  child.on('message', (message: ShardMessage) => requests.push(message));
  const started = waitUntil(() => printed.some((line) => line.started), { timeoutMs: 15_000, description: 'the child to start' });
  return { child, printed, requests, started };
}

const LINK = 'https://example.org/news/a';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The id of the `index`th /add request the shard sent. */
function requestOf(requests: ShardMessage[], index: number): string {
  const message = requests[index];
  if (message?.citebot !== 'add') throw new Error(`request ${index} is not an add: ${JSON.stringify(message)}`);
  return message.request;
}

describe('the link from a shard to its manager', () => {
  it('sends /add to the manager and returns its outcomes', async () => {
    const shard = startShard(5_000, 'add');
    await shard.started;
    shard.child.send({ test: 'add', links: [LINK] });
    await waitUntil(() => shard.requests.length === 1, { timeoutMs: 5_000, description: 'the add request' });
    expect(shard.requests[0]).toEqual({ citebot: 'add', request: expect.stringMatching(UUID), links: [LINK] });
    const outcomes = [{ link: LINK, status: 'already-indexed', file: 'web/example.org/a.html', title: 'A' }];
    shard.child.send({ citebot: 'added', request: requestOf(shard.requests, 0), outcomes });
    await waitUntil(() => shard.printed.some((line) => line.outcomes), { timeoutMs: 5_000, description: 'the outcomes' });
    expect(shard.printed.find((line) => line.outcomes)).toEqual({ outcomes });
  });

  it("turns the manager's failure, or its silence, into a failed link with the reason", async () => {
    const shard = startShard(400, 'add');
    await shard.started;
    shard.child.send({ test: 'add', links: [LINK] });
    await waitUntil(() => shard.requests.length === 1, { timeoutMs: 5_000, description: 'the add request' });
    shard.child.send({ citebot: 'add-failed', request: requestOf(shard.requests, 0), reason: 'The index could not be updated.' });
    shard.child.send({ test: 'add', links: [LINK] });
    await waitUntil(() => shard.printed.filter((line) => line.outcomes).length === 2, { timeoutMs: 5_000, description: 'both outcomes' });
    expect(shard.printed.filter((line) => line.outcomes)).toEqual([
      { outcomes: [{ link: LINK, status: 'failed', reason: 'The index could not be updated.' }] },
      { outcomes: [{ link: LINK, status: 'failed', reason: "the bot's main process did not answer within 1 second" }] },
    ]);
  });

  it('ignores an answer to a request it did not send (one of an earlier process of the shard)', async () => {
    const shard = startShard(5_000, 'add');
    await shard.started;
    shard.child.send({ test: 'add', links: [LINK] });
    shard.child.send({ test: 'add', links: [LINK] });
    await waitUntil(() => shard.requests.length === 2, { timeoutMs: 5_000, description: 'the add requests' });
    // Ids unique across processes, not numbers that start at 1 again in each process of the shard.
    expect(requestOf(shard.requests, 0)).not.toBe(requestOf(shard.requests, 1));
    const otherUsers = [{ link: 'https://example.org/news/other', status: 'added', file: 'web/example.org/other.html', title: 'Other' }];
    shard.child.send({ citebot: 'added', request: 1, outcomes: otherUsers });
    shard.child.send({ citebot: 'added', request: '00000000-0000-4000-8000-000000000000', outcomes: otherUsers });
    const outcomes = [{ link: LINK, status: 'already-indexed', file: 'web/example.org/a.html', title: 'A' }];
    shard.child.send({ citebot: 'added', request: requestOf(shard.requests, 1), outcomes });
    shard.child.send({ citebot: 'added', request: requestOf(shard.requests, 0), outcomes });
    await waitUntil(() => shard.printed.filter((line) => line.outcomes).length === 2, { timeoutMs: 5_000, description: 'both outcomes' });
    expect(shard.printed.filter((line) => line.outcomes)).toEqual([{ outcomes }, { outcomes }]);
  });

  it('says the main process cannot be reached once it is gone', async () => {
    const shard = startShard(5_000, 'add-when-gone');
    await shard.started;
    shard.child.disconnect();
    await waitUntil(() => shard.printed.some((line) => line.outcomes), { timeoutMs: 5_000, description: 'the outcomes' });
    expect(shard.printed.find((line) => line.outcomes)).toEqual({
      outcomes: [
        {
          link: 'https://example.org/a',
          status: 'failed',
          reason: "the bot's main process could not be reached, so nothing was added; please try again in a minute",
        },
      ],
    });
  });

  it('refuses to connect once the manager is gone (a shard that outlived it must not log in)', async () => {
    const shard = startShard(5_000, 'connect-when-gone');
    await shard.started;
    shard.child.disconnect();
    await waitUntil(() => shard.printed.length === 2, { timeoutMs: 5_000, description: 'the attempt to connect' });
    expect(shard.printed[1]).toEqual({
      error: 'The shard manager that started this shard process is gone; this shard does not run without it.',
    });
  });

  it('tells a listener added after the manager was gone at once', async () => {
    const shard = startShard(5_000, 'late-disconnect-listener');
    await shard.started;
    shard.child.disconnect();
    await waitUntil(() => shard.printed.some((line) => line.disconnected), { timeoutMs: 5_000, description: 'the disconnect' });
  });

  it('keeps an index update announced before the shard listened for it', async () => {
    const shard = startShard(5_000, 'late-listener');
    shard.child.send({ citebot: 'index-updated', version: 'gen-1/no-delta' });
    shard.child.send({ citebot: 'index-updated', version: 'gen-2/no-delta' });
    await waitUntil(() => shard.printed.some((line) => line.version), { timeoutMs: 15_000, description: 'the version' });
    expect(shard.printed.filter((line) => line.version)).toEqual([{ version: 'gen-2/no-delta' }]);
  });
});
