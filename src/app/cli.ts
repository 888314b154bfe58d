/** What the entry points share: .env loading, configuration, warnings, progress, and the error boundary. */
import { SingleBar, Presets } from 'cli-progress';
import dotenv from 'dotenv';
import { CitebotError, type Remedy } from '../errors.js';
import { useScoringThread } from '../index/scoring-thread.js';
import { checkConfigPaths, loadConfig, type Config } from './config.js';

/** Reads .env (if any) into the environment, then parses the configuration once. */
export function configFromEnvironment(): Config {
  dotenv.config({ quiet: true });
  const config = loadConfig(process.env);
  checkConfigPaths(config);
  useScoringThread(config.searchThreads > 1);
  return config;
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** A progress bar on stderr for long embedding runs; silent when stderr is not a terminal or the run is short. */
export function embedProgress(label: string): { onProgress: (done: number, total: number) => void; stop: () => void } {
  let bar: SingleBar | undefined;
  return {
    onProgress(done, total) {
      if (!bar) {
        if (!process.stderr.isTTY || total < 200) return;
        bar = new SingleBar(
          { format: `${label} [{bar}] {value}/{total} passages, eta {eta}s`, stream: process.stderr },
          Presets.shades_classic,
        );
        bar.start(total, 0);
      }
      // A large build adds passages while embedding has already begun: the total can grow.
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done);
    },
    stop() {
      bar?.stop();
    },
  };
}

/** A mistake in how a command was called. */
export class UsageError extends CitebotError {
  constructor(message: string) {
    super('UsageError', message);
  }
}

/** Parses the command line with node's parseArgs; a bad flag becomes a UsageError that shows `usage`. */
export function parseCommandLine<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}

/** What to run for each remedy that the core names. */
const REMEDIES: Record<Remedy, string> = {
  'build-index': 'Run `npm run index` to build it.',
  'rebuild-index': 'Run `npm run index -- --rebuild`.',
  'reindex-for-model': 'Run `npm run index` to rebuild it for the configured model.',
};

/**
 * An error as the user reads it: an expected one by its message and what to run, anything else with its
 * stack (or only its message, for a chat that goes on).
 */
export function describeError(error: unknown, options: { stack?: boolean } = {}): string {
  if (error instanceof CitebotError) return error.remedy ? `${error.message} ${REMEDIES[error.remedy]}` : error.message;
  if (!(error instanceof Error)) return String(error);
  return options.stack === false ? error.message : (error.stack ?? error.message);
}

/**
 * The error boundary of every entry point: runs `main`, and on failure prints the error and exits 1.
 * Success leaves the exit code to `main`'s result, letting output drain; `exitOnFailure` also ends the
 * process at once (the bot, whose open handles would keep it alive).
 */
export function runMain(main: () => Promise<number | void>, options: { exitOnFailure?: boolean } = {}): void {
  // A reader that closes the pipe early (`… | head`) has read all it wants: end quietly, not with EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  main()
    .then((code) => {
      if (typeof code === 'number') process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`error: ${describeError(error)}\n`);
      process.exitCode = 1;
      if (options.exitOnFailure) process.exit(1);
    });
}
