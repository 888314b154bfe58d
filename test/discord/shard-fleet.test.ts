/**
 * The shard fleet with stand-in shard scripts (plain Node, no bot): a shard that keeps crashing is
 * restarted with a growing delay, not in a loop; a shard that exits with SHARD_EXIT_FATAL is not
 * restarted and `fatal` says why; `stop` waits for the shards, and kills one that does not stop; a shard
 * process that cannot even be started (no Node to run it) is logged and tried again like a crash.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShardFatal, ShardFleet } from '../../src/discord/shard-fleet.js';
import { SHARD_EXIT_FATAL } from '../../src/discord/shard-protocol.js';
import { waitUntil } from '../support/fake-discord.js';
import { makeTempDir, removeTempDirs } from '../helpers.js';

interface LogLine {
  event?: string;
  shard?: number;
  respawnInMs?: number;
  code?: number | null;
  signal?: string | null;
  err?: { message?: string; code?: string };
}

let dir: string;
const fleets: ShardFleet[] = [];
// ShardingManager marks its own process as a shard manager in process.env; put it back afterwards.
const savedEnvironment = { ...process.env };

beforeAll(async () => {
  dir = await makeTempDir('citebot-fleet-');
  const scripts: Record<string, string> = {
    // Dies at once, every time.
    'crash.mjs': 'process.exit(1);',
    // Says why it cannot run, as a shard refused by Discord does, then exits so.
    'fatal.mjs': `process.send({ citebot: 'fatal', reason: 'Discord rejected DISCORD_TOKEN.' }, () => process.exit(${SHARD_EXIT_FATAL}));`,
    // On SIGTERM, finishes "an answer" for 100 ms and exits 0; ready at once (discord.js' own message),
    // once the handler is in place.
    'polite.mjs': `process.on('SIGTERM', () => setTimeout(() => process.exit(0), 100));
      process.send({ _ready: true });
      setInterval(() => {}, 1000);`,
    // Deaf to SIGTERM, and ready.
    'stubborn.mjs': `process.on('SIGTERM', () => {});
      process.send({ _ready: true });
      setInterval(() => {}, 1000);`,
  };
  for (const [name, source] of Object.entries(scripts)) await writeFile(path.join(dir, name), source);
});

afterEach(async () => {
  for (const fleet of fleets.splice(0)) await fleet.stop(500);
});

afterAll(async () => {
  for (const key of Object.keys(process.env)) if (!(key in savedEnvironment)) delete process.env[key];
  Object.assign(process.env, savedEnvironment);
  await removeTempDirs();
});

function fleetOf(script: string, count = 1) {
  const logs: LogLine[] = [];
  const fleet = new ShardFleet({
    script: path.join(dir, script),
    args: [],
    token: 'a.b.c',
    count,
    maxConcurrency: count,
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) }),
    onMessage: () => undefined,
    backoff: { minMs: 100, maxMs: 400, stableMs: 60_000 },
    identifyIntervalMs: 0,
  });
  fleets.push(fleet);
  return { fleet, logs, events: (event: string) => logs.filter((line) => line.event === event) };
}

describe('ShardFleet', () => {
  it('restarts a shard that keeps crashing after a growing delay, never in a tight loop', async () => {
    const { fleet, events } = fleetOf('crash.mjs');
    fleet.start();
    await waitUntil(() => events('shard-died').length >= 4, { timeoutMs: 15_000, description: 'four crashes' });
    const started = Date.now();
    const crashes = events('shard-died').length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(
      events('shard-died')
        .slice(0, 4)
        .map((line) => line.respawnInMs),
    ).toEqual([100, 200, 400, 400]);
    // At the cap, at most one restart per 400 ms (plus the time a process takes to start).
    expect(events('shard-died').length - crashes).toBeLessThanOrEqual(Math.ceil((Date.now() - started) / 400));
    expect(events('shard-died').every((line) => line.code === 1 && line.shard === 0)).toBe(true);
  });

  it('does not restart a shard that exits with SHARD_EXIT_FATAL, and rejects `fatal` with its reason', async () => {
    const { fleet, events } = fleetOf('fatal.mjs', 2);
    fleet.start();
    const error = await fleet.fatal.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ShardFatal);
    expect((error as ShardFatal).message).toMatch(/^Shard [01] cannot run: Discord rejected DISCORD_TOKEN\.$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(events('shard-died')).toEqual([]);
    expect(events('shard-spawn')).toHaveLength(2);
  });

  it('survives a shard process that cannot be started: logs why, tries again with the growing delay, and starts it once it can', async () => {
    const { fleet, events } = fleetOf('polite.mjs');
    // fork() runs process.execPath: a Node that is not there fails the spawn itself (ENOENT), an 'error'
    // event on the child process and no 'exit'.
    const execPath = process.execPath;
    process.execPath = path.join(dir, 'no-such-node');
    try {
      fleet.start();
      await waitUntil(() => events('shard-spawn-failed').length >= 3, { timeoutMs: 10_000, description: 'three failed starts' });
    } finally {
      process.execPath = execPath;
    }
    expect(
      events('shard-spawn-failed')
        .slice(0, 3)
        .map((line) => line.respawnInMs),
    ).toEqual([100, 200, 400]);
    expect(events('shard-spawn-failed')[0]).toMatchObject({
      shard: 0,
      err: { code: 'ENOENT', message: expect.stringContaining('no-such-node') },
    });
    expect(events('shard-died')).toEqual([]);
    await waitUntil(() => events('shard-ready').length === 1, { timeoutMs: 10_000, description: 'the shard ready once Node is back' });
    expect(await fleet.stop(5_000)).toBe(true);
  });

  it('stop() returns while a shard process cannot be started', async () => {
    const { fleet, events } = fleetOf('polite.mjs', 2);
    const execPath = process.execPath;
    process.execPath = path.join(dir, 'no-such-node');
    try {
      fleet.start();
      await waitUntil(() => events('shard-spawn-failed').length >= 2, { timeoutMs: 10_000, description: 'both starts failed' });
      expect(await fleet.stop(5_000)).toBe(true);
      const failures = events('shard-spawn-failed').length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Stopped: no start is tried any more.
      expect(events('shard-spawn-failed')).toHaveLength(failures);
    } finally {
      process.execPath = execPath;
    }
  });

  it('stop(): SIGTERM to every shard, resolved once they exited 0', async () => {
    const { fleet, events } = fleetOf('polite.mjs', 2);
    fleet.start();
    await waitUntil(() => events('shard-ready').length === 2, { timeoutMs: 10_000, description: 'both shards ready' });
    expect(await fleet.stop(5_000)).toBe(true);
    expect(
      events('shard-exit')
        .map((line) => [line.shard, line.code])
        .sort(),
    ).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(events('shard-died')).toEqual([]);
  });

  it('stop(): kills a shard that does not stop in time, and says it did not stop cleanly', async () => {
    const { fleet, events } = fleetOf('stubborn.mjs');
    fleet.start();
    await waitUntil(() => events('shard-ready').length === 1, { timeoutMs: 10_000, description: 'the shard ready' });
    expect(await fleet.stop(300)).toBe(false);
    expect(events('shard-kill')).toHaveLength(1);
    expect(events('shard-exit')).toEqual([expect.objectContaining({ shard: 0, signal: 'SIGKILL' })]);
  });
});
