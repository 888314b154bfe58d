/**
 * The index's data files: written and flushed with their size and checksum recorded, read back only
 * when they match what the manifest recorded.
 */
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { sha256, sha256Stream } from '../hash.js';
import { IndexCorrupt } from './errors.js';

export interface FileRecord {
  bytes: number;
  sha256: string;
}

/** Writes and flushes a data file; returns what the manifest records of it. */
export async function writeFlushed(file: string, bytes: Uint8Array): Promise<FileRecord> {
  return writeFlushedParts(file, [bytes]);
}

/**
 * Writes and flushes a data file given in pieces, each taken only when the one before is written: a large
 * file is never whole in memory. Returns what the manifest records of it.
 */
export async function writeFlushedParts(file: string, parts: Iterable<Uint8Array>): Promise<FileRecord> {
  const hash = sha256Stream();
  let bytes = 0;
  const handle = await open(file, 'w');
  try {
    for (const part of parts) {
      hash.update(part);
      bytes += part.byteLength;
      for (let written = 0; written < part.byteLength;) written += (await handle.write(part, written)).bytesWritten;
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { bytes, sha256: hash.digest() };
}

/** Bytes read at a time when a file is only hashed. */
const READ_CHUNK = 1 << 23;

/** The sha256 and size of an open file, read a chunk at a time. */
async function hashOf(handle: FileHandle): Promise<FileRecord> {
  const hash = sha256Stream();
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  let bytes = 0;
  for (;;) {
    const { bytesRead } = await handle.read(chunk, 0, READ_CHUNK, bytes);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    bytes += bytesRead;
  }
  return { bytes, sha256: hash.digest() };
}

/**
 * Flushes a file that a native library wrote itself (hnswlib's graph) and records it. hnswlib-node can
 * only write to a path, so the checksum needs this one read of what it wrote.
 */
export async function flushWritten(file: string): Promise<FileRecord> {
  const handle = await open(file, 'r+');
  try {
    const record = await hashOf(handle);
    await handle.sync();
    return record;
  } finally {
    await handle.close();
  }
}

/**
 * A data file of generation `generation`, checked against the size and checksum the manifest gives.
 * `shared`: read into a SharedArrayBuffer, which other threads can read as well.
 */
export async function readVerified(
  indexDir: string,
  generation: string,
  name: string,
  expected: FileRecord,
  { shared = false } = {},
): Promise<Buffer> {
  let bytes: Buffer;
  try {
    const file = path.join(indexDir, generation, name);
    bytes = shared ? await readShared(file) : await readFile(file);
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
 * Checks a data file against the size and checksum the manifest gives without keeping it: for a file a
 * native library reads itself (hnswlib's graph).
 */
export async function verifyFile(indexDir: string, generation: string, name: string, expected: FileRecord): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(path.join(indexDir, generation, name), 'r');
  } catch {
    throw new IndexCorrupt(`The index file ${generation}/${name} is missing.`);
  }
  let actual: FileRecord;
  try {
    const { size } = await handle.stat();
    if (size !== expected.bytes) {
      throw new IndexCorrupt(
        `The index file ${generation}/${name} is ${size} bytes, expected ${expected.bytes} (truncated or overwritten).`,
      );
    }
    actual = await hashOf(handle);
  } finally {
    await handle.close();
  }
  if (actual.sha256 !== expected.sha256 || actual.bytes !== expected.bytes)
    throw new IndexCorrupt(`The index file ${generation}/${name} does not match its checksum (corrupt).`);
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

/** A whole file read into shared memory. */
async function readShared(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.from(new SharedArrayBuffer(size));
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    // A file that shrank while it was read: the length check that follows reports it.
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}
