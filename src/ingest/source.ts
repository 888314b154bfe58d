/**
 * The ingest seam: where articles come from. A build asks a Source what it holds, how each entry stands
 * (size and modification time spare re-reading what did not change), and for its bytes and the Article
 * in them. The seeds folder is one Source (./seed-files.ts); web pages and feeds are others.
 */
import type { Article } from '../model.js';

export interface SourceEntry {
  /** The entry's stable name, shown to users and stored in the index (a file path relative to the folder). */
  file: string;
}

/** Size and modification time of an entry: unchanged, they spare reading and hashing it again. */
export interface SourceStamp {
  size: number;
  mtimeMs: number;
}

/** Why an entry did not become an article, in a sentence that names it. */
export interface Skipped {
  file: string;
  reason: string;
}

export interface Source {
  /** Where the articles come from, for messages. */
  readonly location: string;
  /** Entries larger than this are skipped unread. */
  readonly maxBytes: number;
  /** Every entry the source holds now, in a stable order, and the parts of it that could not be listed. */
  list(): Promise<{ entries: SourceEntry[]; skipped: Skipped[] }>;
  /** The entry's stamp; undefined when it cannot be had (the entry vanished). */
  stamp(entry: SourceEntry): Promise<SourceStamp | undefined>;
  /** The entry's bytes and their content hash. */
  read(entry: SourceEntry): Promise<{ bytes: Buffer; hash: string }>;
  /** The article in an entry's bytes, or why there is none. */
  parse(entry: SourceEntry, bytes: Uint8Array, hash: string): Article | Skipped;
}

export function sameStamp(a: SourceStamp | undefined, b: { size?: number; mtimeMs?: number } | undefined): boolean {
  return a !== undefined && b !== undefined && a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Orders entries by name, by code unit (not locale): the same order on every machine. */
export function byFile(a: { file: string }, b: { file: string }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}
