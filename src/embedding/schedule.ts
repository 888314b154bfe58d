import type { Embedder } from './embedder.js';
/**
 * Shares the embedding of a build's passages between two threads. Passages come in chunks, in label order;
 * a worker thread (when there is one) takes chunks from the front as soon as they exist, even while the
 * seeds are still being read, and keeps a couple queued so it never idles. The building thread, whenever
 * it would otherwise wait for a chunk, embeds the last chunk nobody has taken itself.
 */

/** Passages per chunk: small enough to share out evenly, large enough to amortise messaging. */
export const EMBED_CHUNK = 512;

/** Chunks queued at the worker at a time, so it never waits for this thread to hand it the next one. */
const WORKER_CHUNKS_IN_FLIGHT = 2;

/**
 * How far the worker may run ahead of the chunks released (their vectors used): every chunk embedded and
 * not yet released holds its vectors. Unbounded, a million-passage build embedded the whole corpus while
 * the building thread read it and indexed BM25, then held every vector until HNSW took it (4,129 MB at its
 * peak). 64 chunks kept it at 3,739 MB but left the worker idle through those stages (1,992 passages/s);
 * 512 chunks (262,144 passages, ~105 MB of 100-d vectors) gave 3,802 MB and 2,140 passages/s.
 */
export const MAX_CHUNKS_AHEAD = 512;

type Embed = (texts: string[]) => Promise<Float32Array[]>;

export class EmbedSchedule {
  /** Texts of the chunks nobody has taken yet (a taken chunk's are dropped). */
  private readonly chunks: Array<string[] | undefined> = [];
  /** Vectors of each chunk until it is released. */
  private readonly results: Array<Promise<Float32Array[]> | undefined> = [];
  /** Resolves each chunk's result once it is taken (cleared then: a resolver keeps its promise's value). */
  private readonly settle: Array<((result: Promise<Float32Array[]>) => void) | undefined> = [];
  private readonly settled: boolean[] = [];
  /** Next chunk for the worker; chunks from `front` to `back` are not taken yet. */
  private front = 0;
  private back = -1;
  private closed = false;
  private wakeWorker: (() => void) | undefined;
  private embeddedTexts = 0;
  private releasedChunks = 0;
  private pushedTexts = 0;
  private started: number | undefined;
  private finished = 0;

  private constructor(
    private readonly here: Embed,
    private readonly elsewhere: Embed | undefined,
    private readonly onProgress?: (done: number, total: number) => void,
  ) {
    for (let i = 0; elsewhere && i < WORKER_CHUNKS_IN_FLIGHT; i += 1) this.feedWorker().catch(() => {});
  }

  /** A schedule over `embedder`; `shared` brings in its worker thread, when it has one. */
  static for(embedder: Embedder, shared: boolean, onProgress?: (done: number, total: number) => void): EmbedSchedule {
    const elsewhere = shared && embedder.embedElsewhere ? (texts: string[]) => embedder.embedElsewhere!(texts, 'passage') : undefined;
    return new EmbedSchedule((texts) => embedder.embed(texts, 'passage'), elsewhere, onProgress);
  }

  /** Whether a worker thread takes chunks of this schedule. */
  get sharedElsewhere(): boolean {
    return this.elsewhere !== undefined;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  /** Wall time from the first chunk taken to the last one embedded. */
  get elapsedMs(): number {
    return this.started === undefined ? 0 : this.finished - this.started;
  }

  /** Adds the next chunk of texts (at most EMBED_CHUNK). */
  push(texts: string[]): void {
    if (this.closed) throw new Error('no chunks can be added to a closed embedding schedule');
    this.chunks.push(texts);
    this.results.push(new Promise((resolve) => this.settle.push(resolve)));
    // A failure surfaces when its chunk is awaited; others failing meanwhile must not go unhandled.
    this.results.at(-1)!.catch(() => {});
    this.pushedTexts += texts.length;
    this.back += 1;
    this.wake();
  }

  /** No more chunks will come. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  /** The vectors of chunk `i`, in its order. */
  vectorsOf(i: number): Promise<Float32Array[]> {
    const result = this.results[i];
    if (!result) throw new Error(`chunk ${i} of the embedding schedule was released`);
    return result;
  }

  /**
   * Forgets chunk `i`'s vectors once they are used: a large build would otherwise hold every vector twice
   * until its end.
   */
  release(i: number): void {
    if (this.results[i] === undefined) return;
    this.results[i] = undefined;
    this.releasedChunks += 1;
    this.wake();
  }

  /** Whether chunk `i` is embedded already (or failed). */
  isReady(i: number): boolean {
    return this.settled[i] === true;
  }

  /**
   * Embeds on this thread the chunk the worker would reach last (the first one without a worker), if any
   * is untaken. Returns its index.
   */
  async embedOneHere(): Promise<number | undefined> {
    if (this.front > this.back) return undefined;
    const i = this.elsewhere ? this.back-- : this.front++;
    await this.run(i, this.here);
    return i;
  }

  private async feedWorker(): Promise<void> {
    for (;;) {
      while ((this.front > this.back && !this.closed) || (this.front <= this.back && this.front - this.releasedChunks >= MAX_CHUNKS_AHEAD))
        await new Promise<void>((resolve) => (this.wakeWorker = chain(this.wakeWorker, resolve)));
      if (this.front > this.back) return;
      await this.run(this.front++, this.elsewhere!);
    }
  }

  private wake(): void {
    const wake = this.wakeWorker;
    this.wakeWorker = undefined;
    wake?.();
  }

  private async run(i: number, embed: Embed): Promise<void> {
    this.started ??= performance.now();
    const texts = this.chunks[i]!;
    this.chunks[i] = undefined;
    const result = embed(texts);
    this.settle[i]!(result);
    this.settle[i] = undefined;
    const vectors = await result.finally(() => (this.settled[i] = true));
    this.embeddedTexts += vectors.length;
    this.finished = performance.now();
    this.onProgress?.(this.embeddedTexts, this.pushedTexts);
  }
}

function chain(first: (() => void) | undefined, second: () => void): () => void {
  return first ? () => (first(), second()) : second;
}
