/**
 * Errors that callers treat differently carry a code, and where the user can do something about them, a
 * remedy: what to do, named as an action rather than a command line. The entry points (src/app) turn
 * remedies into the commands of this installation; nothing below them names an npm script.
 */

/** What the user can do about an error. */
export type Remedy =
  /** Build the index (none exists yet). */
  | 'build-index'
  /** Rebuild the index from scratch (it is damaged or of another format). */
  | 'rebuild-index'
  /** Build the index again for the configured embedding model. */
  | 'reindex-for-model';

export type ErrorCode =
  | 'IndexMissing'
  | 'IndexCorrupt'
  | 'ModelMismatch'
  | 'IndexLocked'
  | 'IndexReadOnly'
  | 'ModelUnavailable'
  | 'SeedsUnreadable'
  | 'DataFileError'
  | 'ConfigError'
  | 'UsageError'
  | 'BotLoginError'
  | 'DiscordNoAnswer'
  | 'FetchFailed'
  | 'DatabaseUnreachable'
  | 'SchemaTooNew';

/** An expected failure: its message (and remedy) say everything, so entry points print no stack for it. */
export class CitebotError extends Error {
  override readonly name: ErrorCode;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly remedy?: Remedy,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = code;
  }
}
