/**
 * `npm start` with SHARDS, end to end: the real shard manager (src/app/main.ts → shard-manager.ts) runs
 * as a child process, starts one real shard process per shard through discord.js' ShardingManager, and
 * they log in to the fake Discord, which routes each guild to its shard. Every test starts its own
 * manager on its own copy of the seeds and of a prebuilt index, and kills whatever is left afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GatewayCloseCodes } from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTransformersEmbedder } from '../../src/embedding/transformers.js';
import { buildIndex } from '../../src/index/build.js';
import { shardOfGuild, startFakeDiscord, waitUntil, type FakeDiscord, type FakeDiscordOptions } from '../support/fake-discord.js';
import { newsPage, startWebServer, type WebServer } from '../support/web-server.js';
import { folders, MODELS_DIR, OFFLINE_MODEL } from '../helpers.js';
import { repoRoot, visibleText, waitForReply } from './harness.js';
import { startPostgres } from '../support/postgres.js';

interface LogLine {
  level: number;
  msg: string;
  event?: string;
  shard?: number;
  role?: string;
  pid?: number;
  [key: string]: unknown;
}

interface ManagerRun {
  child: ChildProcess;
  /** Everything the manager and its shards wrote on stderr (they share it). */
  stderr: () => string;
  logs: () => LogLine[];
  exited: Promise<number | null>;
  /** Resolves with the first log line (already written or to come) that matches. */
  waitForLog(predicate: (line: LogLine) => boolean, description: string, timeoutMs?: number): Promise<LogLine>;
}

let template: string;
let tmp: string;
const runs: ManagerRun[] = [];
let fake: FakeDiscord | undefined;
let web: WebServer | undefined;

beforeAll(async () => {
  // One index of the seeds, copied for each test: the managers then find it current and only load it.
  template = await mkdtemp(path.join(os.tmpdir(), 'citebot-shards-template-'));
  await cp(path.join(repoRoot, 'seeds'), path.join(template, 'seeds'), {
    recursive: true,
    filter: (file) => !file.includes(`${path.sep}web`),
  });
  const embedder = await createTransformersEmbedder({
    model: OFFLINE_MODEL,
    modelsDir: MODELS_DIR,
    cacheDir: path.join(template, 'model-cache'),
    allowRemote: false,
  });
  await buildIndex({ ...folders(path.join(template, 'seeds'), path.join(template, 'index')), embedder });
}, 120_000);

afterAll(async () => {
  await rm(template, { recursive: true, force: true });
});

afterEach(async () => {
  // Whatever a failed test left running: the manager, then every shard process it started.
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    await run.exited;
    for (const line of run.logs()) {
      if (line.event !== 'shard-spawn' || typeof line.pid !== 'number') continue;
      try {
        process.kill(line.pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  }
  await web?.close();
  web = undefined;
  await fake?.close();
  fake = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** A fake Discord with `shards` shards and a guild on each of `guildShards` (the first guild is one of them). */
async function discordWith(options: FakeDiscordOptions & { shards: number }, guildShards: number[]) {
  fake = await startFakeDiscord({ maxConcurrency: options.shards, ...options });
  const discord = fake;
  const guilds = new Map<number, { guildId: string; channelId: string }>();
  guilds.set(shardOfGuild(discord.guildId, options.shards), { guildId: discord.guildId, channelId: discord.channelId });
  for (const shard of guildShards) {
    if (guilds.has(shard)) continue;
    const added = discord.addGuild(`Guild of shard ${shard}`, { onShard: [shard, options.shards] });
    guilds.set(shard, { guildId: added.id, channelId: added.channelId });
  }
  return { discord, guilds };
}

/**
 * `npm start` as npm runs it (`node bin/run.mjs app/main`: one process, so a SIGKILL reaches the manager
 * itself, not a wrapper), with its own seeds and index.
 */
async function startManager(discord: FakeDiscord, env: Record<string, string>): Promise<ManagerRun> {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-shards-'));
  await cp(path.join(template, 'seeds'), path.join(tmp, 'seeds'), { recursive: true });
  await cp(path.join(template, 'index'), path.join(tmp, 'index'), { recursive: true });
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.mjs'), 'app/main'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      MODELS_DIR,
      MODEL_CACHE_DIR: path.join(tmp, 'model-cache'),
      SEEDS_DIR: path.join(tmp, 'seeds'),
      INDEX_DIR: path.join(tmp, 'index'),
      FEEDBACK_FILE: path.join(tmp, 'feedback.jsonl'),
      ADDITIONS_FILE: path.join(tmp, 'additions.jsonl'),
      FEED_STATE_FILE: path.join(tmp, 'feeds.json'),
      DISCORD_TOKEN: discord.token,
      DISCORD_API_URL: discord.restUrl,
      ANSWER_CHANNEL_IDS: '',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  const lines: LogLine[] = [];
  const waiters = new Set<{ predicate: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    stderr += text;
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as LogLine;
      lines.push(line);
      for (const waiter of [...waiters]) if (waiter.predicate(line)) waiter.resolve(line);
    }
  });
  child.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const run: ManagerRun = {
    child,
    stderr: () => stderr,
    logs: () => lines,
    exited,
    waitForLog(predicate, description, timeoutMs = 30_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`No log line for ${description} within ${timeoutMs} ms. stderr:\n${stderr.slice(-4000)}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(() => {
          if (!waiters.has(waiter)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          reject(new Error(`The manager exited before ${description}. stderr:\n${stderr.slice(-4000)}`));
        });
      });
    },
  };
  runs.push(run);
  return run;
}

const isEvent = (event: string, shard?: number) => (line: LogLine) => line.event === event && (shard === undefined || line.shard === shard);
/** The bot's "logged in" line of one shard: its own client, ready with its guilds. */
const shardReady = (shard: number) => (line: LogLine) => line.event === 'ready' && line.shard === shard;

async function untilEveryShardIsReady(run: ManagerRun, count: number): Promise<void> {
  for (let shard = 0; shard < count; shard += 1) await run.waitForLog(shardReady(shard), `shard ${shard} to log in`);
}

describe('npm start with SHARDS', () => {
  it('SHARDS=auto: runs the shard count Discord recommends, and each shard answers the guild routed to it', async () => {
    const { discord, guilds } = await discordWith({ shards: 2 }, [0, 1]);
    const run = await startManager(discord, { SHARDS: 'auto' });
    await untilEveryShardIsReady(run, 2);
    expect(run.logs().find(isEvent('shards'))).toMatchObject({ shards: 2, recommended: 2, role: 'manager' });
    expect([...discord.identifiedShards].sort()).toEqual([
      [0, 2],
      [1, 2],
    ]);

    for (const shard of [0, 1]) {
      const { channelId } = guilds.get(shard)!;
      const question = discord.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId });
      const reply = await waitForReply(discord, question, 10_000);
      expect(reply.body.embeds?.[0]?.description).toContain('2,000');
      // Discord sent the question to this shard's session only, and this shard's process answered it.
      expect(discord.receivedBy(question.id)).toEqual([[shard, 2]]);
      const answered = await run.waitForLog(
        (line) => line.event === 'answer' && line.channelId === channelId,
        `the answer in shard ${shard}`,
      );
      expect(answered.shard).toBe(shard);
      const spawned = run.logs().find(isEvent('shard-spawn', shard));
      expect(answered.pid).toBe(spawned?.pid);
    }
    // The manager answers nothing itself.
    expect(run.logs().filter((line) => line.event === 'answer' && line.shard === undefined)).toEqual([]);
  }, 60_000);

  it('with INDEX_STORE=postgres: the manager builds into the database, each shard answers from it', async () => {
    const database = await startPostgres();
    try {
      const { discord, guilds } = await discordWith({ shards: 2 }, [0, 1]);
      const run = await startManager(discord, {
        SHARDS: '2',
        INDEX_STORE: 'postgres',
        DATABASE_URL: database.url,
        DATABASE_SCHEMA: 'shards',
      });
      await untilEveryShardIsReady(run, 2);
      for (const shard of [0, 1]) {
        const loaded = await run.waitForLog(isEvent('index', shard), `shard ${shard}'s index`);
        expect(loaded).toMatchObject({ articles: 5, version: 'generation 1' });
        const { channelId } = guilds.get(shard)!;
        const question = discord.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId });
        const reply = await waitForReply(discord, question, 10_000);
        expect(reply.body.embeds?.[0]?.description).toContain('2,000');
        expect(discord.receivedBy(question.id)).toEqual([[shard, 2]]);
      }
      expect(run.stderr()).not.toContain('postgres:postgres@');
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    } finally {
      await database.stop();
    }
  }, 90_000);

  it('a shard killed with SIGKILL is restarted, identifies as the same shard again and answers', async () => {
    const { discord, guilds } = await discordWith({ shards: 2 }, [0, 1]);
    const run = await startManager(discord, { SHARDS: '2' });
    await untilEveryShardIsReady(run, 2);
    const first = run.logs().find(isEvent('shard-spawn', 1))!;
    const readyLines = () => run.logs().filter(shardReady(1)).length;

    process.kill(first.pid!, 'SIGKILL');
    const died = await run.waitForLog(isEvent('shard-died', 1), 'the manager to notice the dead shard');
    expect(died).toMatchObject({ pid: first.pid, signal: 'SIGKILL', respawnInMs: 1_000 });
    const again = await run.waitForLog((line) => isEvent('shard-spawn', 1)(line) && line.pid !== first.pid, 'shard 1 to be restarted');
    await waitUntil(() => readyLines() === 2, { timeoutMs: 30_000, description: 'the restarted shard 1 to log in' });
    expect(discord.identifiedShards.filter(([id]) => id === 1)).toEqual([
      [1, 2],
      [1, 2],
    ]);
    // Shard 0 was left alone.
    expect(run.logs().filter(isEvent('shard-spawn', 0))).toHaveLength(1);

    const { channelId } = guilds.get(1)!;
    const question = discord.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId });
    const reply = await waitForReply(discord, question, 10_000);
    expect(reply.body.embeds?.[0]?.description).toContain('2,000');
    const answered = await run.waitForLog((line) => line.event === 'answer' && line.channelId === channelId, 'the answer');
    expect(answered).toMatchObject({ shard: 1, pid: again.pid });
  }, 60_000);

  it('SIGTERM drains: a question in flight is answered, new ones are not, every shard and the manager exit 0 (more shards than guilds)', async () => {
    // Two shards, one guild: the other shard has no guild at all, which is fine.
    const { discord, guilds } = await discordWith({ shards: 2 }, []);
    const busyShard = shardOfGuild(discord.guildId, 2);
    const run = await startManager(discord, { SHARDS: '2' });
    await untilEveryShardIsReady(run, 2);
    expect(run.logs().find((line) => line.event === 'ready' && line.shard === 1 - busyShard)).toMatchObject({ guilds: 0 });

    // The reply is refused once with a 429: discord.js retries it 1.5 s later, so the answer is in flight.
    const channelId = guilds.get(busyShard)!.channelId;
    discord.failNext({ method: 'POST', pathPattern: new RegExp(`^/channels/${channelId}/messages$`), retryAfterSeconds: 1.5 });
    const question = discord.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId });
    await discord.waitForRequest((request) => request.method === 'POST' && request.status === 429, 10_000);

    run.child.kill('SIGTERM');
    await run.waitForLog(isEvent('stopping', busyShard), 'the busy shard to stop taking questions');
    const late = discord.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true, channelId });

    const reply = await waitForReply(discord, question, 10_000);
    expect(reply.body.embeds?.[0]?.description).toContain('2,000');
    expect(await run.exited).toBe(0);
    expect(run.logs().find(isEvent('stopping', busyShard))).toMatchObject({ inFlight: 1 });
    const exits = run.logs().filter(isEvent('shard-exit'));
    expect(exits.map((line) => [line.shard, line.code]).sort()).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(run.logs().find(isEvent('stopped'))).toMatchObject({ clean: true });
    // Asked after the shard stopped taking questions: it reached the shard, which did not answer it.
    expect(discord.receivedBy(late.id)).toEqual([[busyShard, 2]]);
    expect(
      discord.requests.some(
        (request) => (request.body as { message_reference?: { message_id?: string } } | null)?.message_reference?.message_id === late.id,
      ),
    ).toBe(false);
  }, 60_000);

  it('SIGTERM while a shard is still logging in: that shard exits 0 too, and so does the manager', async () => {
    const { discord } = await discordWith({ shards: 2 }, [0, 1]);
    // Shard 1's identify is closed with 4000 (Unknown error) each time: discord.js tries again, and its
    // login is still under way when the manager is told to stop.
    discord.refuseIdentify(GatewayCloseCodes.UnknownError, 1);
    const run = await startManager(discord, { SHARDS: '2' });
    await run.waitForLog(shardReady(0), 'shard 0 to log in');
    const identifiesOf = (shard: number) =>
      discord.gatewayPayloads.filter((payload) => payload.op === 2 && (payload.d as { shard?: number[] }).shard?.[0] === shard).length;
    await waitUntil(() => identifiesOf(1) >= 1, { timeoutMs: 30_000, description: 'shard 1 to try to log in' });

    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(
      run
        .logs()
        .filter(isEvent('shard-exit'))
        .map((line) => [line.shard, line.code])
        .sort(),
    ).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(run.logs().find(isEvent('stopped'))).toMatchObject({ clean: true });
    expect(run.logs().filter(shardReady(1))).toEqual([]);
    expect(run.stderr()).not.toMatch(/^error: /m);
  }, 60_000);

  it('index updates and /add reach every shard: the manager writes, the shards load', async () => {
    const { discord, guilds } = await discordWith({ shards: 2 }, [0, 1]);
    web = await startWebServer({
      '/news/bridge': {
        body: newsPage({
          title: 'Council votes to rebuild the old river bridge',
          site: 'Example Times',
          canonical: 'https://example.org/news/bridge',
          paragraphs: [
            'The city council voted on Monday to rebuild the old river bridge, closed to traffic since the spring floods damaged its piers.',
            'The work will cost about 40 million euros and should take two years, the mayor said after the vote.',
          ],
        }),
      },
    });
    const run = await startManager(discord, { SHARDS: '2', ALLOW_PRIVATE_URLS: 'true' });
    await untilEveryShardIsReady(run, 2);

    // A page dropped into the seeds folder: the manager's watcher updates the index, both shards load it.
    const reloads = () => run.logs().filter((line) => line.event === 'index-reloaded');
    await writeFile(
      path.join(tmp, 'seeds', 'ferry.html'),
      newsPage({
        title: 'Island ferry service suspended after engine fire',
        site: 'Harbour News',
        paragraphs: [
          'The ferry between the harbour and the island was suspended on Tuesday after a small engine fire broke out during the morning crossing.',
          'All 64 passengers were brought back to port safely, the ferry operator said in a statement.',
        ],
      }),
    );
    await waitUntil(() => new Set(reloads().map((line) => line.shard)).size === 2, {
      timeoutMs: 30_000,
      description: 'both shards to load the update',
    });
    expect(
      run
        .logs()
        .filter(isEvent('index-updated'))
        .every((line) => line.role === 'manager'),
    ).toBe(true);
    const ferry = discord.sendMessage({
      content: 'why was the island ferry suspended?',
      mentionBot: true,
      channelId: guilds.get(1)!.channelId,
    });
    expect(visibleText((await waitForReply(discord, ferry, 10_000)).body)).toContain('engine fire');

    // /add in shard 0's guild: fetched and indexed by the manager, answered by shard 0, known to shard 1.
    const handle = discord.chatInputCommand('add', { url: web.url('/news/bridge') }, { channelId: guilds.get(0)!.channelId });
    const edit = await discord.waitForRequest((request) => request.method === 'PATCH' && request.path === handle.originalPath, 30_000);
    expect(visibleText(edit.body as never)).toContain('Added: Council votes to rebuild the old river bridge');
    const version = run.logs().filter(isEvent('index-reloaded', 0)).at(-1)?.version;
    await run.waitForLog((line) => isEvent('index-reloaded', 1)(line) && line.version === version, 'shard 1 to load the added page');
    // Another user: the first one asked shard 1 a question a moment ago (one every 5 s each).
    const bridge = discord.sendMessage({
      content: 'how much will the river bridge cost?',
      mentionBot: true,
      channelId: guilds.get(1)!.channelId,
      author: discord.owner,
    });
    expect(visibleText((await waitForReply(discord, bridge, 10_000)).body)).toContain('40 million euros');
    // Only the manager fetched the page: one request, however many shards.
    expect(web.requests.filter((request) => request.path === '/news/bridge')).toHaveLength(1);
  }, 60_000);

  it('a shard whose login Discord refuses (4004) stops the manager with the reason, without restarting it', async () => {
    const { discord } = await discordWith({ shards: 2 }, [0, 1]);
    discord.refuseIdentify(GatewayCloseCodes.AuthenticationFailed, 1);
    const run = await startManager(discord, { SHARDS: '2' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/error: Shard 1 cannot run: Discord rejected DISCORD_TOKEN\. .*Reset Token/);
    expect(run.logs().filter(isEvent('shard-spawn', 1))).toHaveLength(1);
    expect(run.logs().filter(isEvent('shard-died'))).toEqual([]);
    expect(run.stderr()).not.toContain(discord.token);
  }, 60_000);

  it('a token Discord rejects stops the manager before it builds anything or starts a shard', async () => {
    const { discord } = await discordWith({ shards: 2 }, [0, 1]);
    const run = await startManager(discord, { SHARDS: 'auto', DISCORD_TOKEN: 'not-the-token' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toMatch(/error: Discord rejected DISCORD_TOKEN/);
    expect(run.logs().filter((line) => line.event === 'index' || line.event === 'shard-spawn')).toEqual([]);
  }, 30_000);
});
