/**
 * What changed since the index was written: the build setup (model, parameters, parser) and the source's
 * entries (new, changed by content hash, removed). Entries whose size and modification time are as
 * recorded are taken as unchanged without being read, as git and make do.
 */
import type { EmbedderFingerprint } from '../embedding/embedder.js';
import { PARSER_VERSION } from '../ingest/article.js';
import { articlePassages, MAX_PASSAGE_CHARS, withLabel } from '../ingest/passages.js';
import { sameStamp, type Skipped, type Source, type SourceStamp } from '../ingest/source.js';
import type { Article, ArticleRecord, IndexedPassage } from '../model.js';
import type { Manifest } from '../storage/manifest.js';
import { detached } from '../text/detach.js';
import type { LexicalOptions } from './bm25.js';
import type { HnswParameters } from './hnsw.js';

/** Why the previous index cannot be updated in place with this setup; undefined when it can. */
export function setupChange(
  previous: Manifest,
  fingerprint: EmbedderFingerprint | null,
  hnsw: HnswParameters,
  lexical: LexicalOptions,
): string | undefined {
  if (fingerprint === null && previous.mode === 'hybrid') return 'no embedding model is available now; rebuilding lexical-only';
  if (fingerprint !== null && previous.mode === 'lexical') return 'the previous index was lexical-only; adding embeddings';
  if (fingerprint && previous.embedding) {
    for (const key of ['model', 'dimension', 'pooling', 'dtype', 'queryPrefix', 'passagePrefix'] as const) {
      if (fingerprint[key] !== previous.embedding[key])
        return `the embedding ${key} changed (${previous.embedding[key]} → ${fingerprint[key]})`;
    }
  }
  // efSearch is left out: it is a setting of each search (the index is loaded with the current one), not
  // a property of the graph.
  for (const key of ['m', 'efConstruction'] as const) {
    if (previous.build.hnsw[key] !== hnsw[key]) return `the HNSW parameters changed (${key} ${previous.build.hnsw[key]} → ${hnsw[key]})`;
  }
  if (JSON.stringify(previous.build.bm25) !== JSON.stringify(lexical.bm25) || previous.build.titleBoost !== lexical.titleBoost)
    return 'the BM25 parameters changed';
  if (previous.build.maxPassageChars !== MAX_PASSAGE_CHARS) return 'the passage size changed';
  if (previous.build.parserVersion !== PARSER_VERSION) return 'the article parser changed';
  return undefined;
}

/** True when every entry of the source is present with the hash it was indexed with, and no other is. */
export async function sourceUnchanged(source: Source, manifest: Manifest): Promise<boolean> {
  const { entries } = await source.list();
  if (entries.length !== manifest.sources.length) return false;
  const indexed = new Map(manifest.sources.map((recorded) => [recorded.file, recorded]));
  const stamps = await Promise.all(entries.map((entry) => source.stamp(entry)));
  for (const [i, entry] of entries.entries()) {
    const recorded = indexed.get(entry.file);
    if (!recorded) return false;
    if (sameStamp(stamps[i], recorded)) continue;
    const hash = await source.read(entry).then(
      (content) => content.hash,
      () => undefined,
    );
    if (hash !== recorded.sha256) return false;
  }
  return true;
}

/** What reading the source against the previous manifest found. */
export interface SourceScan {
  /** New and changed articles, as stored (their paragraphs live on only as `freshPassages`). */
  fresh: ArticleRecord[];
  /** The passages of `fresh`, labelled from the previous index's next label on. */
  freshPassages: IndexedPassage[];
  /** Label after the last fresh passage. */
  nextLabel: number;
  keptFiles: Set<string>;
  added: string[];
  changed: string[];
  removed: string[];
  skipped: Skipped[];
  stamps: Map<string, SourceStamp>;
}

/** Entries read ahead of parsing. */
const READ_AHEAD = 16;

/** About 2,000 passages of text: below this, starting a worker thread costs more than it saves. */
const LARGE_BUILD_BYTES = 1_000_000;

export interface ScanOptions {
  /** Told, before the first read, when this is a large full build (a worker thread can start). */
  onLargeBuild?: () => void;
  /** Passages in chunks of `chunkSize` as soon as they are split, in a large full build. */
  onChunk?: (passages: IndexedPassage[]) => void;
  chunkSize: number;
}

/**
 * Reads the entries that are new or changed since `previous` (all of them without one), parses them and
 * splits them into passages. In a large full build, `onChunk` gets each full chunk of passages as soon as
 * it is split, so embedding starts while the rest are read.
 */
/** What a scan compares the source with: the indexed articles' hashes and stamps, and the next free label (a manifest has them). */
export interface IndexedSources {
  sources: ReadonlyArray<{ file: string; sha256: string; size?: number; mtimeMs?: number }>;
  build: { nextLabel: number };
}

export async function scanSource(source: Source, previous: IndexedSources | undefined, options: ScanOptions): Promise<SourceScan> {
  const { entries, skipped: unlisted } = await source.list();
  const previousSources = new Map(previous?.sources.map((recorded) => [recorded.file, recorded]) ?? []);
  const stamps = new Map<string, SourceStamp>();
  const scan: SourceScan = {
    fresh: [],
    freshPassages: [],
    nextLabel: previous?.build.nextLabel ?? 0,
    keptFiles: new Set(),
    added: [],
    changed: [],
    removed: [],
    skipped: [...unlisted],
    stamps,
  };
  // Stat calls run together (the file system answers them in parallel); reads stay in order.
  const entryStamps = await Promise.all(entries.map((entry) => source.stamp(entry)));
  const totalBytes = entryStamps.reduce((sum, stamp) => sum + (stamp?.size ?? 0), 0);
  const large = !previous && totalBytes >= LARGE_BUILD_BYTES;
  if (large) options.onLargeBuild?.();
  let handedOver = 0;
  const unchanged = entries.map((entry, i) => sameStamp(entryStamps[i], previousSources.get(entry.file)));
  const oversized = entryStamps.map((stamp) => stamp !== undefined && stamp.size > source.maxBytes);
  // Entries are read a few ahead of the one being parsed, so the disk works while this thread parses.
  const reads = new Map<number, Promise<{ bytes: Buffer; hash: string } | { error: unknown }>>();
  const readAhead = (from: number) => {
    for (let j = from; j < entries.length && reads.size < READ_AHEAD; j += 1) {
      if (!reads.has(j) && !unchanged[j] && !oversized[j])
        reads.set(
          j,
          source.read(entries[j]!).catch((error: unknown) => ({ error })),
        );
    }
  };
  for (const [i, entry] of entries.entries()) {
    const stamp = entryStamps[i];
    if (stamp) stamps.set(entry.file, stamp);
    const recorded = previousSources.get(entry.file);
    if (unchanged[i]) {
      scan.keptFiles.add(entry.file);
      continue;
    }
    if (oversized[i]) {
      scan.skipped.push({
        file: entry.file,
        reason: `${entry.file}: the file is ${stamp!.size} bytes; articles over ${source.maxBytes} bytes are skipped`,
      });
      continue;
    }
    readAhead(i);
    const content = await reads.get(i)!;
    reads.delete(i);
    readAhead(i + 1);
    if ('error' in content) {
      const error = content.error as NodeJS.ErrnoException;
      scan.skipped.push({ file: entry.file, reason: `${entry.file}: could not be read (${error.code ?? error.message})` });
      continue;
    }
    if (recorded?.sha256 === content.hash) {
      scan.keptFiles.add(entry.file);
      continue;
    }
    const parsed = source.parse(entry, content.bytes, content.hash);
    if ('reason' in parsed) {
      scan.skipped.push(parsed);
      continue;
    }
    scan.fresh.push(articleRecord(parsed, stamp));
    (recorded ? scan.changed : scan.added).push(entry.file);
    for (const passage of articlePassages(parsed)) scan.freshPassages.push(withLabel(passage, scan.nextLabel++));
    while (large && options.onChunk && scan.freshPassages.length - handedOver >= options.chunkSize) {
      options.onChunk(scan.freshPassages.slice(handedOver, handedOver + options.chunkSize));
      handedOver += options.chunkSize;
    }
  }
  scan.removed = [...previousSources.keys()].filter((file) => !scan.keptFiles.has(file) && !scan.changed.includes(file));
  return scan;
}

/**
 * An article as the index stores it: its paragraphs live on as passages, its stamp spares a re-read. Its
 * strings are copies (see `detached`): a headline cut from the file would keep the whole file in memory.
 * A stored article is copied with the new stamp.
 */
export function articleRecord(article: Article | ArticleRecord, stamp?: SourceStamp): ArticleRecord {
  // Set key by key, not spread: V8 gives every object made by `{ ...article }` a hidden class of its own,
  // hundreds of bytes an article.
  const record: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(article))
    if (key !== 'paragraphs') record[key] = typeof value === 'string' ? detached(value) : value;
  if ('paragraphs' in article) record.paragraphCount = article.paragraphs.length;
  for (const [key, value] of Object.entries(stamp ?? {})) record[key] = value;
  return record as ArticleRecord;
}
