/**
 * The manifest: what an index holds and how it was built (format, model fingerprint, sources with their
 * hashes, build parameters, data files with sizes and checksums). A build writes it last, atomically; a
 * reader trusts nothing the manifest does not vouch for.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import type { EmbedderFingerprint } from '../embedding/embedder.js';
import { sha256 } from '../hash.js';
import { IndexCorrupt, IndexMissing, ModelMismatch } from './errors.js';

/** Bumped whenever a data file changes shape; an index of another format is rebuilt. */
export const INDEX_FORMAT = 6;
export const MANIFEST_FILE = 'manifest.json';

const fingerprintSchema = z.object({
  model: z.string(),
  dimension: z.number().int().positive(),
  pooling: z.enum(['mean', 'cls']),
  dtype: z.string(),
  queryPrefix: z.string(),
  passagePrefix: z.string(),
});

const manifestSchema = z.object({
  format: z.number().int(),
  generation: z.string().regex(/^gen-[\w-]+$/),
  createdAt: z.string(),
  mode: z.enum(['hybrid', 'lexical']),
  /** Why the index is lexical-only, when it is. */
  modeReason: z.string().optional(),
  embedding: fingerprintSchema.nullable(),
  articleCount: z.number().int().nonnegative(),
  passageCount: z.number().int().nonnegative(),
  sources: z.array(
    z.object({
      file: z.string(),
      sha256: z.string(),
      passages: z.number().int().nonnegative(),
      size: z.number().optional(),
      mtimeMs: z.number().optional(),
    }),
  ),
  build: z.object({
    hnsw: z.object({ m: z.number(), efConstruction: z.number(), efSearch: z.number() }),
    bm25: z.object({ k: z.number(), b: z.number(), d: z.number() }),
    titleBoost: z.number(),
    maxPassageChars: z.number(),
    parserVersion: z.number().int(),
    nextLabel: z.number().int().nonnegative(),
  }),
  files: z.record(z.string(), z.object({ bytes: z.number().int().nonnegative(), sha256: z.string() })),
  /** Changes since the generation was written, in a file of the generation folder. */
  delta: z
    .object({
      file: z.string().regex(/^delta-[\w-]+\.json$/),
      bytes: z.number().int().nonnegative(),
      sha256: z.string(),
      /** Passages the delta adds. */
      passages: z.number().int().nonnegative(),
      /** Passages of the generation that the delta withdraws. */
      withdrawn: z.number().int().nonnegative(),
    })
    .optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

export async function readManifest(indexDir: string): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(path.join(indexDir, MANIFEST_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new IndexMissing(`No index in ${indexDir}.`);
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new IndexCorrupt(`The index manifest in ${indexDir} is not valid JSON (truncated?).`);
  }
  const { checksum, ...content } = typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : { checksum: undefined };
  const parsed = manifestSchema.safeParse(content);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IndexCorrupt(`The index manifest in ${indexDir} is malformed (${issue?.path.join('.')}: ${issue?.message}).`);
  }
  if (parsed.data.format !== INDEX_FORMAT) {
    throw new IndexCorrupt(`The index in ${indexDir} has format ${parsed.data.format}; this version reads format ${INDEX_FORMAT}.`);
  }
  // An edited manifest (a source list emptied by hand) would make the next update add every passage again.
  if (checksum !== manifestChecksum(content)) {
    throw new IndexCorrupt(`The index manifest in ${indexDir} does not match its checksum (edited or damaged).`);
  }
  return parsed.data;
}

/** The manifest's own checksum: sha256 of its content as written, without the checksum field. */
function manifestChecksum(content: object): string {
  return sha256(JSON.stringify(content));
}

/** Replaces the manifest atomically (write, flush, rename): a reader sees the old one or the new one. */
export async function writeManifest(indexDir: string, manifest: Manifest): Promise<void> {
  const content = `${JSON.stringify({ ...manifest, checksum: manifestChecksum(manifest) }, null, 2)}\n`;
  await writeFileAtomic(path.join(indexDir, MANIFEST_FILE), content, { fsync: true });
}

/**
 * Checks that an index built with `built` can be searched with the configured model. `null` means
 * lexical only, on either side.
 */
export function checkModel(built: Manifest['embedding'], configured: Omit<EmbedderFingerprint, 'dimension'> | null): void {
  if (!built || !configured) return;
  const differences = (['model', 'pooling', 'dtype', 'queryPrefix', 'passagePrefix'] as const).filter(
    (key) => built[key] !== configured[key],
  );
  if (differences.length > 0) {
    const detail = differences.map((key) => `${key} ${JSON.stringify(built[key])} → ${JSON.stringify(configured[key])}`).join(', ');
    throw new ModelMismatch(`The index was built with another embedding setup (${detail}).`);
  }
}
