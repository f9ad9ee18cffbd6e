// The launcher's own JSON log lines (`service: launcher`); each service keeps its own root logger.
import { pino, type Logger } from 'pino';

export function createLauncherLogger(level: string): Logger {
  return pino({ level, base: { service: 'launcher' }, timestamp: pino.stdTimeFunctions.isoTime });
}
