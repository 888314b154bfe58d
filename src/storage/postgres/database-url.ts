/**
 * DATABASE_URL: checked once, and shown in messages without what could be a secret (the user name,
 * the password, and query parameters, which may carry `password=` or `sslpassword=` too).
 */

/** The schemes node-postgres and libpq accept for a connection string. */
const SCHEMES = new Set(['postgres:', 'postgresql:']);

/** A database URL as messages show it: scheme, host, port and database only. */
export function displayDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    // Not a URL: nothing up to its last `@` is shown (but a scheme), nor any query string.
    const at = raw.lastIndexOf('@');
    const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(raw)?.[0] ?? '';
    const shown = (at >= 0 ? scheme + raw.slice(at + 1) : raw).replace(/[?#].*$/, '');
    return shown.length > 120 ? `${shown.slice(0, 119)}…` : shown;
  }
}

/** `host:port` of a database URL (5432 when it names none), for messages about reaching it. */
export function databaseAddress(raw: string): string {
  try {
    const url = new URL(raw);
    const socketDir = url.searchParams.get('host');
    if (url.hostname === '' && socketDir) return `${socketDir} (Unix socket)`;
    return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return displayDatabaseUrl(raw);
  }
}

/**
 * Why `raw` cannot be a DATABASE_URL, or undefined when it can: a postgres:// or postgresql:// URL with a
 * host (or a `?host=` socket folder). The reason never repeats the credentials.
 */
export function databaseUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return `${displayDatabaseUrl(raw)} is not a URL (expected postgres://user:password@host:5432/database)`;
  }
  if (!SCHEMES.has(url.protocol))
    return `expected a postgres:// or postgresql:// URL (such as postgres://user:password@host:5432/database), not a ${url.protocol.replace(/:$/, '')} URL`;
  if (url.hostname === '' && !url.searchParams.get('host'))
    return `${displayDatabaseUrl(raw)} names no host (expected postgres://user:password@host:5432/database)`;
  return undefined;
}
