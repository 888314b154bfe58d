/** What can go wrong between citebot and its Postgres database, as errors the entry points tell apart. */
import { CitebotError } from '../../errors.js';

/** The database cannot be reached or refuses us: not running, wrong address, wrong password, no such database. */
export class DatabaseUnreachable extends CitebotError {
  constructor(message: string, options?: ErrorOptions) {
    super('DatabaseUnreachable', message, undefined, options);
  }
}

/** The database's schema was written by a newer citebot than this one. */
export class SchemaTooNew extends CitebotError {
  constructor(message: string) {
    super('SchemaTooNew', message);
  }
}
