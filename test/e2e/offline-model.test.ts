/**
 * End to end through the real transformers.js pipeline and the offline GloVe model, and through the real
 * `ask` command line in a child process. Everything is written to temp folders; nothing goes to the network.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { answerQuestion } from '../../src/retrieval/answer.js';
import { createTransformersEmbedder, ModelUnavailable } from '../../src/embedding/transformers.js';
import { buildIndex } from '../../src/index/build.js';
import { withBulkWorker } from '../../src/embedding/worker.js';
import { syntheticArticles } from '../../bench/synthetic.js';
import { splitSentences } from '../../src/text/tokens.js';
import { readFile } from 'node:fs/promises';
import {
  copySeeds,
  makeTempDir,
  MODELS_DIR,
  OFFLINE_MODEL,
  REPO_ROOT,
  removeTempDirs,
  SEED_FILES,
  loadIndex,
  folders,
} from '../helpers.js';
import type { Embedder } from '../../src/embedding/embedder.js';

const QUESTION = 'How many US troops are in Syria?';

afterAll(removeTempDirs);

describe('the offline model through transformers.js', () => {
  let seedsDir: string;
  let embedder: Embedder;

  beforeAll(async () => {
    seedsDir = await copySeeds();
    embedder = await createTransformersEmbedder({
      model: OFFLINE_MODEL,
      modelsDir: MODELS_DIR,
      cacheDir: await makeTempDir('citebot-cache-'),
      allowRemote: false,
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('loads with the fingerprint of the offline model and makes unit vectors', async () => {
    expect(embedder.fingerprint).toEqual({
      model: OFFLINE_MODEL,
      dimension: 100,
      pooling: 'mean',
      dtype: 'fp32',
      queryPrefix: '',
      passagePrefix: '',
    });
    const [troops, soldiers, cake] = await embedder.embed(
      ['American troops in Syria', 'US soldiers deployed in Syria', 'chocolate cake recipe'],
      'passage',
    );
    for (const vector of [troops!, soldiers!, cake!]) {
      expect(vector).toHaveLength(100);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 4);
    }
    const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
    expect(cosine(troops!, soldiers!)).toBeGreaterThan(cosine(troops!, cake!));
  });

  it("gives the vectors of the pipeline's own tokenizer tensors and pooling, padded batches included", async () => {
    const { pipeline } = await import('@huggingface/transformers');
    const text = (await Promise.all(SEED_FILES.map((file) => readFile(path.join(seedsDir, file), 'utf8')))).join('\n');
    // Texts of very different lengths in one batch, so most rows are padded; accents and emoji too.
    const texts = [
      ...text
        .split(/\n\s*\n/)
        .filter((paragraph) => /[a-z]{3}/i.test(paragraph))
        .slice(0, 40),
      'Zakharová spoke in Moscow 🇷🇺 on Friday.',
      'troops',
    ];
    const ours = await embedder.embed(texts, 'passage');
    const extractor = await pipeline('feature-extraction', OFFLINE_MODEL, { dtype: 'fp32' });
    const theirs = (await extractor(texts, { pooling: 'mean', normalize: true })).tolist() as number[][];
    texts.forEach((_, i) => {
      expect(Math.max(...theirs[i]!.map((value, j) => Math.abs(value - ours[i]![j]!))), texts[i]).toBeLessThan(1e-5);
    });
    expect(Array.from((await embedder.embed([''], 'query'))[0]!).every((value) => value === 0)).toBe(true);
  });

  it('a large build shares embedding with a worker thread and gets the same index as embedding on one thread', async () => {
    // Over 2,000 passages (over a megabyte) of seed sentences: enough for the worker to be used.
    const text = (await Promise.all(SEED_FILES.map((file) => readFile(path.join(seedsDir, file), 'utf8')))).join('\n');
    const sentences = splitSentences(text)
      .map((span) => text.slice(span.start, span.end))
      .filter((sentence) => sentence.length > 60);
    const largeSeeds = await makeTempDir('citebot-large-');
    for (const article of syntheticArticles(sentences, 400, 10)) await writeFile(path.join(largeSeeds, article.file), article.text);

    const settings = { model: OFFLINE_MODEL, modelsDir: MODELS_DIR, cacheDir: await makeTempDir('citebot-cache-'), allowRemote: false };
    const bulk = withBulkWorker(embedder, settings);
    const calls = { here: 0, worker: 0, released: 0 };
    const shared: typeof bulk = {
      ...bulk,
      embed: (texts, kind, onProgress) => ((calls.here += 1), bulk.embed(texts, kind, onProgress)),
      embedElsewhere: (texts, kind) => ((calls.worker += 1), bulk.embedElsewhere!(texts, kind)),
      releaseElsewhere: () => ((calls.released += 1), bulk.releaseElsewhere!()),
    };
    const sharedDir = path.join(await makeTempDir('citebot-index-'), 'index');
    const progress: number[] = [];
    const sharedReport = await buildIndex({
      ...folders(largeSeeds, sharedDir),
      embedder: shared,
      onEmbedProgress: (done) => progress.push(done),
    }).catch(async (error: unknown) => {
      await shared.close();
      throw error;
    });
    // The worker was let go once the embedding was done; asked again, a new one embeds the same vectors.
    expect(calls.released).toBe(1);
    const again = await shared.embedElsewhere!(['Troops stayed in Syria.'], 'passage');
    expect(again).toEqual(await embedder.embed(['Troops stayed in Syria.'], 'passage'));
    await shared.close();
    const singleDir = path.join(await makeTempDir('citebot-index-'), 'index');
    const single = await buildIndex({ ...folders(largeSeeds, singleDir), embedder });

    expect(sharedReport.passageCount).toBeGreaterThan(2000);
    // Both threads embedded some of the chunks.
    expect(calls.worker).toBeGreaterThan(0);
    expect(calls.here).toBeGreaterThan(0);
    expect(sharedReport.passageCount).toBe(single.passageCount);
    expect(progress.at(-1)).toBe(sharedReport.passageCount);
    const [a, b] = [await loadIndex(sharedDir), await loadIndex(singleDir)];
    expect([...a.passages.values()].map((p) => [p.label, p.id])).toEqual([...b.passages.values()].map((p) => [p.label, p.id]));
    for (const label of a.passages.keys()) {
      const [left, right] = [a.vectors!.vector(label), b.vectors!.vector(label)];
      expect(left === undefined, `passage ${label}`).toBe(right === undefined);
      if (left && right) expect(Math.max(...left.map((value, i) => Math.abs(value - right[i]!))), `passage ${label}`).toBeLessThan(1e-6);
    }
  }, 60_000);

  it('builds an index of the five seeds, loads it and answers with the 2,000 troops quote', async () => {
    const indexDir = path.join(await makeTempDir('citebot-index-'), 'index');
    const report = await buildIndex({ ...folders(seedsDir, indexDir), embedder });
    expect(report).toMatchObject({ mode: 'hybrid', articleCount: 5, skipped: [] });
    expect(report.added).toEqual([...SEED_FILES]);
    expect(report.manifest.embedding?.model).toBe(OFFLINE_MODEL);

    const index = await loadIndex(indexDir);
    expect(index.vectors).not.toBeNull();
    const answer = await answerQuestion(QUESTION, { index, embedder });
    expect(answer.mode).toBe('hybrid');
    expect(answer.answered).toBe(true);
    const top = answer.results[0]!;
    expect(top.quote).toContain('2,000');
    expect(top.passage).toContain(top.quote);
    expect(SEED_FILES as readonly string[]).toContain(top.article.file);
    expect(top.article.outlet).toEqual(expect.any(String));
    expect(top.article.title.length).toBeGreaterThan(0);
    expect(top.paragraph).toBeGreaterThanOrEqual(1);
    expect(index.articles.get(top.article.file)!.paragraphCount).toBeGreaterThanOrEqual(top.paragraph);
  });

  it('rejects a model that is not in the local folder with ModelUnavailable, quickly and without the network', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const started = performance.now();
    const attempt = createTransformersEmbedder({
      model: 'local/no-such-model',
      modelsDir: MODELS_DIR,
      cacheDir: await makeTempDir('citebot-cache-'),
      allowRemote: false,
    });
    await expect(attempt).rejects.toBeInstanceOf(ModelUnavailable);
    await expect(attempt).rejects.toThrow(/local\/no-such-model.*remote downloads are off/);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('rejects a hub model id with ModelUnavailable when the models folder is empty and downloads are off', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const empty = await makeTempDir('citebot-models-');
    await expect(
      createTransformersEmbedder({
        model: 'Xenova/all-MiniLM-L6-v2',
        modelsDir: empty,
        cacheDir: await makeTempDir('citebot-cache-'),
        allowRemote: false,
      }),
    ).rejects.toBeInstanceOf(ModelUnavailable);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

interface CliRun {
  code: number | null;
  stdout: string;
  /** stderr without npm's own config warnings. */
  stderr: string;
}

/** Runs `npx tsx src/app/ask.ts ...args` (or another command line) from the repository root with the given settings. */
function runAsk(args: string[], settings: Record<string, string>, command = ['npx', 'tsx', 'src/app/ask.ts']): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings, ALLOW_REMOTE_MODELS: 'false', LOG_LEVEL: 'warn' };
  for (const key of ['EMBEDDING_MODEL', 'EMBEDDING_DTYPE', 'EMBEDDING_POOLING', 'EMBEDDING_QUERY_PREFIX', 'EMBEDDING_PASSAGE_PREFIX'])
    delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ownStderr = stderr
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('npm warn'))
        .join('\n');
      resolve({ code, stdout, stderr: ownStderr });
    });
  });
}

function expectDocumentedAnswer(json: Record<string, unknown>): void {
  expect(json).toMatchObject({ question: QUESTION, mode: expect.any(String), answered: expect.any(Boolean), results: expect.any(Array) });
  const results = json.results as Array<Record<string, unknown>>;
  expect(results.length).toBeGreaterThan(0);
  results.forEach((result, i) => {
    expect(result).toMatchObject({
      rank: i + 1,
      score: expect.any(Number),
      paragraph: expect.any(Number),
      passage: expect.any(String),
      quote: expect.any(String),
    });
    const article = result.article as Record<string, unknown>;
    expect(Object.keys(article).sort()).toEqual(['age', 'byline', 'date', 'file', 'outlet', 'title', 'url']);
    expect(article.file).toEqual(expect.any(String));
    expect(article.title).toEqual(expect.any(String));
    for (const key of ['outlet', 'byline', 'date', 'url'] as const)
      expect(article[key] === null || typeof article[key] === 'string').toBe(true);
    // The link opens the article at the quote, where the article has an address.
    if (article.url) expect(result.link).toMatch(/#:~:text=/);
    else expect(result.link).toBeNull();
    expect(result.passage as string).toContain(result.quote as string);
  });
}

describe('the ask command line', () => {
  let settings: Record<string, string>;

  beforeAll(async () => {
    settings = {
      SEEDS_DIR: await copySeeds(),
      INDEX_DIR: path.join(await makeTempDir('citebot-index-'), 'index'),
      MODELS_DIR: MODELS_DIR,
      MODEL_CACHE_DIR: await makeTempDir('citebot-cache-'),
    };
  });

  it('runs through bin/run.mjs, as the npm scripts do, and refuses an unknown command', async () => {
    const run = await runAsk(['--json', QUESTION], settings, [process.execPath, 'bin/run.mjs', 'app/ask']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { answered: boolean }).answered).toBe(true);
    const unknown = await runAsk([], settings, [process.execPath, 'bin/run.mjs', 'app/nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('there is no command app/nope');
  });

  it('runs as `citebot ask` (the package bin), printing JSON only, and names an unknown command', async () => {
    const run = await runAsk(['ask', '--json', QUESTION], settings, [process.execPath, 'bin/citebot.mjs']);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { answered: boolean }).answered).toBe(true);
    const unknown = await runAsk(['nope'], settings, [process.execPath, 'bin/citebot.mjs']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /there is no command nope; usage: citebot <index, ask, check, sources, start, deploy-commands, model, add, feeds>/,
    );
  });

  it('--json prints one answer with the documented keys (building the index on first use)', async () => {
    const run = await runAsk(['--json', QUESTION], settings);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!) as Record<string, unknown>;
    expectDocumentedAnswer(json);
    expect(json.mode).toBe('hybrid');
    expect(json.answered).toBe(true);
    const top = (json.results as Array<{ quote: string; article: { file: string } }>)[0]!;
    expect(top.quote).toContain('2,000');
    expect(SEED_FILES as readonly string[]).toContain(top.article.file);
  });

  it('--batch writes one line per input line, with errors for the bad ones, and exits 0', async () => {
    const batch = path.join(await makeTempDir('citebot-batch-'), 'questions.jsonl');
    await writeFile(
      batch,
      [
        // An editor's byte order mark before the first line is not a JSON error.
        `\uFEFF${JSON.stringify({ id: 'q1', question: QUESTION })}`,
        '{"id": "q2", "question": ',
        JSON.stringify({ id: 'q3', text: 'no question here' }),
        JSON.stringify({ question: QUESTION }),
        JSON.stringify({ id: 'q1', question: QUESTION }),
      ].join('\n') + '\n',
    );

    const run = await runAsk(['--json', '--batch', batch], settings);
    expect(run.code).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toHaveLength(5);

    expect(lines[0]).toMatchObject({ id: 'q1', line: 1 });
    expect(lines[0]!.error).toBeUndefined();
    expectDocumentedAnswer(lines[0]!);

    expect(lines[1]).toMatchObject({ line: 2, error: expect.stringMatching(/not valid JSON/) });
    expect(lines[2]).toMatchObject({ id: 'q3', line: 3, error: expect.stringMatching(/question/) });
    expect(run.stderr).toMatch(/2 line\(s\)/);
    // Every answer says which line it answers; a missing or repeated id is named.
    expect(lines[3]).toMatchObject({ id: null, line: 4 });
    expect(lines[4]).toMatchObject({ id: 'q1', line: 5 });
    expect(run.stderr).toMatch(/1 line\(s\) of .* have no "id" \(line 4\)/);
    expect(run.stderr).toMatch(/The id "q1" appears on 2 lines of .* \(lines 1, 5\)/);
  });

  it('--batch given a folder says so', async () => {
    const run = await runAsk(['--json', '--batch', await makeTempDir('citebot-batch-dir-')], settings);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/is a folder; give a \.jsonl file/);
    expect(run.stderr).not.toMatch(/EISDIR|at .*\.ts:\d+/);
  });

  it('exits non-zero for a question it refuses, and ends quietly when the reader closes the pipe', async () => {
    const refused = await runAsk(['--json', '?!…'], settings);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ answered: false, notice: expect.stringMatching(/no words/) });

    // `ask --json --batch big.jsonl | head -c 100`: the reader goes away after 100 bytes.
    const batch = path.join(await makeTempDir('citebot-pipe-'), 'many.jsonl');
    await writeFile(batch, Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, question: QUESTION })).join('\n') + '\n');
    const piped = await runAsk([], settings, [
      'bash',
      '-c',
      `'${process.execPath}' bin/run.mjs app/ask --json --batch '${batch}' | head -c 100`,
    ]);
    expect(piped.stdout).toHaveLength(100);
    expect(piped.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('falls back to lexical retrieval, with a warning, when the models folder is empty', async () => {
    const run = await runAsk(['--json', QUESTION], {
      ...settings,
      INDEX_DIR: path.join(await makeTempDir('citebot-index-'), 'index'),
      MODELS_DIR: await makeTempDir('citebot-models-'),
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^warning: .*could not be loaded.*lexical/m);
    const json = JSON.parse(run.stdout) as Record<string, unknown>;
    expectDocumentedAnswer(json);
    expect(json.mode).toBe('lexical');
    expect(json.notice).toMatch(/lexical/);
  });
});
