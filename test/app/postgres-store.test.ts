/**
 * INDEX_STORE=postgres end to end, as a user runs it: `npm run index` writes the index into the
 * database (no index folder appears), `ask` and `check` answer from it as they answer from local files,
 * and a running `npm start` (terminal chat) sees an update another process wrote, without a restart.
 * Against a real Postgres (PGlite over the wire, see test/support/postgres.ts), reached by child processes.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../support/fake-discord.js';
import { MODELS_DIR, REPO_ROOT, SEEDS_DIR } from '../helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let tmp: string;
let seedsDir: string;
let server: TestPostgres;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'citebot-pg-app-'));
  seedsDir = path.join(tmp, 'seeds');
  await cp(SEEDS_DIR, seedsDir, { recursive: true });
  server = await startPostgres();
  LOCAL.INDEX_DIR = path.join(tmp, 'local-index');
}, 60_000);

afterAll(async () => {
  await server?.stop();
  await rm(tmp, { recursive: true, force: true });
});

function environment(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MODELS_DIR,
    MODEL_CACHE_DIR: path.join(tmp, 'model-cache'),
    INDEX_DIR: path.join(tmp, 'index'),
    FEEDBACK_FILE: path.join(tmp, 'feedback.jsonl'),
    SEEDS_DIR: seedsDir,
    INDEX_STORE: 'postgres',
    DATABASE_URL: server.url,
    DATABASE_SCHEMA: 'app',
    DISCORD_TOKEN: '',
    WATCH_SEEDS: 'false',
    FEEDS: '',
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

function start(script: string, args: string[], overrides: Record<string, string> = {}) {
  const child = spawn(path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), [path.join(REPO_ROOT, 'src/app', script), ...args], {
    cwd: REPO_ROOT,
    env: environment(overrides),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

async function run(script: string, args: string[], overrides: Record<string, string> = {}) {
  const { child, output, exited } = start(script, args, overrides);
  child.stdin.end();
  const code = await exited;
  return { code, ...output };
}

const QUESTION = 'how many us troops are in syria?';
/** The same commands on local files, in a folder of their own (the Postgres runs must leave `index` unwritten). */
const LOCAL = { INDEX_STORE: 'files', INDEX_DIR: '' };

describe('INDEX_STORE=postgres', () => {
  it('npm run index writes the index into the database and no index folder; a second run finds it up to date', async () => {
    const first = await run('build-index.ts', []);
    expect(first.stderr).not.toContain('postgres:postgres@');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^Indexed 5 articles, \d+ passages \(hybrid, local\/glove-6b-100d-sif, 100-d\) into postgres:\/\/127\.0\.0\.1:\d+\/postgres, schema app\./,
    );
    expect(first.stdout).toContain('full build: there was no index yet');
    const second = await run('build-index.ts', ['--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({
      upToDate: true,
      articleCount: 5,
      version: expect.stringMatching(/^generation \d+$/),
    });
    expect(await readdir(tmp)).not.toContain('index');
  });

  it('ask answers from the database as it answers from local files, word for word', async () => {
    const stored = await run('ask.ts', [QUESTION]);
    expect(stored.code, stored.stderr).toBe(0);
    expect(stored.stdout).toContain('2,000');
    const local = await run('ask.ts', [QUESTION], LOCAL);
    expect(local.code, local.stderr).toBe(0);
    expect(stored.stdout).toBe(local.stdout);
  });

  it('npm run index -- --from-files copies a local index into the database without embedding again; updates go on from it', async () => {
    const copied = { DATABASE_SCHEMA: 'copied' };
    const copy = await run('build-index.ts', ['--from-files', LOCAL.INDEX_DIR], copied);
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stdout).toMatch(
      /^Copied 5 articles and \d+ passages from .* into postgres:\/\/127\.0\.0\.1:\d+\/postgres, schema copied .*nothing was embedded again\.$/m,
    );
    const answered = await run('ask.ts', [QUESTION], copied);
    expect(answered.stdout).toBe((await run('ask.ts', [QUESTION], LOCAL)).stdout);
    const update = await run('build-index.ts', ['--json'], copied);
    expect(JSON.parse(update.stdout)).toMatchObject({ upToDate: true, embeddedPassages: 0 });
    const refused = await run('build-index.ts', ['--from-files', LOCAL.INDEX_DIR], LOCAL);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--from-files copies a local index into Postgres: set INDEX_STORE=postgres and DATABASE_URL first.');
  });

  it('check on the seeds questions: the same first results as the local index', async () => {
    const stored = await run('check.ts', ['--json']);
    const local = await run('check.ts', ['--json'], LOCAL);
    expect(local.code, local.stderr).toBe(0);
    expect(stored.code, stored.stderr).toBe(0);
    const metrics = (text: string) => (JSON.parse(text) as { metrics: Record<string, number> }).metrics;
    expect(metrics(stored.stdout).recall_at_1).toBe(metrics(local.stdout).recall_at_1);
    expect(metrics(stored.stdout).answer_in_quote).toBe(metrics(local.stdout).answer_in_quote);
    expect(metrics(stored.stdout).mrr_at_10).toBeCloseTo(metrics(local.stdout).mrr_at_10!, 2);
  }, 120_000);

  it('a running npm start follows an update another process writes, without a restart', async () => {
    const chat = start('main.ts', []);
    const question = 'What did the lighthouse keeper of Porthcawl find in the bottle?';
    const answered = (from: number) => /^> .*\n[\s\S]*\n\n$/.test(chat.output.stdout.slice(from));
    chat.child.stdin.write(`${question}\n`);
    await waitUntil(() => answered(0), { timeoutMs: 60_000 });
    expect(chat.output.stdout).not.toContain('Bergen');
    await writeFile(
      path.join(seedsDir, 'porthcawl.txt'),
      'Message in a bottle\n\nThe lighthouse keeper of Porthcawl found a message in a bottle written in 1962 by a schoolgirl from Bergen.\n',
    );
    const update = await run('build-index.ts', []);
    expect(update.code, update.stderr).toBe(0);
    expect(update.stdout).toContain("written as an update of the changed articles' rows");
    await waitUntil(() => chat.output.stderr.includes('index reopened'), { timeoutMs: 30_000 });
    const before = chat.output.stdout.length;
    chat.child.stdin.write(`${question}\n`);
    await waitUntil(() => answered(before), { timeoutMs: 30_000 });
    expect(chat.output.stdout.slice(before)).toContain('Bergen');
    chat.child.stdin.end('exit\n');
    expect(await chat.exited).toBe(0);
  }, 180_000);

  it('a database that goes away while npm start runs: the question gets a message naming it, the process keeps running', async () => {
    const lost = await startPostgres();
    const settings = { DATABASE_URL: lost.url, DATABASE_SCHEMA: 'lost' };
    try {
      expect((await run('build-index.ts', [], settings)).code).toBe(0);
      const chat = start('main.ts', [], settings);
      const answered = (from: number) => /^> .*\n[\s\S]*\n\n$/.test(chat.output.stdout.slice(from));
      chat.child.stdin.write(`${QUESTION}\n`);
      await waitUntil(() => answered(0), { timeoutMs: 60_000 });
      expect(chat.output.stdout).toContain('2,000');
      await lost.stop();
      const before = chat.output.stdout.length;
      chat.child.stdin.write(`${QUESTION}\n`);
      await waitUntil(() => answered(before), { timeoutMs: 30_000 });
      expect(chat.output.stdout.slice(before)).toMatch(
        /error: The index database at postgres:\/\/127\.0\.0\.1:\d+\/postgres cannot be reached \(.*\); answers resume once it is back\./,
      );
      // The check for other processes' writes fails too: said once, not every 5 s.
      await waitUntil(() => chat.output.stderr.includes('The index could not be reopened'), { timeoutMs: 15_000 });
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      expect(chat.output.stderr.split('The index could not be reopened').length - 1).toBe(1);
      chat.child.stdin.end('exit\n');
      expect(await chat.exited).toBe(0);
    } finally {
      await lost.stop();
    }
  }, 120_000);

  it('a DATABASE_URL that cannot be reached is named without its password, and nothing is written', async () => {
    const result = await run('ask.ts', [QUESTION], { DATABASE_URL: 'postgres://citebot:hunter2@127.0.0.1:9/citebot' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/127\.0\.0\.1:9/);
    expect(result.stderr).not.toContain('hunter2');
    expect(await readdir(tmp)).not.toContain('index');
  });

  it('INDEX_STORE=postgres without DATABASE_URL is a configuration error that says what is missing', async () => {
    const result = await run('ask.ts', [QUESTION], { DATABASE_URL: '' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL: INDEX_STORE=postgres needs the database');
  });
});
