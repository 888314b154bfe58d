/**
 * The offline model's folder as `npm run model` writes it: built once and then left alone while it
 * hashes as stamped, rebuilt when a file changed, and never half there, even when the build is killed.
 * Each build reads the real wink package (about 4 s); everything goes to temp folders.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureGloveModel, STAMP_FILE } from '../../src/app/glove-model.js';
import { GLOVE_MODEL_ID } from '../../src/embedding/glove/recipe.js';
import { createTransformersEmbedder, ModelUnavailable } from '../../src/embedding/transformers.js';
import { makeTempDir, REPO_ROOT, removeTempDirs } from '../helpers.js';

afterAll(removeTempDirs);

const FILES = ['config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];

/** Runs `node bin/run.mjs app/build-model --models-dir DIR`; `killWhen` kills it (SIGKILL) once stderr matches. */
function runBuildModel(
  modelsDir: string,
  killWhen?: RegExp,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/run.mjs', 'app/build-model', '--models-dir', modelsDir], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (killWhen?.test(stderr)) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

describe('the offline model folder', () => {
  let modelsDir: string;
  let dir: string;
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  it('is built with its files and a stamp, logging each step with its time', async () => {
    modelsDir = await makeTempDir('citebot-models-');
    const result = await ensureGloveModel({ modelsDir, log });
    dir = path.join(modelsDir, 'local', 'glove-6b-100d-sif');
    expect(result).toEqual({ status: 'built', dir });
    expect((await readdir(dir, { recursive: true })).map(String).sort()).toEqual([...FILES, 'onnx', STAMP_FILE].sort());
    const stamp = JSON.parse(await readFile(path.join(dir, STAMP_FILE), 'utf8')) as { model: string; files: Record<string, string> };
    expect(stamp.model).toBe(GLOVE_MODEL_ID);
    expect(Object.keys(stamp.files)).toEqual(FILES);
    // Nothing is left beside it.
    expect(await readdir(path.dirname(dir))).toEqual(['glove-6b-100d-sif']);
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines.slice(1)) expect(line).toMatch(/^model: .* in \d+\.\d s/);
  }, 20_000);

  it('is left alone while it hashes as stamped, or only checked for when a command needs it', async () => {
    const before = (await stat(path.join(dir, 'onnx', 'model.onnx'))).mtimeMs;
    lines.length = 0;
    expect(await ensureGloveModel({ modelsDir, log })).toEqual({ status: 'up-to-date', dir });
    expect(await ensureGloveModel({ modelsDir, log, onlyIfMissing: true })).toEqual({ status: 'present', dir });
    expect(lines).toEqual([]);
    expect((await stat(path.join(dir, 'onnx', 'model.onnx'))).mtimeMs).toBe(before);
  });

  it('is rebuilt when a file no longer hashes as stamped, and leftovers of dead builds are cleared', async () => {
    await writeFile(path.join(dir, 'tokenizer_config.json'), '{}');
    const leftover = path.join(path.dirname(dir), '.glove-6b-100d-sif.tmp-2147483646-0badc0de');
    await mkdir(leftover);
    await writeFile(path.join(leftover, 'config.json'), '{');
    expect(await ensureGloveModel({ modelsDir, log })).toEqual({ status: 'built', dir });
    expect(JSON.parse(await readFile(path.join(dir, 'tokenizer_config.json'), 'utf8'))).toMatchObject({ tokenizer_class: 'BertTokenizer' });
    expect(existsSync(leftover)).toBe(false);
    expect(await readdir(path.dirname(dir))).toEqual(['glove-6b-100d-sif']);
  }, 20_000);

  it('says in one line that the folder is current when `npm run model` runs again', async () => {
    const run = await runBuildModel(modelsDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`The offline model in ${dir} is up to date.\n`);
    expect(run.stderr).toBe('');
  }, 20_000);

  it('is not there at all, not half there, when the build is killed while writing', async () => {
    const killed = await makeTempDir('citebot-models-');
    const run = await runBuildModel(killed, /model: tokenizer and config files/);
    expect(run.signal).toBe('SIGKILL');
    const target = path.join(killed, 'local', 'glove-6b-100d-sif');
    expect(existsSync(target)).toBe(false);
    // What the build left is hidden beside the model's name; the embedder finds no model.
    for (const entry of await readdir(path.dirname(target)).catch(() => [])) expect(entry).toMatch(/^\.glove-6b-100d-sif\.tmp-\d+-/);
    const loading = createTransformersEmbedder({
      model: GLOVE_MODEL_ID,
      modelsDir: killed,
      cacheDir: await makeTempDir(),
      allowRemote: false,
    });
    await expect(loading).rejects.toBeInstanceOf(ModelUnavailable);
  }, 20_000);
});
