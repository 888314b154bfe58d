/**
 * The build lock of an index folder, so two builds never interleave. proper-lockfile takes it with one
 * atomic mkdir and keeps its mtime fresh while the build runs: a lock whose holder died (crash, SIGKILL,
 * a reused pid) goes stale within seconds and is taken over, and no rival can ever read a half-written
 * lock. The holder's pid sits in a file beside it, for messages only.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { IndexLocked } from './errors.js';

export const LOCK_NAME = '.build.lock';
/** A lock not refreshed for this long belongs to a build that no longer runs. */
const STALE_MS = 10_000;
const RETRY_MS = 100;

export interface LockOptions {
  /** How long to wait for another build to finish (default: do not wait). */
  waitMs?: number;
  /** Told once when the lock is held by another build and this one starts waiting. */
  onWait?: (message: string) => void;
  /** Told when the lock was lost mid-build (its folder removed, or not refreshed in time). */
  onCompromised?: (message: string) => void;
}

/** Takes the lock of `indexDir` (which must exist); resolves to the function that releases it. */
export async function lockIndexDir(indexDir: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const lockPath = path.join(indexDir, LOCK_NAME);
  const ownerPath = `${lockPath}.owner`;
  // Versions before this lock wrote a pid file under the same name; mkdir cannot take over a file.
  const existing = await stat(lockPath).catch(() => undefined);
  if (existing?.isFile()) await rm(lockPath, { force: true });

  const waitMs = options.waitMs ?? 0;
  const take = (retries: number) =>
    lockfile.lock(indexDir, {
      lockfilePath: lockPath,
      realpath: false,
      stale: STALE_MS,
      retries: retries === 0 ? 0 : { retries, factor: 1, minTimeout: RETRY_MS, maxTimeout: RETRY_MS },
      onCompromised: (error) =>
        options.onCompromised?.(`The build lock of ${indexDir} was lost (${error.message}); another build may be writing too.`),
    });
  let release: () => Promise<void>;
  try {
    release = await take(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const holder = await describeHolder(ownerPath);
    if (waitMs <= 0)
      throw new IndexLocked(`Another build (${holder}) is writing ${indexDir}; wait for it to finish.`, undefined, { cause: error });
    options.onWait?.(`Another build (${holder}) is writing ${indexDir}; waiting up to ${Math.round(waitMs / 1000)} s for it to finish.`);
    try {
      release = await take(Math.ceil(waitMs / RETRY_MS));
    } catch (retryError) {
      if ((retryError as NodeJS.ErrnoException).code !== 'ELOCKED') throw retryError;
      throw new IndexLocked(
        `Another build (${holder}) was still writing ${indexDir} after ${Math.round(waitMs / 1000)} s; try again when it has finished.`,
        undefined,
        {
          cause: retryError,
        },
      );
    }
  }
  await writeFile(ownerPath, String(process.pid)).catch(() => undefined);
  return async () => {
    await rm(ownerPath, { force: true });
    await release();
  };
}

async function describeHolder(ownerPath: string): Promise<string> {
  const pid = Number((await readFile(ownerPath, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? `process ${pid}` : 'another process';
}
