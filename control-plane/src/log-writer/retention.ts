// request_log upkeep, at start and every hour: creates the coming days' partitions (so rows never
// pile up in the default partition) and removes rows older than REQUEST_LOG_RETENTION_DAYS —
// whole day partitions are dropped, the boundary day is trimmed with a DELETE.
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { ensurePartitions, removeRequestLogsBefore } from '../request-logs/repository.js';

const DAY_MS = 86_400_000;

export interface RetentionOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly retentionDays: number;
  readonly clock?: Clock;
  readonly intervalMs?: number;
  /** Partitions made ahead of today. */
  readonly daysAhead?: number;
}

export interface RetentionResult {
  readonly createdPartitions: number;
  readonly droppedPartitions: number;
  readonly deletedRows: number;
}

export interface RequestLogRetention {
  runOnce(): Promise<RetentionResult>;
  /** Runs once now, then every `intervalMs`. Failures are logged and retried at the next run. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createRequestLogRetention(options: RetentionOptions): RequestLogRetention {
  const { db, logger, retentionDays } = options;
  const clock = options.clock ?? (() => new Date());
  const intervalMs = options.intervalMs ?? 3_600_000;
  const daysAhead = options.daysAhead ?? 7;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;

  async function runOnce(): Promise<RetentionResult> {
    const now = clock().getTime();
    const createdPartitions = await ensurePartitions(db, new Date(now - DAY_MS), new Date(now + daysAhead * DAY_MS));
    const removed = await removeRequestLogsBefore(db, new Date(now - retentionDays * DAY_MS));
    const result = { createdPartitions, ...removed };
    if (result.droppedPartitions > 0 || result.deletedRows > 0) logger.info(result, 'request log retention applied');
    return result;
  }

  async function runLogged(): Promise<void> {
    try {
      await runOnce();
    } catch (error) {
      logger.warn({ err: error }, 'request log retention failed');
    }
  }

  return {
    runOnce,
    async start() {
      running = runLogged();
      await running;
      timer = setInterval(() => {
        running = runLogged();
      }, intervalMs);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}
