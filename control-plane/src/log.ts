// The process's one pino root. Redaction is configured here once, so no child logger can leak an
// Authorization header, an API key, a secret, a password or a token.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'x-api-key',
  'secret',
  'password',
  'token',
  '*.authorization',
  '*["x-api-key"]',
  '*.secret',
  '*.password',
  '*.token',
  '*.*.authorization',
  '*.*["x-api-key"]',
  '*.*.secret',
  '*.*.password',
  '*.*.token',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

export function createLogger(level: string = 'info', destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'control-plane' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
