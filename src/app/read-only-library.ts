/**
 * The index of a shard process: loaded read-only from the store the shard manager writes, and loaded
 * again when the manager says it changed. It never builds, takes the lock or watches the seeds folder;
 * like LiveLibrary, it swaps a new index in whole, so a question is answered from one index.
 */
import type { Manifest } from '../storage/manifest.js';
import { describeError } from './cli.js';
import type { Config } from './config.js';
import type { LibraryState } from './live-library.js';
import { indexStore, openReadOnlyRuntime, type Runtime } from './runtime.js';

/** What names one state of the index: its generation and delta. Equal versions are the same index. */
export function indexVersion(manifest: Manifest): string {
  return `${manifest.generation}/${manifest.delta?.file ?? 'no-delta'}`;
}

export interface ReadOnlyLibraryOptions {
  warn: (message: string) => void;
  /** Called after each swap, with the index now answering. */
  onSwap?: (state: LibraryState) => void;
}

export class ReadOnlyLibrary {
  readonly #config: Config;
  readonly #warn: (message: string) => void;
  readonly #onSwap: (state: LibraryState) => void;
  #state: LibraryState;
  /** The reload running now (or settled); reloads run one after another. */
  #loading: Promise<boolean> = Promise.resolve(false);

  private constructor(config: Config, runtime: Runtime, options: ReadOnlyLibraryOptions) {
    this.#config = config;
    this.#warn = options.warn;
    this.#onSwap = options.onSwap ?? (() => undefined);
    this.#state = { index: runtime.index, embedder: runtime.embedder, notice: runtime.notice };
  }

  static async open(config: Config, options: ReadOnlyLibraryOptions): Promise<ReadOnlyLibrary> {
    return new ReadOnlyLibrary(config, await openReadOnlyRuntime(config, { warn: options.warn }), options);
  }

  /** The index to answer the next question from. */
  get current(): LibraryState {
    return this.#state;
  }

  get version(): string {
    return indexVersion(this.#state.index.manifest);
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
    const store = indexStore(this.#config);
    try {
      if (indexVersion(await store.readManifest()) === this.version) return false;
      const index = await store.load();
      index.wordVectors = this.#state.index.wordVectors;
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
