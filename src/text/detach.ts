/**
 * Copies of strings kept for the life of an index. V8 keeps a slice of a longer string (13 characters or
 * more) as a pointer into it, so a single passage or headline kept from a seed file keeps the whole decoded
 * file alive, at two bytes a character when any character in the file needs two. At a million passages
 * that was gigabytes of heap.
 */

const LATIN1 = /^[\0-\xff]*$/;

/**
 * `text` as a string of its own: one byte a character when its characters allow, sharing no memory with
 * the string it was cut from. Lossless for any string, unpaired surrogates included.
 */
export function detached(text: string): string {
  if (text.length < 13) return text;
  return LATIN1.test(text) ? Buffer.from(text, 'latin1').toString('latin1') : Buffer.from(text, 'utf16le').toString('utf16le');
}
