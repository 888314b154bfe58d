/**
 * The fake Discord's request log: with `FAKE_DISCORD_LOG=path` (or the fake's `requestLog` option)
 * every REST request is appended to `path` as one JSON line, to read what a test run sent:
 *
 *   {"method":"POST","path":"/interactions/123/:token/callback","query":{},"body":{...},"multipart":false,"status":204}
 *
 * Each line is written with one synchronous append (O_APPEND), so requests answered concurrently — or
 * by several fakes in several test processes sharing the file — never interleave within a line.
 */
import { appendFileSync } from 'node:fs';

export interface RequestLogLine {
  method: string;
  /** Path after `/api/v10`, tokens replaced by `:token` (see `redactTokens`). */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the parsed `payload_json` part of a multipart body; null when there is none. */
  body: unknown;
  multipart: boolean;
  /** Field names of the file parts of a multipart body (`files[0]`, …). */
  files?: string[];
  status: number;
  /** What broke Discord's API description, when something did (see `discord-spec.ts`). */
  violations?: string[];
}

/**
 * Interaction and webhook tokens travel in the path — `/interactions/{id}/{token}/callback`,
 * `/webhooks/{application_id}/{token}/…` — and are as good as a password for 15 minutes (a webhook's
 * for ever), so the log shows `:token` in their place. `/webhooks/{id}` alone carries none.
 */
export function redactTokens(path: string): string {
  return path.replace(/^\/(interactions|webhooks)\/([^/]+)\/[^/]+/, '/$1/$2/:token');
}

/** Appends one line; `secrets` (the bot token) are replaced wherever they would appear. */
export function appendRequestLog(file: string, line: RequestLogLine, secrets: readonly string[] = []): void {
  let text = JSON.stringify({ ...line, path: redactTokens(line.path) });
  for (const secret of secrets) if (secret) text = text.replaceAll(secret, ':token');
  appendFileSync(file, `${text}\n`);
}
