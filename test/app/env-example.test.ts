/** .env.example documents every configuration key, and copied as-is it is a valid configuration. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/app/config.js';
import { repoRoot } from '../discord/harness.js';

describe('.env.example', () => {
  it('names every key config.ts reads, each after a comment', async () => {
    const example = await readFile(path.join(repoRoot, '.env.example'), 'utf8');
    const source = await readFile(path.join(repoRoot, 'src/app/config.ts'), 'utf8');
    const keys = [...source.matchAll(/^ {2}([A-Z][A-Z0-9_]+): /gm)].map((match) => match[1]!);
    expect(keys.length).toBeGreaterThanOrEqual(17);
    const lines = example.split('\n');
    for (const key of keys) {
      const at = lines.findIndex((line) => new RegExp(`^(# )?${key}=`).test(line));
      expect(at, `${key} is documented`).toBeGreaterThan(0);
      expect(lines[at - 1], `${key} has a comment above it`).toMatch(/^#/);
    }
  });

  it('loads as a valid configuration when copied to .env unchanged', async () => {
    const parsed = dotenv.parse(await readFile(path.join(repoRoot, '.env.example')));
    const config = loadConfig(parsed, repoRoot);
    expect(config.discord).toEqual({
      token: undefined,
      applicationId: undefined,
      guildId: undefined,
      answerChannelIds: [],
      apiUrl: undefined,
    });
  });
});
