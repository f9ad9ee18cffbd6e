// One pino root per process. Redaction is configured here once so no secret reaches a
// log line even when a request's headers are logged by mistake.
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

const SECRET_FIELDS = ['authorization', 'x-api-key', 'secret', 'password', 'token'];

/** Every field name above, at the top level, one level down and under `headers`/`req.headers`. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) => {
  const key = field.includes('-') ? `["${field}"]` : `.${field}`;
  const bare = field.includes('-') ? `["${field}"]` : field;
  return [bare, `*${key}`, `headers${key}`, `req.headers${key}`, `request.headers${key}`];
});

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gateway' },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export function componentLogger(root: Logger, component: string): Logger {
  return root.child({ component });
}
