/** What the command-line entry points share: .env loading, configuration, progress and one error boundary. */
import { SingleBar, Presets } from 'cli-progress';
import dotenv from 'dotenv';
import { ConfigError, loadConfig, type Config } from './config.js';

/** Reads .env (if any) into the environment, then parses the configuration once. */
export function configFromEnvironment(): Config {
  dotenv.config({ quiet: true });
  return loadConfig(process.env);
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
        bar = new SingleBar({ format: `${label} [{bar}] {value}/{total} passages, eta {eta}s`, stream: process.stderr }, Presets.shades_classic);
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

const EXPECTED_ERRORS = new Set(['ConfigError', 'IndexMissing', 'IndexCorrupt', 'ModelMismatch', 'IndexLocked', 'UsageError', 'DataFileError']);

/** A mistake in how a command was called. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses the command line with node's parseArgs; a bad flag becomes a UsageError that shows `usage`. */
export function parseCommandLine<T>(usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
}

/** Runs a command's main function: expected failures print their message, anything else its stack; exit 1. */
export function runMain(main: () => Promise<number | void>): void {
  main()
    .then((code) => {
      process.exitCode = code ?? 0;
    })
    .catch((error: unknown) => {
      if (error instanceof Error && (EXPECTED_ERRORS.has(error.name) || error instanceof ConfigError)) {
        process.stderr.write(`error: ${error.message}\n`);
      } else {
        process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      }
      process.exitCode = 1;
    });
}
