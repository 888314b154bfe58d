/**
 * Runs the transformers.js embedder in a worker thread, so a build can embed one chunk of passages while
 * the main thread indexes the previous one (tokenizing dominates embedding and is single-threaded).
 * The worker side and the client side live in this one file: the worker imports it too.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startModuleWorker } from '../threads.js';
import { createTransformersEmbedder, ModelUnavailable } from './transformers.js';
import type { EmbeddingSettings, EmbedKind, Embedder, EmbedderFingerprint } from './embedder.js';

type Request = { id: number; texts: string[]; kind: EmbedKind };
type Reply =
  | { type: 'ready'; fingerprint: EmbedderFingerprint }
  | { type: 'failed'; message: string; unavailable: boolean }
  | { type: 'vectors'; id: number; buffer: ArrayBuffer; count: number }
  | { type: 'error'; id: number; message: string };

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === 'citebot-embedder') {
  const port = parentPort;
  const settings = (workerData as { settings: EmbeddingSettings }).settings;
  createTransformersEmbedder(settings).then(
    (embedder) => {
      port.postMessage({ type: 'ready', fingerprint: embedder.fingerprint } satisfies Reply);
      port.on('message', (request: Request) => {
        embedder.embed(request.texts, request.kind).then(
          (vectors) => {
            const dimension = embedder.fingerprint.dimension;
            const flat = new Float32Array(vectors.length * dimension);
            vectors.forEach((vector, i) => flat.set(vector, i * dimension));
            port.postMessage({ type: 'vectors', id: request.id, buffer: flat.buffer, count: vectors.length } satisfies Reply, [
              flat.buffer,
            ]);
          },
          (error: unknown) => port.postMessage({ type: 'error', id: request.id, message: (error as Error).message } satisfies Reply),
        );
      });
    },
    (error: unknown) =>
      port.postMessage({
        type: 'failed',
        message: (error as Error).message,
        unavailable: error instanceof ModelUnavailable,
      } satisfies Reply),
  );
}

export interface WorkerEmbedder extends Embedder {
  close(): Promise<void>;
}

/** Texts sent to a worker per message: large enough to amortise messaging, small enough to spread. */
const CHUNK = 512;

interface EmbeddingThread {
  fingerprint: EmbedderFingerprint;
  send(texts: string[], kind: EmbedKind): Promise<Float32Array[]>;
  terminate(): Promise<number>;
}

/** Starts one worker thread and waits until its model is loaded. */
async function startThread(settings: EmbeddingSettings): Promise<EmbeddingThread> {
  const worker = startModuleWorker(import.meta.url, { workerData: { role: 'citebot-embedder', settings } });
  const pending = new Map<number, { resolve: (vectors: Float32Array[]) => void; reject: (error: Error) => void }>();
  let nextId = 0;

  const fingerprint = await new Promise<EmbedderFingerprint>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (reply: Reply) => {
      worker.off('error', reject);
      if (reply.type === 'ready') resolve(reply.fingerprint);
      else if (reply.type === 'failed') reject(reply.unavailable ? new ModelUnavailable(reply.message) : new Error(reply.message));
      else reject(new Error('the embedding worker answered out of turn'));
    });
  }).catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  const { dimension } = fingerprint;

  worker.on('message', (reply: Reply) => {
    if (reply.type !== 'vectors' && reply.type !== 'error') return;
    const request = pending.get(reply.id);
    if (!request) return;
    pending.delete(reply.id);
    if (reply.type === 'error') {
      request.reject(new Error(reply.message));
      return;
    }
    const flat = new Float32Array(reply.buffer);
    request.resolve(Array.from({ length: reply.count }, (_, i) => flat.subarray(i * dimension, (i + 1) * dimension)));
  });
  worker.on('error', (error) => {
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  });
  // Ended (terminated, or crashed without an error event): nothing still asked of it may wait forever.
  worker.on('exit', (code) => {
    for (const request of pending.values()) request.reject(new Error(`the embedding worker stopped (exit code ${code})`));
    pending.clear();
  });

  return {
    fingerprint,
    send: (texts, kind) =>
      new Promise<Float32Array[]>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, texts, kind } satisfies Request);
      }),
    terminate: () => worker.terminate(),
  };
}

/**
 * Starts `threads` workers that each load the model; rejects with ModelUnavailable like the in-process
 * embedder. Chunks of a call are spread over the workers and come back in order.
 */
export async function createWorkerEmbedder(settings: EmbeddingSettings, threads = 1): Promise<WorkerEmbedder> {
  const started = await Promise.allSettled(Array.from({ length: Math.max(1, threads) }, () => startThread(settings)));
  const pool = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(pool.map((thread) => thread.terminate()));
    throw failure.reason;
  }
  const fingerprint = pool[0]!.fingerprint;

  return {
    fingerprint,
    async embed(texts, kind, onProgress) {
      let done = 0;
      const chunks: Array<Promise<Float32Array[]>> = [];
      for (let offset = 0, turn = 0; offset < texts.length; offset += CHUNK, turn += 1) {
        const slice = texts.slice(offset, offset + CHUNK);
        chunks.push(
          pool[turn % pool.length]!.send(slice, kind).then((vectors) => {
            done += slice.length;
            onProgress?.(done, texts.length);
            return vectors;
          }),
        );
      }
      return (await Promise.all(chunks)).flat();
    },
    async close() {
      await Promise.all(pool.map((thread) => thread.terminate()));
    },
  };
}

/**
 * The in-process embedder for questions and small updates, with a worker thread started when a large
 * build asks for it (`prepare`, `embedElsewhere`), so that embedding runs on a second core beside this
 * thread's indexing. Same vectors either way: both run the same model with the same settings.
 */
export function withBulkWorker(embedder: Embedder, settings: EmbeddingSettings, threads = 1): WorkerEmbedder {
  let worker: Promise<WorkerEmbedder> | undefined;
  const start = () => {
    worker ??= createWorkerEmbedder(settings, threads);
    // A start-up failure surfaces on the next embed; until then it must not go unhandled.
    worker.catch(() => {});
    return worker;
  };
  const release = async () => {
    const running = worker;
    worker = undefined;
    // One that failed to start holds nothing.
    const started = await running?.catch(() => undefined);
    await started?.close();
  };
  return {
    fingerprint: embedder.fingerprint,
    prepare() {
      start();
    },
    embed: (texts, kind, onProgress) => embedder.embed(texts, kind, onProgress),
    async embedElsewhere(texts, kind) {
      return (await start()).embed(texts, kind);
    },
    releaseElsewhere: release,
    close: release,
  };
}
