/**
 * A JSON-lines file that records are appended to (votes, additions): appends are chained so that
 * concurrent ones never interleave within a line, and a file cut short mid-line (a crash, an edit) gets
 * a newline before the next record rather than glueing two records into one unreadable line.
 */
import { appendFile, mkdir, open } from 'node:fs/promises';
import path from 'node:path';

export class AppendLog {
  readonly file: string;
  #queue: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  append(record: object): Promise<void> {
    const line = `${JSON.stringify(record)}\n`;
    const write = this.#queue.then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const separator = (await endsMidLine(this.file)) ? '\n' : '';
      await appendFile(this.file, separator + line, 'utf8');
    });
    this.#queue = write.catch(() => undefined);
    return write;
  }
}

/** True when `file` exists, is not empty, and its last byte is not a newline. */
async function endsMidLine(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return false;
  }
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    await handle.close();
  }
}
