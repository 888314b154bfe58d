/**
 * The shard processes of a sharded bot, run by discord.js' ShardingManager: one child process per shard,
 * each running `script` (the shard entry point), which logs in as that shard only.
 *
 * The manager's own respawn is off: it restarts a dead shard at once, so a shard that crashes on start
 * would be restarted in a tight loop. Here a dead shard is restarted after a delay that doubles with each
 * crash in a row (RespawnBackoff), in its identify bucket's turn (IdentifyQueue); a shard that exits with
 * SHARD_EXIT_FATAL (Discord refused its login) is not restarted at all, and `fatal` says why. A process
 * that cannot even be started (the fork fails) counts as a crash: logged, and started again after the
 * same delay.
 */
import type { ChildProcess } from 'node:child_process';
import { ShardingManager, type Shard } from 'discord.js';
import type { Logger } from 'pino';
import { isShardMessage, SHARD_EXIT_FATAL, type ManagerMessage, type ShardMessage } from './shard-protocol.js';
import { DEFAULT_BACKOFF, IdentifyQueue, RespawnBackoff, type BackoffSettings } from './shard-schedule.js';

export interface ShardFleetOptions {
  /** The script each shard process runs (with `args`): the shard entry point. */
  script: string;
  args: string[];
  token: string;
  /** How many shards, all run here. */
  count: number;
  /** Shards that may identify in the same 5 seconds (GET /gateway/bot's `max_concurrency`). */
  maxConcurrency: number;
  logger: Logger;
  /** A shard's own messages (its /add requests); lifecycle messages are handled here. */
  onMessage: (shardId: number, message: Exclude<ShardMessage, { citebot: 'fatal' }>) => void;
  /** How long a start may take before the next shard of its bucket starts anyway (default 120 s). */
  readyTimeoutMs?: number;
  backoff?: BackoffSettings;
  identifyIntervalMs?: number;
}

/** Why the fleet cannot run: a shard that Discord will never let in. */
export class ShardFatal extends Error {
  constructor(
    readonly shardId: number,
    readonly reason: string,
  ) {
    super(`Shard ${shardId} cannot run: ${reason}`);
    this.name = 'ShardFatal';
  }
}

interface ShardState {
  readonly shard: Shard;
  readonly backoff: RespawnBackoff;
  /** The reason the shard gave before exiting with SHARD_EXIT_FATAL. */
  fatalReason?: string;
  respawnTimer?: NodeJS.Timeout;
  /** Whether the current process has been ready: a process stopped before that had nothing to finish. */
  ready: boolean;
  /** Resolves when the current process exits (or could not be started), with how it exited. */
  exited?: Promise<ShardExit>;
  /** Why the current process could not be started (fork's 'error' with no process behind it). */
  spawnError?: NodeJS.ErrnoException;
}

interface ShardExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  wasReady: boolean;
}

export class ShardFleet {
  readonly #options: ShardFleetOptions;
  readonly #manager: ShardingManager;
  readonly #queue: IdentifyQueue;
  readonly #states = new Map<number, ShardState>();
  #stopping = false;
  #rejectFatal: ((error: ShardFatal) => void) | undefined;
  /** Rejects with ShardFatal when a shard cannot run; never resolves otherwise. */
  readonly fatal: Promise<never>;

  constructor(options: ShardFleetOptions) {
    this.#options = options;
    this.#manager = new ShardingManager(options.script, {
      totalShards: options.count,
      shardList: [...Array(options.count).keys()],
      mode: 'process',
      respawn: false,
      shardArgs: options.args,
      token: options.token,
    });
    this.#queue = new IdentifyQueue(options.maxConcurrency, options.identifyIntervalMs);
    this.fatal = new Promise<never>((_resolve, reject) => {
      this.#rejectFatal = reject;
    });
    // Awaited by whoever wants to know; unobserved, a rejection must not crash the process.
    this.fatal.catch(() => undefined);
  }

  get count(): number {
    return this.#options.count;
  }

  /** Creates every shard and starts them in their buckets' turns; returns at once. */
  start(): void {
    for (let id = 0; id < this.#options.count; id += 1) {
      const shard = this.#manager.createShard(id);
      const state: ShardState = { shard, backoff: new RespawnBackoff(this.#options.backoff ?? DEFAULT_BACKOFF), ready: false };
      this.#states.set(id, state);
      this.#watch(state);
      this.#enqueueStart(state);
    }
  }

  /** Sends a message to one shard; rejects when its process is not running. */
  async send(shardId: number, message: ManagerMessage): Promise<void> {
    const shard = this.#states.get(shardId)?.shard;
    if (!shard?.process?.connected) throw new Error(`shard ${shardId} is not running`);
    await shard.send(message);
  }

  /** Sends a message to every running shard; one that is down (restarting) reads the current state when it starts. */
  async broadcast(message: ManagerMessage): Promise<void> {
    await Promise.all([...this.#states.keys()].map((id) => this.send(id, message).catch(() => undefined)));
  }

  /**
   * Stops every shard: SIGTERM, on which a shard takes no new questions, finishes the answers in
   * progress and disconnects; after `timeoutMs`, SIGKILL. Resolves true when every shard that had
   * been ready exited 0.
   */
  async stop(timeoutMs = 20_000): Promise<boolean> {
    this.#stopping = true;
    const running: Array<Promise<ShardExit>> = [];
    for (const state of this.#states.values()) {
      clearTimeout(state.respawnTimer);
      if (state.shard.process && state.exited) {
        running.push(state.exited);
        state.shard.process.kill('SIGTERM');
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([Promise.all(running), timedOut])) === 'timeout') {
      for (const state of this.#states.values()) {
        if (!state.shard.process) continue;
        this.#options.logger.warn(
          { event: 'shard-kill', shard: state.shard.id },
          `shard ${state.shard.id} did not stop within ${timeoutMs} ms; killing it`,
        );
        state.shard.process.kill('SIGKILL');
      }
    }
    clearTimeout(timer);
    const exits = await Promise.all(running);
    // A shard stopped before it was ever ready was only starting: nothing of it was lost.
    return exits.every((exit) => exit.code === 0 || (!exit.wasReady && exit.signal === 'SIGTERM'));
  }

  #enqueueStart(state: ShardState): void {
    const { shard } = state;
    void this.#queue.run(shard.id, async () => {
      if (this.#stopping) return;
      state.ready = false;
      state.backoff.started(Date.now());
      let child: ChildProcess;
      try {
        // Spawned without discord.js' wait for ready: its timeout rejects but leaves the process running.
        child = (await shard.spawn(-1)) as ChildProcess;
      } catch (error) {
        // No process, so no death to restart it from: try again after the same delay as a crash.
        const delay = state.backoff.died(Date.now());
        this.#options.logger.error(
          { event: 'shard-spawn-failed', shard: shard.id, err: { message: (error as Error).message }, respawnInMs: delay },
          `could not start shard ${shard.id}; trying again in ${delay} ms`,
        );
        state.respawnTimer = setTimeout(() => this.#enqueueStart(state), delay);
        return;
      }
      // No pid: the process could not be started, and its 'error' (see #track) restarts the shard.
      if (child.pid === undefined || shard.process !== child) return;
      this.#options.logger.info({ event: 'shard-spawn', shard: shard.id, pid: child.pid }, `started shard ${shard.id} (pid ${child.pid})`);
      await this.#untilReadyOrGone(shard);
    });
  }

  /**
   * Follows one process of the shard from its creation (discord.js' 'spawn' event, emitted as fork()
   * returns, before any of the child's events): when it exits, and whether it could be started at all.
   * A fork that fails (EAGAIN, EACCES, ENOENT…) gives the child an 'error' event and no 'exit': unheard,
   * that 'error' would crash the manager, and `exited` would never settle.
   */
  #track(state: ShardState, child: ChildProcess): void {
    const { shard } = state;
    let settle!: (exit: ShardExit) => void;
    state.exited = new Promise((resolve) => (settle = resolve));
    state.spawnError = undefined;
    child.once('exit', (code, signal) => settle({ code, signal, wasReady: state.ready }));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) {
        // A running process (a failed kill or message): whether it dies is told by its 'exit'.
        this.#options.logger.warn(
          { event: 'shard-process-error', shard: shard.id, pid: child.pid, err: { message: error.message, code: error.code } },
          `shard ${shard.id} (pid ${child.pid}): ${error.message}`,
        );
        return;
      }
      state.spawnError = error;
      settle({ code: null, signal: null, wasReady: false });
      // discord.js forgets the process and emits 'death', which restarts the shard after its delay.
      if (shard.process === child) shard.kill();
    });
  }

  /** Until the shard is ready, its process is gone, or `readyTimeoutMs` passed (then the next start goes ahead anyway). */
  #untilReadyOrGone(shard: Shard): Promise<void> {
    const timeoutMs = this.#options.readyTimeoutMs ?? 120_000;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        shard.off('ready', done);
        shard.off('death', done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#options.logger.warn({ event: 'shard-slow', shard: shard.id }, `shard ${shard.id} is not ready after ${timeoutMs} ms`);
        done();
      }, timeoutMs);
      shard.once('ready', done);
      shard.once('death', done);
    });
  }

  #watch(state: ShardState): void {
    const { shard } = state;
    const logger = this.#options.logger;
    shard.on('spawn', (process) => this.#track(state, process as ChildProcess));
    shard.on('ready', () => {
      state.ready = true;
      logger.info({ event: 'shard-ready', shard: shard.id }, `shard ${shard.id} is ready`);
    });
    shard.on('message', (message: unknown) => {
      if (!isShardMessage(message)) return;
      if (message.citebot === 'fatal') state.fatalReason = message.reason;
      else this.#options.onMessage(shard.id, message);
    });
    shard.on('death', (process) => {
      // Shards run as processes (mode 'process'), never as worker threads.
      const child = process as ChildProcess;
      const { exitCode: code, signalCode: signal } = child;
      const { spawnError } = state;
      state.spawnError = undefined;
      if (spawnError) {
        const err = { message: spawnError.message, code: spawnError.code };
        if (this.#stopping) {
          logger.error({ event: 'shard-spawn-failed', shard: shard.id, err }, `could not start shard ${shard.id}: ${spawnError.message}`);
          return;
        }
        // Counted as a crash: a start that keeps failing is tried again less and less often.
        const delay = state.backoff.died(Date.now());
        logger.error(
          { event: 'shard-spawn-failed', shard: shard.id, err, respawnInMs: delay },
          `could not start shard ${shard.id} (${spawnError.message}); trying again in ${delay} ms`,
        );
        state.respawnTimer = setTimeout(() => this.#enqueueStart(state), delay);
        return;
      }
      if (this.#stopping) {
        logger.info({ event: 'shard-exit', shard: shard.id, code, signal }, `shard ${shard.id} exited (${signal ?? `code ${code}`})`);
        return;
      }
      if (code === SHARD_EXIT_FATAL) {
        const reason = state.fatalReason ?? 'it could not log in (see its log above)';
        logger.error({ event: 'shard-fatal', shard: shard.id, reason }, `shard ${shard.id} cannot run: ${reason}`);
        this.#rejectFatal?.(new ShardFatal(shard.id, reason));
        return;
      }
      const delay = state.backoff.died(Date.now());
      logger.warn(
        { event: 'shard-died', shard: shard.id, pid: child.pid, code, signal, respawnInMs: delay },
        `shard ${shard.id} (pid ${child.pid}) died (${signal ?? `code ${code}`}); restarting it in ${delay} ms`,
      );
      state.respawnTimer = setTimeout(() => this.#enqueueStart(state), delay);
    });
  }
}
