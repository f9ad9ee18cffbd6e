// The launcher's own JSON log lines (`service: launcher`); each service keeps its own root logger.
import { pino, type Logger } from 'pino';

export function createLauncherLogger(level: string): Logger {
  return pino({ level, base: { service: 'launcher' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A start that failed: one readable line on stderr (a port in use, an unreadable data directory),
 * the details in the log. */
export function reportStartFailure(log: Logger, error: unknown): void {
  log.fatal({ err: error }, 'cannot start');
  process.stderr.write(`tollgate failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
}
