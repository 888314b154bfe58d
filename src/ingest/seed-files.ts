/**
 * The seeds folder as a Source: every .txt and .md file below it becomes an article, and every file that
 * cannot be read becomes a warning that names it, never a failed build.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.js';
import { CitebotError } from '../errors.js';
import { decodeArticleBytes, MAX_FILE_BYTES, parseArticle, UnreadableArticle } from './article.js';
import { byFile, type Source, type SourceEntry } from './source.js';

export const ARTICLE_EXTENSIONS = ['.txt', '.md', '.markdown'];

/** The seeds folder cannot be listed at all. */
export class SeedsUnreadable extends CitebotError {
  constructor(message: string) {
    super('SeedsUnreadable', message);
  }
}

interface SeedFile extends SourceEntry {
  absolute: string;
}

/** The articles in the folder `seedsDir` (subfolders included). */
export function seedFolder(seedsDir: string): Source {
  const absolute = (entry: SourceEntry) => (entry as Partial<SeedFile>).absolute ?? path.join(seedsDir, entry.file);
  return {
    location: seedsDir,
    maxBytes: MAX_FILE_BYTES,
    list: () => listSeedFiles(seedsDir),
    async stamp(entry) {
      try {
        const info = await stat(absolute(entry));
        return { size: info.size, mtimeMs: info.mtimeMs };
      } catch {
        return undefined;
      }
    },
    async read(entry) {
      const bytes = await readFile(absolute(entry));
      return { bytes, hash: sha256(bytes) };
    },
    parse(entry, bytes, hash) {
      try {
        return parseArticle(entry.file, decodeArticleBytes(entry.file, bytes), hash);
      } catch (error) {
        if (error instanceof UnreadableArticle) return { file: entry.file, reason: error.message };
        return { file: entry.file, reason: `${entry.file}: ${(error as Error).message}` };
      }
    },
  };
}

/** Article files below `seedsDir`, in a stable order, with paths relative to it in forward slashes. */
async function listSeedFiles(seedsDir: string): Promise<SeedFile[]> {
  let entries;
  try {
    entries = await readdir(seedsDir, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SeedsUnreadable(
        `The seeds folder ${seedsDir} does not exist. Create it and put .txt or .md articles in it, or set SEEDS_DIR.`,
      );
    }
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile() && ARTICLE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()) && !entry.name.startsWith('.'))
    .map((entry) => {
      const absolute = path.join(entry.parentPath, entry.name);
      return { file: path.relative(seedsDir, absolute).split(path.sep).join('/'), absolute };
    })
    .sort(byFile);
}
