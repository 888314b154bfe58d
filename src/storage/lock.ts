/**
 * The build lock of an index folder, so two builds never interleave. proper-lockfile takes it with one
 * atomic mkdir and refreshes its mtime every few seconds while the build runs; a lock left unrefreshed for
 * 30 s belongs to a build that no longer runs (a crash, SIGKILL, or a pid since reused by another program)
 * and is taken over. 30 s, not less: a large build runs synchronous steps (serialising, writing the graph)
 * that keep the refresh timer waiting for a few seconds. The holder's pid sits in a file beside the lock,
 * for messages, and so that a build finding its holder dead waits for the lock to expire instead of failing.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { IndexLocked } from './errors.js';

export const LOCK_NAME = '.build.lock';
/** A lock not refreshed for this long is stale. */
const STALE_MS = 30_000;
/** How often the holder refreshes it. */
const REFRESH_MS = 3_000;
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
  await clearLegacyLock(indexDir, lockPath);

  let compromised = false;
  const take = (waitMs: number) =>
    lockfile.lock(indexDir, {
      lockfilePath: lockPath,
      realpath: false,
      stale: STALE_MS,
      update: REFRESH_MS,
      retries: waitMs <= 0 ? 0 : { retries: Math.ceil(waitMs / RETRY_MS), factor: 1, minTimeout: RETRY_MS, maxTimeout: RETRY_MS },
      onCompromised: (error) => {
        compromised = true;
        options.onCompromised?.(`The build lock of ${indexDir} was lost (${error.message}); another build may be writing too.`);
      },
    });
  let release: () => Promise<void>;
  try {
    release = await take(0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    const owner = await ownerOf(ownerPath);
    const ownerDead = owner !== undefined && !isRunning(owner);
    const waitMs = ownerDead ? Math.max(options.waitMs ?? 0, STALE_MS + 2_000) : (options.waitMs ?? 0);
    const holder = owner === undefined ? 'another process' : `process ${owner}`;
    if (waitMs <= 0) throw new IndexLocked(`Another build (${holder}) is writing ${indexDir}; wait for it to finish.`, { cause: error });
    options.onWait?.(
      ownerDead
        ? `A build that no longer runs (${holder}) left its lock on ${indexDir}; taking it over when it expires, within ${STALE_MS / 1000} s.`
        : `Another build (${holder}) is writing ${indexDir}; waiting up to ${Math.round(waitMs / 1000)} s for it to finish.`,
    );
    try {
      release = await take(waitMs);
    } catch (retryError) {
      if ((retryError as NodeJS.ErrnoException).code !== 'ELOCKED') throw retryError;
      throw new IndexLocked(
        `Another build (${holder}) was still writing ${indexDir} after ${Math.round(waitMs / 1000)} s; wait for it to finish.`,
        {
          cause: retryError,
        },
      );
    }
  }
  await writeFile(ownerPath, String(process.pid)).catch(() => undefined);
  return async () => {
    // A lost lock may belong to another build by now: leave its owner file, and do not fail a finished build.
    if (compromised) return;
    await rm(ownerPath, { force: true });
    await release().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ERELEASED' && error.code !== 'ENOTACQUIRED') throw error;
    });
  };
}

/**
 * Earlier versions locked with a plain file holding their pid, which mkdir cannot take over: removed when
 * its process no longer runs, refused while it does.
 */
async function clearLegacyLock(indexDir: string, lockPath: string): Promise<void> {
  const existing = await stat(lockPath).catch(() => undefined);
  if (!existing?.isFile()) return;
  const owner = await ownerOf(lockPath);
  if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
    throw new IndexLocked(`Another build (process ${owner}) is writing ${indexDir}; wait for it to finish.`);
  }
  // A rival may have replaced it with its own lock folder meanwhile: that one is not removed.
  await rm(lockPath, { force: true }).catch(() => undefined);
}

async function ownerOf(file: string): Promise<number | undefined> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
