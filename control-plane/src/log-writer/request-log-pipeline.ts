// What main.ts starts for request logs in production mode: partition upkeep and retention (at start,
// then hourly), then the stream writer. One call to start, one to stop.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { createLogWriter, type CounterLike, type GaugeLike, type LogWriter, type LogWriterOptions } from './log-writer.js';
import { createRequestLogRetention, type RequestLogRetention } from './retention.js';

export interface RequestLogPipelineOptions {
  readonly redis: Redis | Cluster;
  readonly db: Db;
  readonly prefix: string;
  readonly logger: Logger;
  /** REQUEST_LOG_RETENTION_DAYS */
  readonly retentionDays: number;
  readonly rowsTotal: CounterLike;
  readonly lagSeconds: GaugeLike;
  readonly clock?: Clock;
  /** Overrides for tests (claim idle time, block time…). */
  readonly writer?: Partial<LogWriterOptions>;
}

export interface RequestLogPipeline {
  readonly writer: LogWriter;
  readonly retention: RequestLogRetention;
  close(): Promise<void>;
}

export async function startRequestLogPipeline(options: RequestLogPipelineOptions): Promise<RequestLogPipeline> {
  const logger = options.logger.child({ component: 'request-log' });
  const retention = createRequestLogRetention({
    db: options.db,
    logger,
    retentionDays: options.retentionDays,
    clock: options.clock,
  });
  // Partitions first, so the writer's first rows land in their day's partition.
  await retention.start();
  const writer = createLogWriter({
    redis: options.redis,
    db: options.db,
    prefix: options.prefix,
    logger,
    rowsTotal: options.rowsTotal,
    lagSeconds: options.lagSeconds,
    clock: options.clock,
    ...options.writer,
  });
  try {
    await writer.start();
  } catch (error) {
    await retention.close();
    throw error;
  }
  return {
    writer,
    retention,
    async close() {
      await writer.close();
      await retention.close();
    },
  };
}
