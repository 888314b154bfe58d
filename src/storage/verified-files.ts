/**
 * The index's data files: written and flushed with their size and checksum recorded, read back only
 * when they match what the manifest recorded.
 */
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../hash.js';
import { IndexCorrupt } from './errors.js';

export interface FileRecord {
  bytes: number;
  sha256: string;
}

/** Writes and flushes a data file; returns what the manifest records of it. */
export async function writeFlushed(file: string, bytes: Uint8Array): Promise<FileRecord> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes: bytes.byteLength, sha256: sha256(bytes) };
}

/**
 * Flushes a file that a native library wrote itself (hnswlib's graph) and records it. hnswlib-node can
 * only write to a path, so the checksum needs this one read of what it wrote.
 */
export async function flushWritten(file: string): Promise<FileRecord> {
  const handle = await open(file, 'r+');
  try {
    const bytes = await handle.readFile();
    await handle.sync();
    return { bytes: bytes.length, sha256: sha256(bytes) };
  } finally {
    await handle.close();
  }
}

/** A data file of generation `generation`, checked against the size and checksum the manifest gives. */
export async function readVerified(indexDir: string, generation: string, name: string, expected: FileRecord): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path.join(indexDir, generation, name));
  } catch {
    throw new IndexCorrupt(`The index file ${generation}/${name} is missing.`);
  }
  if (bytes.length !== expected.bytes) {
    throw new IndexCorrupt(
      `The index file ${generation}/${name} is ${bytes.length} bytes, expected ${expected.bytes} (truncated or overwritten).`,
    );
  }
  if (sha256(bytes) !== expected.sha256)
    throw new IndexCorrupt(`The index file ${generation}/${name} does not match its checksum (corrupt).`);
  return bytes;
}

/**
 * Checks that data files are there at their recorded sizes, without reading them: the cheap check an
 * update that writes only a delta makes (loading verifies the checksums).
 */
export async function checkSizes(indexDir: string, generation: string, files: Record<string, FileRecord>): Promise<void> {
  for (const [name, expected] of Object.entries(files)) {
    const size = await stat(path.join(indexDir, generation, name)).then(
      (info) => info.size,
      () => undefined,
    );
    if (size === undefined) throw new IndexCorrupt(`The index file ${generation}/${name} is missing.`);
    if (size !== expected.bytes)
      throw new IndexCorrupt(
        `The index file ${generation}/${name} is ${size} bytes, expected ${expected.bytes} (truncated or overwritten).`,
      );
  }
}
