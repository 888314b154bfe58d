/**
 * DATABASE_URL: checked once, and shown in messages without what could be a secret (the user name,
 * the password, and query parameters, which may carry `password=` or `sslpassword=` too).
 *
 * Nothing of a string that is not a well-formed `scheme://` URL is ever repeated: a libpq key/value
 * string (`host=db user=citebot password=hunter2`) or a URL whose password holds an unencoded `/`, `?` or
 * `#` cannot be told apart from its secret. A `#` anywhere, or an `@` after the host, is such a URL:
 * `postgres://citebot:12345#tail@db/idx` reads as host `citebot`, port `12345`.
 */

/** The schemes node-postgres and libpq accept for a connection string. */
const SCHEMES = new Set(['postgres:', 'postgresql:']);

const EXAMPLE = 'postgres://user:password@host:5432/database';

/** What messages show in place of a DATABASE_URL that may not be shown. */
const NOT_SHOWN = '(not shown: not a well-formed postgres:// URL)';

type Parsed = { url: URL } | { problem: string };

/**
 * `raw` as a URL whose user name and password can only be in its user-info (which messages leave out),
 * or why it is not one. A problem never repeats any of `raw` but a well-formed URL's scheme.
 */
function parse(raw: string): Parsed {
  const trimmed = raw.trim();
  if (/^[\w.-]+\s*=/.test(trimmed))
    return {
      problem: `a key=value connection string, not a URL (expected ${EXAMPLE}); it is not repeated here, as it may hold a password`,
    };
  // Only `scheme://…`: `postgres:secret` is a URL too, with the secret as its path.
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed))
    return { problem: `not a postgres:// or postgresql:// URL (expected ${EXAMPLE}); it is not repeated here, as it may hold a password` };
  if (trimmed.includes('#'))
    return {
      problem: `the URL has a #, which would end it there (write a # in a password as %23); it is not repeated here, as it may hold a password`,
    };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return {
      problem: `not a well-formed URL (expected ${EXAMPLE}; percent-encode /, ?, #, @ and : in a user name or password); it is not repeated here, as it may hold a password`,
    };
  }
  if (url.pathname.includes('@') || url.search.includes('@'))
    return {
      problem: `the URL has an @ after its host: a user name or password holding / or ? ends the host early (write them %2F and %3F); it is not repeated here, as it may hold a password`,
    };
  return { url };
}

/** A database URL as messages show it: scheme, host, port and database only. */
export function displayDatabaseUrl(raw: string): string {
  const parsed = parse(raw);
  if (!('url' in parsed)) return NOT_SHOWN;
  const { url } = parsed;
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

/** `host:port` of a database URL (5432 when it names none), for messages about reaching it. */
export function databaseAddress(raw: string): string {
  const parsed = parse(raw);
  if (!('url' in parsed)) return NOT_SHOWN;
  const { url } = parsed;
  const socketDir = url.searchParams.get('host');
  if (url.hostname === '' && socketDir) return `${socketDir} (Unix socket)`;
  return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
}

/**
 * Why `raw` cannot be a DATABASE_URL, or undefined when it can: a postgres:// or postgresql:// URL with a
 * host (or a `?host=` socket folder). The reason never repeats the credentials.
 */
export function databaseUrlProblem(raw: string): string | undefined {
  const parsed = parse(raw);
  if (!('url' in parsed)) return parsed.problem;
  const { url } = parsed;
  if (!SCHEMES.has(url.protocol))
    return `expected a postgres:// or postgresql:// URL (such as ${EXAMPLE}), not a ${url.protocol.replace(/:$/, '')} URL`;
  if (url.hostname === '' && !url.searchParams.get('host')) return `${displayDatabaseUrl(raw)} names no host (expected ${EXAMPLE})`;
  return undefined;
}
