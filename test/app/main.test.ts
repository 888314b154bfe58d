/**
 * `npm start` end to end, as a child process: without a token it chats in the terminal; with one it
 * logs in (to the fake Discord, via DISCORD_API_URL), answers, and exits 0 on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDiscord, waitUntil, type FakeDiscord } from '../support/fake-discord.js';
import { repoRoot, waitForReply } from '../discord/harness.js';
import { MODELS_DIR } from '../helpers.js';

let tmp: string;
let fake: FakeDiscord | undefined;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-main-'));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function start(env: Record<string, string>) {
  const child = spawn(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), [path.join(repoRoot, 'src/app/main.ts')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      MODELS_DIR,
      MODEL_CACHE_DIR: path.join(tmp, 'model-cache'),
      INDEX_DIR: path.join(tmp, 'index'),
      FEEDBACK_FILE: path.join(tmp, 'feedback.jsonl'),
      SEEDS_DIR: path.join(repoRoot, 'seeds'),
      DISCORD_TOKEN: '',
      DISCORD_API_URL: '',
      ANSWER_CHANNEL_IDS: '',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

describe('npm start', () => {
  it('without DISCORD_TOKEN: says how to get one in two lines, then answers piped questions', async () => {
    const { child, output, exited } = start({});
    child.stdin.end('how many us troops are in syria?\nexit\n');
    expect(await exited).toBe(0);
    const help = output.stderr.split('\n').filter((line) => /Developer Portal|DISCORD_TOKEN=/.test(line));
    expect(help).toHaveLength(2);
    expect(help[0]).toMatch(/New Application → Bot → Reset Token.*Message Content Intent/);
    expect(help[1]).toMatch(/\.env as DISCORD_TOKEN=\.\.\./);
    expect(output.stdout).toMatch(/^> how many us troops are in syria\?\nAnswer \(hybrid retrieval\):/);
    expect(output.stdout).toContain('2,000');
  });

  it('without DISCORD_TOKEN, SHARDS is ignored with a one-line note: the terminal chat is one process', async () => {
    const { child, output, exited } = start({ SHARDS: 'auto' });
    child.stdin.end('how many us troops are in syria?\nexit\n');
    expect(await exited).toBe(0);
    expect(output.stderr.split('\n').filter((line) => line.includes('SHARDS'))).toEqual([
      '(SHARDS is ignored without DISCORD_TOKEN: the terminal chat runs in one process.)',
    ]);
    expect(output.stdout).toContain('2,000');
  });

  it('with a token: logs in, answers a mention, and exits 0 on SIGTERM without logging the token', async () => {
    fake = await startFakeDiscord();
    const { child, output, exited } = start({ DISCORD_TOKEN: fake.token, DISCORD_API_URL: fake.restUrl });
    const current = fake;
    await waitUntil(() => current.activeGatewayConnections > 0 && output.stderr.includes('logged in to Discord'), {
      timeoutMs: 15_000,
      description: 'the bot to log in',
    });

    const question = current.sendMessage({ content: 'how many US troops are in Syria?', mentionBot: true });
    const reply = await waitForReply(current, question, 5_000);
    expect(reply.body.embeds?.[0]?.description).toContain('2,000');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const events = output.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { event?: string; invite?: string });
    expect(events.map((line) => line.event)).toEqual(expect.arrayContaining(['index', 'ready', 'answer', 'signal', 'stopping']));
    expect(events.find((line) => line.event === 'ready')?.invite).toMatch(/scope=bot\+applications\.commands&permissions=274877991936/);
    expect(output.stderr + output.stdout).not.toContain(current.token);
    expect(current.stats.clientCloseCodes).toContain(1000);
  });
});
