/**
 * The index of a running bot or terminal chat, kept current while it runs: a change in the seeds folder
 * (seen by a watcher, after a quiet moment), a link added with /add, a feed's new items. Each update is
 * a delta build in the background; the new index is swapped in whole between questions, so a question
 * asked during an update is answered from the index as it was, and a failed update leaves it as it was.
 */
import { watch, type FSWatcher } from 'chokidar';
import path from 'node:path';
import type { Embedder } from '../embedding/embedder.js';
import { seedFolder, ARTICLE_EXTENSIONS } from '../ingest/seed-files.js';
import type { ServedIndex } from '../storage/served-index.js';
import { addLinks, type AddedLink, type AddOutcome } from '../web/add-pages.js';
import { fetchLink } from '../web/fetch.js';
import { pollFeeds, readFeedState, writeFeedState, type FeedPollReport } from '../web/feeds.js';
import type { Config } from './config.js';
import { describeError } from './cli.js';
import type { BackendReport, IndexBackend } from '../storage/index-backend.js';
import type { Runtime } from './runtime.js';

/** What questions are answered from: swapped whole, never changed in place. */
export interface LibraryState {
  index: ServedIndex;
  embedder: Embedder | null;
  notice?: string;
}

export interface LiveLibraryOptions {
  config: Config;
  runtime: Runtime;
  warn: (message: string) => void;
  /** One line per update, for the log. */
  info?: (message: string, details: Record<string, unknown>) => void;
  /** Quiet time after the last change in the folder before updating (default 750 ms). */
  debounceMs?: number;
  /** Called after each swap, with the index now answering (a shard manager tells its shards to load it). */
  onSwap?: (state: LibraryState) => void;
}

export class LiveLibrary {
  readonly #config: Config;
  readonly #backend: IndexBackend;
  readonly #warn: (message: string) => void;
  readonly #info: NonNullable<LiveLibraryOptions['info']>;
  readonly #debounceMs: number;
  readonly #onSwap: (state: LibraryState) => void;
  #state: LibraryState;
  #mode: Runtime['mode'];
  /** The update running now (or settled), and the one waiting to run after it. */
  #running: Promise<unknown> = Promise.resolve();
  #waiting: Promise<BackendReport | undefined> | undefined;
  /** Additions run one at a time, so two never pick the same file name. */
  #adding: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #feedTimer: NodeJS.Timeout | undefined;
  #followTimer: NodeJS.Timeout | undefined;
  /** Why the last check for another process's write failed: said once, not every few seconds. */
  #followFailure: string | undefined;
  /** The check for another process's write in progress, if any. */
  #following: Promise<boolean> | undefined;
  #closed = false;
  /** Warnings already given, so an update does not repeat the same skipped file every time. */
  readonly #warned = new Set<string>();

  constructor(options: LiveLibraryOptions) {
    this.#config = options.config;
    this.#backend = options.runtime.backend;
    this.#warn = options.warn;
    this.#info = options.info ?? (() => undefined);
    this.#debounceMs = options.debounceMs ?? 750;
    this.#onSwap = options.onSwap ?? (() => undefined);
    this.#state = { index: options.runtime.index, embedder: options.runtime.embedder, notice: options.runtime.notice };
    this.#mode = options.runtime.mode;
    for (const skipped of options.runtime.build?.skipped ?? []) this.#warned.add(skipped.reason);
  }

  /** The index to answer the next question from. */
  get current(): LibraryState {
    return this.#state;
  }

  /**
   * Brings the index up to date with the seeds folder and swaps it in. Calls made while an update runs
   * share one follow-up update; resolves to its report, or undefined when it failed (the index is kept).
   */
  update(reason: string): Promise<BackendReport | undefined> {
    if (this.#waiting) return this.#waiting;
    const next = this.#running.then(() => {
      this.#waiting = undefined;
      return this.#closed ? undefined : this.#runUpdate(reason);
    });
    this.#waiting = next;
    this.#running = next;
    return next;
  }

  async #runUpdate(reason: string): Promise<BackendReport | undefined> {
    const started = Date.now();
    try {
      const report = await this.#backend.build({
        source: seedFolder(this.#config.seedsDir),
        embedder: this.#state.embedder,
        modeReason: this.#mode === 'lexical' ? this.#state.index.summary.modeReason : undefined,
        warn: (message) => {
          if (this.#warned.has(message)) return;
          this.#warned.add(message);
          this.#warn(message);
        },
        // `npm run index` or `add` in another terminal may hold the lock for a moment.
        waitForLockMs: 60_000,
      });
      if (!report.upToDate) {
        const wordVectors = this.#state.index.wordVectors ?? null;
        const index = report.index ?? (await this.#backend.open({ wordVectors }));
        index.wordVectors = wordVectors;
        this.#swap(index);
        this.#info(`index updated (${reason}): ${index.summary.articleCount} articles, ${index.summary.passageCount} passages`, {
          event: 'index-updated',
          reason,
          added: report.added,
          changed: report.changed,
          removed: report.removed,
          wrote: report.wrote,
          ms: Date.now() - started,
        });
      }
      return report;
    } catch (error) {
      this.#warn(
        `The index could not be updated (${reason}): ${describeError(error, { stack: false })} Answers keep using the index as it was.`,
      );
      return undefined;
    }
  }

  /** Fetches each link, saves the pages into the seeds folder and updates the index once for all of them. */
  addLinks(links: readonly string[]): Promise<AddedLink[]> {
    const run = this.#adding.then(async () => {
      const outcomes = await this.#saveLinks(links);
      if (!outcomes.some((outcome) => outcome.status === 'added')) return outcomes;
      await this.update('links added');
      return outcomes.map((outcome) =>
        outcome.status === 'added' ? { ...outcome, passages: this.#state.index.lookup.passageCount(outcome.file) } : outcome,
      );
    });
    this.#adding = run.catch(() => undefined);
    return run;
  }

  #saveLinks(links: readonly string[]): Promise<AddOutcome[]> {
    const { web, seedsDir } = this.#config;
    return addLinks(links, {
      seedsDir,
      fetchPage: (link) => fetchLink(link, { expect: 'page', allowPrivateAddresses: web.allowPrivateAddresses }),
      known: this.#state.index.articles.values(),
    });
  }

  /** Polls every configured feed once; new items are added through the same path as links. */
  async pollFeeds(): Promise<FeedPollReport[]> {
    const { web } = this.#config;
    if (web.feeds.length === 0) return [];
    const state = await readFeedState(web.feedStateFile, this.#warn);
    const reports = await pollFeeds(web.feeds, state, {
      fetchFeed: (link, validators) => fetchLink(link, { expect: 'feed', allowPrivateAddresses: web.allowPrivateAddresses, ...validators }),
      addLinks: (links) => this.#saveLinks(links),
    });
    await writeFeedState(web.feedStateFile, state);
    for (const report of reports) if (report.status === 'failed') this.#warn(report.reason ?? `${report.feed} could not be polled`);
    if (reports.some((report) => report.outcomes.some((outcome) => outcome.status === 'added'))) await this.update('feed items added');
    return reports;
  }

  /**
   * Watches the seeds folder; a burst of changes makes one update, `debounceMs` after the last. Resolves
   * once the watcher has scanned the folder; a change made while it scanned is caught by one update then.
   */
  watchSeeds(): Promise<void> {
    if (this.#watcher || this.#closed) return Promise.resolve();
    const isArticle = (file: string) => ARTICLE_EXTENSIONS.includes(path.extname(file).toLowerCase());
    this.#watcher = watch(this.#config.seedsDir, {
      ignoreInitial: true,
      followSymlinks: true,
      // No awaitWriteFinish: it loses the add and unlink of a file written just after the scan. A file
      // being written keeps sending changes, and the debounce waits until they stop.
      ignored: (file, stats) => path.basename(file).startsWith('.') || (stats?.isFile() === true && !isArticle(file)),
    });
    const changed = () => {
      clearTimeout(this.#debounce);
      this.#debounce = setTimeout(() => void this.update('files changed in the seeds folder'), this.#debounceMs);
    };
    this.#watcher.on('error', (error) => this.#warn(`Watching ${this.#config.seedsDir} failed: ${(error as Error).message}`));
    const watcher = this.#watcher;
    return new Promise((resolve) => {
      watcher.once('ready', () => {
        // Files the scan met count as already there (ignoreInitial): one update sees whether any changed since the index was opened.
        watcher.on('all', changed);
        changed();
        resolve();
      });
    });
  }

  /** Polls the feeds now and every `FEED_POLL_MINUTES` (none when it is 0 or no feed is set). */
  pollFeedsPeriodically(): void {
    const { feeds, feedPollMinutes } = this.#config.web;
    if (feeds.length === 0 || feedPollMinutes === 0 || this.#feedTimer || this.#closed) return;
    const poll = () =>
      void this.pollFeeds().catch((error: unknown) => this.#warn(`Polling the feeds failed: ${describeError(error, { stack: false })}`));
    poll();
    this.#feedTimer = setInterval(poll, feedPollMinutes * 60_000);
    this.#feedTimer.unref();
  }

  #swap(index: ServedIndex): void {
    this.#state = { ...this.#state, index };
    this.#onSwap(this.#state);
  }

  /**
   * Reopens the index when another process changed it (another bot or `npm run index` sharing the
   * database); resolves true when it swapped one in. Runs between this library's own updates.
   */
  follow(): Promise<boolean> {
    // One check at a time: while the database does not answer, checks must not queue up behind each other.
    if (this.#following) return this.#following;
    const next = this.#running.then(async () => {
      if (this.#closed) return false;
      try {
        const version = await this.#backend.version();
        if (this.#followFailure !== undefined) this.#info('the index is reachable again', { event: 'index-reachable' });
        this.#followFailure = undefined;
        if (version === this.#state.index.summary.version) return false;
        const index = await this.#backend.open({ wordVectors: this.#state.index.wordVectors ?? null });
        this.#swap(index);
        this.#info(`index reopened: ${index.summary.articleCount} articles, ${index.summary.passageCount} passages`, {
          event: 'index-reopened',
          version: index.summary.version,
        });
        return true;
      } catch (error) {
        const message = `The index could not be reopened: ${describeError(error, { stack: false })} Answers keep using the index as it was.`;
        if (message !== this.#followFailure) this.#warn(message);
        this.#followFailure = message;
        return false;
      }
    });
    this.#running = next;
    this.#following = next.finally(() => {
      this.#following = undefined;
    });
    return next;
  }

  /** Checks every `intervalMs` whether another process changed the index (see `follow`). */
  followPeriodically(intervalMs: number): void {
    if (this.#followTimer || this.#closed || intervalMs <= 0) return;
    this.#followTimer = setInterval(() => void this.follow(), intervalMs);
    this.#followTimer.unref();
  }

  /** Stops watching and polling; an update in progress finishes. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#debounce);
    clearInterval(this.#feedTimer);
    clearInterval(this.#followTimer);
    await this.#watcher?.close();
    await this.#running.catch(() => undefined);
  }
}
