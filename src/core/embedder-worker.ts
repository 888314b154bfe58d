/**
 * Runs the transformers.js embedder in a worker thread, so a build can embed one chunk of passages while
 * the main thread indexes the previous one (tokenizing dominates embedding and is single-threaded).
 * The worker side and the client side live in this one file: the worker imports it too.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { EmbeddingSettings } from '../config.js';
import { createTransformersEmbedder, ModelUnavailable, type EmbedKind, type Embedder, type EmbedderFingerprint } from './embedder.js';

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
            port.postMessage({ type: 'vectors', id: request.id, buffer: flat.buffer, count: vectors.length } satisfies Reply, [flat.buffer]);
          },
          (error: unknown) => port.postMessage({ type: 'error', id: request.id, message: (error as Error).message } satisfies Reply),
        );
      });
    },
    (error: unknown) => port.postMessage({ type: 'failed', message: (error as Error).message, unavailable: error instanceof ModelUnavailable } satisfies Reply),
  );
}

export interface WorkerEmbedder extends Embedder {
  close(): Promise<void>;
}

/** Texts sent to the worker per message: large enough to amortise messaging, small enough to overlap. */
const CHUNK = 1024;

/** Starts a worker that loads the model; rejects with ModelUnavailable like the in-process embedder. */
export async function createWorkerEmbedder(settings: EmbeddingSettings): Promise<WorkerEmbedder> {
  const source = import.meta.url;
  const data = { role: 'citebot-embedder', settings };
  // Run from TypeScript sources (tsx, vitest), the worker first registers tsx's loader to import this file.
  const worker = source.endsWith('.ts')
    ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, { eval: true, workerData: data })
    : new Worker(new URL(source), { workerData: data });
  const pending = new Map<number, { resolve: (vectors: Float32Array[]) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let dimension = 0;

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
  dimension = fingerprint.dimension;

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

  const send = (texts: string[], kind: EmbedKind) =>
    new Promise<Float32Array[]>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, texts, kind } satisfies Request);
    });

  return {
    fingerprint,
    async embed(texts, kind, onProgress) {
      const vectors: Float32Array[] = [];
      for (let offset = 0; offset < texts.length; offset += CHUNK) {
        vectors.push(...(await send(texts.slice(offset, offset + CHUNK), kind)));
        onProgress?.(Math.min(offset + CHUNK, texts.length), texts.length);
      }
      return vectors;
    },
    async close() {
      await worker.terminate();
    },
  };
}

/** Calls with at least this many texts go to the worker; smaller ones are not worth a thread's start-up. */
export const BULK_THRESHOLD = 2000;

/**
 * The in-process embedder for questions and small updates, with a worker thread started on the first
 * large call (a full build), so that embedding runs beside indexing on a second core. Same vectors either
 * way: both run the same model with the same settings.
 */
export function withBulkWorker(embedder: Embedder, settings: EmbeddingSettings): WorkerEmbedder {
  let worker: Promise<WorkerEmbedder> | undefined;
  return {
    fingerprint: embedder.fingerprint,
    async embed(texts, kind, onProgress) {
      if (texts.length < BULK_THRESHOLD) return embedder.embed(texts, kind, onProgress);
      worker ??= createWorkerEmbedder(settings);
      return (await worker).embed(texts, kind, onProgress);
    },
    async close() {
      if (worker) await (await worker).close();
    },
  };
}
