/**
 * The index of a shard process: loaded read-only from the store the shard manager writes, and loaded
 * again when the manager says it changed. It never builds, takes the lock or watches the seeds folder;
 * like LiveLibrary, it swaps a new index in whole, so a question is answered from one index.
 */
import { describeError } from './cli.js';
import type { Config } from './config.js';
import type { IndexBackend } from '../storage/index-backend.js';
import type { LibraryState } from './live-library.js';
import { openReadOnlyRuntime, type Runtime } from './runtime.js';

export interface ReadOnlyLibraryOptions {
  warn: (message: string) => void;
  /** Called after each swap, with the index now answering. */
  onSwap?: (state: LibraryState) => void;
}

export class ReadOnlyLibrary {
  readonly #backend: IndexBackend;
  readonly #warn: (message: string) => void;
  readonly #onSwap: (state: LibraryState) => void;
  #state: LibraryState;
  /** The reload running now (or settled); reloads run one after another. */
  #loading: Promise<boolean> = Promise.resolve(false);

  private constructor(runtime: Runtime, options: ReadOnlyLibraryOptions) {
    this.#backend = runtime.backend;
    this.#warn = options.warn;
    this.#onSwap = options.onSwap ?? (() => undefined);
    this.#state = { index: runtime.index, embedder: runtime.embedder, notice: runtime.notice };
  }

  static async open(config: Config, options: ReadOnlyLibraryOptions): Promise<ReadOnlyLibrary> {
    return new ReadOnlyLibrary(await openReadOnlyRuntime(config, { warn: options.warn }), options);
  }

  /** The index to answer the next question from. */
  get current(): LibraryState {
    return this.#state;
  }

  get version(): string {
    return this.#state.index.summary.version;
  }

  /**
   * Loads the index again when the stored one is not the one loaded; resolves true when it swapped one
   * in. A failed load keeps the index as it was, with a warning.
   */
  reload(): Promise<boolean> {
    const next = this.#loading.then(() => this.#load());
    this.#loading = next;
    return next;
  }

  async #load(): Promise<boolean> {
    try {
      if ((await this.#backend.version()) === this.version) return false;
      const index = await this.#backend.open({ wordVectors: this.#state.index.wordVectors ?? null });
      this.#state = { ...this.#state, index };
      this.#onSwap(this.#state);
      return true;
    } catch (error) {
      this.#warn(
        `The updated index could not be loaded: ${describeError(error, { stack: false })} Answers keep using the index as it was.`,
      );
      return false;
    }
  }
}
