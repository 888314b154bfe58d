/** Content hashes: the one place that picks the algorithm. */
import { createHash } from 'node:crypto';

/** Hex sha256 of bytes or of a string's UTF-8. */
export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of data given in pieces: `update` with each, then `digest`. */
export function sha256Stream(): { update(data: Uint8Array): void; digest(): string } {
  const hash = createHash('sha256');
  return { update: (data) => void hash.update(data), digest: () => hash.digest('hex') };
}
