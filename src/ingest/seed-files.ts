/**
 * Reading the seeds folder: every .txt and .md file becomes an article, and every file that cannot be
 * read becomes a warning that names it, never a failed build.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodeArticleBytes, hashBytes, parseArticle, UnreadableArticle } from './article.js';
import type { Article } from '../model.js';

export const ARTICLE_EXTENSIONS = ['.txt', '.md', '.markdown'];

export interface SeedFile {
  /** Path relative to the seeds folder, with forward slashes. */
  file: string;
  absolute: string;
}

export interface CorpusReadResult {
  articles: Article[];
  skipped: Array<{ file: string; reason: string }>;
}

/** Article files below `seedsDir` (subfolders included), in a stable order. */
export async function listSeedFiles(seedsDir: string): Promise<SeedFile[]> {
  let entries;
  try {
    entries = await readdir(seedsDir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`The seeds folder ${seedsDir} does not exist. Create it and put .txt or .md articles in it, or set SEEDS_DIR.`);
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile() && ARTICLE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()) && !entry.name.startsWith('.'))
    .map((entry) => {
      const absolute = path.join(entry.parentPath, entry.name);
      return { file: path.relative(seedsDir, absolute).split(path.sep).join('/'), absolute };
    })
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** Size and modification time of a seed file: unchanged, they spare reading and hashing it again. */
export interface SeedStamp {
  size: number;
  mtimeMs: number;
}

export async function stampOf(seed: SeedFile): Promise<SeedStamp | undefined> {
  try {
    const info = await stat(seed.absolute);
    return { size: info.size, mtimeMs: info.mtimeMs };
  } catch {
    return undefined;
  }
}

export function sameStamp(a: SeedStamp | undefined, b: { size?: number; mtimeMs?: number } | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Reads a file's bytes and content hash without parsing it. */
export async function readSeed(seed: SeedFile): Promise<{ bytes: Buffer; hash: string }> {
  const bytes = await readFile(seed.absolute);
  return { bytes, hash: hashBytes(bytes) };
}

/** Parses one seed file; an unreadable file yields its reason instead of an article. */
export function parseSeed(file: string, bytes: Uint8Array, hash: string): Article | { file: string; reason: string } {
  try {
    return parseArticle(file, decodeArticleBytes(file, bytes), hash);
  } catch (error) {
    if (error instanceof UnreadableArticle) return { file, reason: error.message };
    return { file, reason: `${file}: ${(error as Error).message}` };
  }
}
