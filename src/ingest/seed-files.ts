/**
 * The seeds folder as a Source: every text (.txt, .md) and web page (.html, .htm) file below it becomes an
 * article, and every file that cannot be read becomes a warning that names it, never a failed build.
 */
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.js';
import { CitebotError } from '../errors.js';
import { decodeArticleBytes, MAX_FILE_BYTES, parseArticle, UnreadableArticle } from './article.js';
import { decodeHtmlBytes, HTML_EXTENSIONS, parseHtmlArticle } from './html.js';
import { byFile, type Skipped, type Source, type SourceEntry } from './source.js';
import type { Article } from '../model.js';

export const TEXT_EXTENSIONS = ['.txt', '.md', '.markdown'];
export const ARTICLE_EXTENSIONS = [...TEXT_EXTENSIONS, ...HTML_EXTENSIONS];

/** The article in one file's bytes: a web page through Readability, anything else as text. */
export function parseArticleFile(file: string, bytes: Uint8Array, hash: string) {
  if (HTML_EXTENSIONS.includes(path.extname(file).toLowerCase())) return parseHtmlArticle(file, decodeHtmlBytes(file, bytes), hash);
  return parseArticle(file, decodeArticleBytes(file, bytes), hash);
}

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
        return parseArticleFile(entry.file, bytes, hash);
      } catch (error) {
        if (error instanceof UnreadableArticle) return { file: entry.file, reason: error.message };
        return { file: entry.file, reason: `${entry.file}: ${(error as Error).message}` };
      }
    },
  };
}

/**
 * Article files below `seedsDir`, in a stable order, with paths relative to it in forward slashes.
 * Symbolic links are followed (a link to a folder already visited is a loop, skipped with a warning); a
 * subfolder that cannot be read is skipped with a warning, and the rest is listed.
 */
async function listSeedFiles(seedsDir: string): Promise<{ entries: SeedFile[]; skipped: Skipped[] }> {
  const entries: SeedFile[] = [];
  const skipped: Skipped[] = [];
  const visited = new Set<string>();
  // Real paths of the files listed: two links to one file are one article.
  const listed = new Set<string>();
  const visit = async (dir: string, relative: string): Promise<void> => {
    const real = await realpath(dir).catch(() => dir);
    if (visited.has(real)) {
      skipped.push({ file: relative, reason: `${relative}: a link back to a folder already read (a loop); skipped` });
      return;
    }
    visited.add(real);
    let listing;
    try {
      listing = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      if (relative === '') throw seedsFolderError(seedsDir, code);
      skipped.push({ file: relative, reason: `${relative}/: the folder could not be read (${code}); the articles in it are skipped` });
      return;
    }
    for (const entry of listing) {
      const absolute = path.join(dir, entry.name);
      const file = relative === '' ? entry.name : `${relative}/${entry.name}`;
      let isDirectory = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        const target = await stat(absolute).catch(() => undefined);
        if (!target) {
          skipped.push({ file, reason: `${file}: a symbolic link whose target is missing; skipped` });
          continue;
        }
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      }
      if (isDirectory) {
        await visit(absolute, file);
        continue;
      }
      if (!isFile || !ARTICLE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase()) || entry.name.startsWith('.')) continue;
      const target = entry.isSymbolicLink() ? await realpath(absolute).catch(() => absolute) : path.join(real, entry.name);
      if (listed.has(target)) {
        skipped.push({ file, reason: `${file}: another name (a link) for an article already listed; skipped` });
        continue;
      }
      listed.add(target);
      entries.push({ file, absolute });
    }
  };
  await visit(seedsDir, '');
  return { entries: entries.sort(byFile), skipped };
}

function seedsFolderError(seedsDir: string, code: string): SeedsUnreadable {
  if (code === 'ENOENT') {
    return new SeedsUnreadable(
      `The seeds folder ${seedsDir} does not exist. Create it and put articles in it (.txt, .md or saved .html pages), or set SEEDS_DIR.`,
    );
  }
  if (code === 'ENOTDIR')
    return new SeedsUnreadable(`SEEDS_DIR ${seedsDir} is a file, not a folder. Point SEEDS_DIR at the folder of articles.`);
  return new SeedsUnreadable(`The seeds folder ${seedsDir} cannot be read (${code}).`);
}

/** Every article in the folder, read at once (for checks over the seeds); what cannot be read is reported. */
export async function readSeedArticles(seedsDir: string, onSkipped: (reason: string) => void): Promise<Article[]> {
  const source = seedFolder(seedsDir);
  const articles: Article[] = [];
  const { entries, skipped } = await source.list();
  for (const entry of skipped) onSkipped(entry.reason);
  for (const entry of entries) {
    const { bytes, hash } = await source.read(entry);
    const parsed = source.parse(entry, bytes, hash);
    if ('paragraphs' in parsed) articles.push(parsed);
    else onSkipped(parsed.reason);
  }
  return articles;
}
