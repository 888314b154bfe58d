/** Structured logs (pino) on stderr, so that stdout stays clean for answers and JSON. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'citebot'): Logger {
  return pino(
    {
      name,
      level,
      // The token must never reach a log line, whatever object is logged.
      redact: {
        paths: ['token', '*.token', 'config.discord.token', 'headers.authorization', '*.headers.authorization'],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
