import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigPaths, ConfigError, loadConfig } from '../../src/app/config.js';
import { makeTempDir, removeTempDirs } from '../helpers.js';

afterAll(removeTempDirs);

function problemsOf(run: () => void): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('configured paths are checked before anything runs', () => {
  it('lists every path that cannot work, at once', async () => {
    const dir = await makeTempDir();
    await writeFile(path.join(dir, 'a-file'), 'x');
    await mkdir(path.join(dir, 'a-folder'));
    const file = path.join(dir, 'a-file');
    const config = loadConfig({ SEEDS_DIR: file, INDEX_DIR: file, MODELS_DIR: file, FEEDBACK_FILE: path.join(dir, 'a-folder') }, dir);
    expect(problemsOf(() => checkConfigPaths(config))).toEqual([
      `SEEDS_DIR ${file} is a file; it must be a folder`,
      `INDEX_DIR ${file} is a file; it must be a folder`,
      `MODELS_DIR ${file} is a file; it must be a folder`,
      `FEEDBACK_FILE ${path.join(dir, 'a-folder')} is a folder; it must name a file (it is created on the first vote)`,
    ]);
    const inFile = loadConfig({ SEEDS_DIR: dir, INDEX_DIR: dir, MODELS_DIR: dir, FEEDBACK_FILE: path.join(file, 'votes.jsonl') }, dir);
    expect(problemsOf(() => checkConfigPaths(inFile))).toEqual([
      `FEEDBACK_FILE ${path.join(file, 'votes.jsonl')} is inside ${file}, which is a file`,
    ]);
  });

  it('accepts folders that do not exist yet: the index and the feedback file are created', async () => {
    const dir = await makeTempDir();
    const config = loadConfig(
      { SEEDS_DIR: dir, INDEX_DIR: path.join(dir, 'new-index'), FEEDBACK_FILE: path.join(dir, 'new', 'votes.jsonl') },
      dir,
    );
    expect(problemsOf(() => checkConfigPaths(config))).toEqual([]);
  });
});
