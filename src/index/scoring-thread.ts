/**
 * A second thread for the lexical top of large questions (`splitTop`): at a million passages a question
 * reads some 200,000 postings, and the two halves of its labels can be scored at once.
 *
 * The thread reads the index where it lies: postings, lengths and `alive` must be in SharedArrayBuffers
 * (a loaded index's are; postings added since, in pages of the heap, are not, and such questions are
 * scored in one thread). A search is synchronous, so the hand-over is too: the job is written into shared
 * memory, the thread woken with `Atomics.notify`, and the search waits for its answer with `Atomics.wait`
 * (bounded: a thread that does not answer in time is given up, and its half scored here). Buffers the
 * thread has not seen yet are posted to it before the job, and read with `receiveMessageOnPort`, because
 * the thread's event loop never runs while it waits for jobs.
 */
import { availableParallelism } from 'node:os';
import { isMainThread, MessageChannel, receiveMessageOnPort, workerData, type MessagePort, type Worker } from 'node:worker_threads';
import { startModuleWorker } from '../threads.js';
import { blockedTop, type BlockHelper, type Bm25Constants, type PostingRunView, type ScoredList } from './blocked-top.js';
import type { Scored } from './top-k.js';

/** Slots of `control`. */
const JOB = 0;
const DONE = 1;
const STATE = 2;
const COUNT = 3;
const STOP = 4;

const STARTING = 0;
const READY = 1;

/** The most results a job may ask for, and the doubles a job may take (64 lists of a few runs). */
const MAX_RESULTS = 1024;
const JOB_CAPACITY = 8192;

/** How long a search waits for the thread before scoring its half itself. */
const ANSWER_TIMEOUT_MS = 1000;

/** How often an idle thread looks whether it should stop. */
const IDLE_CHECK_MS = 1000;

interface SharedMemory {
  control: Int32Array;
  job: Float64Array;
  slots: Int32Array;
  scores: Float64Array;
}

type Message = { register: number; buffer: SharedArrayBuffer } | { drop: number };

const ROLE = 'citebot-lexical-scorer';

if (!isMainThread && (workerData as { role?: string } | null)?.role === ROLE) {
  const { memory, port } = workerData as { memory: SharedMemory; port: MessagePort };
  serve(memory, port);
}

/** The thread's loop: wait for a job, score it, answer, until told to stop. */
function serve(memory: SharedMemory, port: MessagePort): void {
  const { control } = memory;
  const buffers = new Map<number, SharedArrayBuffer>();
  let seen = Atomics.load(control, JOB);
  Atomics.store(control, STATE, READY);
  while (Atomics.load(control, STOP) === 0) {
    if (Atomics.wait(control, JOB, seen, IDLE_CHECK_MS) === 'timed-out') continue;
    seen = Atomics.load(control, JOB);
    for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) {
      const body = message.message as Message;
      if ('register' in body) buffers.set(body.register, body.buffer);
      else buffers.delete(body.drop);
    }
    let count = -1;
    try {
      count = runJob(memory, buffers);
    } catch {
      // Answered as a failure: the search scores this half itself.
    }
    Atomics.store(control, COUNT, count);
    Atomics.store(control, DONE, seen);
    Atomics.notify(control, DONE);
  }
}

/** Reads the job, scores it, writes its best slots and scores; returns how many. */
function runJob({ job, slots, scores }: SharedMemory, buffers: ReadonlyMap<number, SharedArrayBuffer>): number {
  let at = 0;
  const next = () => job[at++]!;
  const view = <T>(Type: new (buffer: SharedArrayBuffer, byteOffset: number, length: number) => T): T => {
    const buffer = buffers.get(next());
    const byteOffset = next();
    const length = next();
    if (!buffer) throw new Error('an array the scoring thread was not given');
    return new Type(buffer, byteOffset, length);
  };
  const n = next();
  const constants = { k: next(), b: next(), d: next() };
  const alive = view(Uint8Array);
  const listCount = next();
  const lists: ScoredList[] = [];
  for (let l = 0; l < listCount; l += 1) {
    const lengths = view(Int32Array);
    const factor = next();
    const averageLength = next();
    const runCount = next();
    const runs: PostingRunView[] = [];
    for (let r = 0; r < runCount; r += 1) runs.push({ labels: view(Int32Array), counts: view(Uint16Array), from: next(), to: next() });
    lists.push({ runs, factor, averageLength, lengths });
  }
  const best = blockedTop(lists, n, constants, (slot) => alive[slot] === 1);
  best.forEach(({ label, score }, i) => {
    slots[i] = label;
    scores[i] = score;
  });
  return best.length;
}

type SharedArray = Int32Array | Uint16Array | Uint8Array;

/**
 * Below this many postings a question is scored in one thread: handing half to another thread costs
 * some tens of microseconds, a posting about 11 ns.
 */
export const MIN_SPLIT_POSTINGS = 40_000;

/** With other work meanwhile (the dense search), the searching thread keeps this share of the postings. */
export const OWN_SHARE_WITH_WORK = 0.35;

/** The main thread's side: starts the thread on first use, hands it jobs. */
export class ScoringThread implements BlockHelper {
  constructor(
    readonly minPostings = MIN_SPLIT_POSTINGS,
    readonly ownShareWithWork = OWN_SHARE_WITH_WORK,
  ) {}

  private readonly memory: SharedMemory = {
    control: new Int32Array(new SharedArrayBuffer(8 * Int32Array.BYTES_PER_ELEMENT)),
    job: new Float64Array(new SharedArrayBuffer(JOB_CAPACITY * Float64Array.BYTES_PER_ELEMENT)),
    slots: new Int32Array(new SharedArrayBuffer(MAX_RESULTS * Int32Array.BYTES_PER_ELEMENT)),
    scores: new Float64Array(new SharedArrayBuffer(MAX_RESULTS * Float64Array.BYTES_PER_ELEMENT)),
  };
  private worker?: Worker;
  private port?: MessagePort;
  private broken = false;
  private jobs = 0;
  private nextBuffer = 1;
  private readonly bufferIds = new WeakMap<SharedArrayBuffer, number>();
  /** When a buffer is collected here, the thread lets go of it too. */
  private readonly released = new FinalizationRegistry<number>((id) => this.port?.postMessage({ drop: id } satisfies Message));

  begin(lists: readonly ScoredList[], n: number, { k, b, d }: Bm25Constants, alive: Uint8Array): (() => Scored[] | undefined) | undefined {
    if (this.broken || n > MAX_RESULTS) return undefined;
    if (!this.worker) this.start();
    const { control, job } = this.memory;
    if (Atomics.load(control, STATE) !== READY) return undefined;
    const arrays: SharedArray[] = [alive];
    for (const list of lists) {
      arrays.push(list.lengths);
      for (const run of list.runs) arrays.push(run.labels, run.counts);
    }
    if (!arrays.every((array) => array.buffer instanceof SharedArrayBuffer)) return undefined;
    const size = 6 + lists.reduce((sum, list) => sum + 6 + list.runs.length * 8, 0);
    if (size > JOB_CAPACITY) return undefined;

    let at = 0;
    const write = (value: number) => (job[at++] = value);
    const writeView = (array: SharedArray) => {
      write(this.idOf(array.buffer as SharedArrayBuffer));
      write(array.byteOffset);
      write(array.length);
    };
    write(n);
    write(k);
    write(b);
    write(d);
    writeView(alive);
    write(lists.length);
    for (const { lengths, factor, averageLength, runs } of lists) {
      writeView(lengths);
      write(factor);
      write(averageLength);
      write(runs.length);
      for (const { labels, counts, from, to } of runs) {
        writeView(labels);
        writeView(counts);
        write(from);
        write(to);
      }
    }
    const seq = (this.jobs = (this.jobs + 1) | 0);
    Atomics.store(control, JOB, seq);
    Atomics.notify(control, JOB);
    return () => this.collect(seq);
  }

  /** Starts the thread if it is not running; true once it takes jobs, false if it failed to start. */
  async ready(): Promise<boolean> {
    if (!this.worker) this.start();
    const { control } = this.memory;
    while (!this.broken && Atomics.load(control, STATE) !== READY) await new Promise((resolve) => setTimeout(resolve, 5));
    return !this.broken;
  }

  /** Stops the thread (it also stops with the process: it does not keep it alive). */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.broken = true;
    Atomics.store(this.memory.control, STOP, 1);
    Atomics.notify(this.memory.control, JOB);
    await worker.terminate();
  }

  private collect(seq: number): Scored[] | undefined {
    const { control, slots, scores } = this.memory;
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (let done = Atomics.load(control, DONE); done !== seq; done = Atomics.load(control, DONE)) {
      const left = deadline - Date.now();
      if (left <= 0) {
        // A thread this slow is not helping; its half is scored here from now on.
        this.broken = true;
        return undefined;
      }
      Atomics.wait(control, DONE, done, left);
    }
    const count = Atomics.load(control, COUNT);
    if (count < 0) return undefined;
    return Array.from({ length: count }, (_, i) => ({ label: slots[i]!, score: scores[i]! }));
  }

  private idOf(buffer: SharedArrayBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id !== undefined) return id;
    id = this.nextBuffer++;
    this.bufferIds.set(buffer, id);
    this.released.register(buffer, id);
    this.port!.postMessage({ register: id, buffer } satisfies Message);
    return id;
  }

  private start(): void {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    Atomics.store(this.memory.control, STATE, STARTING);
    const worker = startModuleWorker(import.meta.url, {
      workerData: { role: ROLE, memory: this.memory, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    worker.on('error', () => (this.broken = true));
    worker.on('exit', () => (this.broken = true));
    this.worker = worker;
  }
}

let shared: ScoringThread | undefined;

/**
 * The process's scoring thread, or undefined on a machine with one core (two threads there only take
 * turns) or once `useScoringThread(false)` turned it off (`SEARCH_THREADS=1`).
 */
export function scoringThread(): ScoringThread | undefined {
  if (!enabled || availableParallelism() < 2) return undefined;
  // The thread itself starts with the first question large enough to split (a small index never needs it).
  return (shared ??= new ScoringThread());
}

let enabled = true;

/** Whether `scoringThread` gives one (true by default): for indexes loaded from now on. */
export function useScoringThread(on: boolean): void {
  enabled = on;
}
