/** What can be wrong with a stored index, as errors the entry points tell apart. */
import { CitebotError } from '../errors.js';

/** No index has been built in the store yet. */
export class IndexMissing extends CitebotError {
  constructor(message: string) {
    super('IndexMissing', message, 'build-index');
  }
}

/** The index exists but cannot be trusted: truncated, corrupt, or of another format. */
export class IndexCorrupt extends CitebotError {
  constructor(message: string) {
    super('IndexCorrupt', message, 'rebuild-index');
  }
}

/** The index was built with another embedding model than the one configured. */
export class ModelMismatch extends CitebotError {
  constructor(message: string) {
    super('ModelMismatch', message, 'reindex-for-model');
  }
}

/** Another process is building the index in the same store. */
export class IndexLocked extends CitebotError {
  constructor(message: string, options?: ErrorOptions) {
    super('IndexLocked', message, undefined, options);
  }
}

/** The index folder cannot be written (permissions, a read-only disk), so the index cannot be updated. */
export class IndexReadOnly extends CitebotError {
  constructor(message: string, options?: ErrorOptions) {
    super('IndexReadOnly', message, undefined, options);
  }
}
