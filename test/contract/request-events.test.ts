// The request-event behaviour suite against both transports, on one PostgreSQL database of this
// file's own: the Redis Stream (gateway batcher → control plane log writer, on the shared Redis
// under a prefix of the test's own) and the embedded mode's in-process delivery.
import { Redis } from 'ioredis';
import pino from 'pino';
import t from 'tap';
import { requestEventStream } from '../../contracts/redis-keys.js';
import { createDb, postgresDialect } from '../../control-plane/src/db.js';
import { createDirectRequestLogDelivery } from '../../control-plane/src/log-writer/direct-delivery.js';
import { startRequestLogPipeline } from '../../control-plane/src/log-writer/request-log-pipeline.js';
import { runMigrations } from '../../control-plane/src/migrate.js';
import { ensurePartitions } from '../../control-plane/src/request-logs/repository.js';
import { createRequestLogBatcher } from '../../gateway/src/request-log/batcher.js';
import { createInProcessRequestEventSink } from '../../gateway/src/request-log/in-process-sink.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { requestEventBehaviour } from './request-event-behaviour.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DAY_MS = 86_400_000;
const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const counter = { inc: () => {} };
const gauge = { set: () => {} };

const database = await createTestDatabase('contract_request_events');
const db = createDb(postgresDialect(database.url, { max: 5 }));
await runMigrations(db);
await ensurePartitions(db, new Date(Date.now() - DAY_MS), new Date(Date.now() + DAY_MS));
t.teardown(async () => {
  await db.destroy();
  await database.drop();
});

requestEventBehaviour('in-process delivery', db, async () => {
  const deliver = createDirectRequestLogDelivery({ db, logger: silentLogger, rowsTotal: counter, lagSeconds: gauge });
  const sink = createInProcessRequestEventSink({ deliver, logger: silentLogger, maxBatch: 40, flushIntervalMs: 20 });
  return { sink, close: async () => {} };
});

requestEventBehaviour('Redis Stream and log writer', db, async () => {
  const prefix = uniquePrefix('contract-events');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const pipeline = await startRequestLogPipeline({
    redis,
    db,
    prefix,
    logger: silentLogger,
    retentionDays: 30,
    rowsTotal: counter,
    lagSeconds: gauge,
    writer: { blockMs: 100 },
  });
  const sink = createRequestLogBatcher({ redis, prefix, logger: silentLogger, maxBatch: 40, flushIntervalMs: 20 });
  return {
    sink,
    async close() {
      await pipeline.close();
      await redis.del(requestEventStream(prefix));
      redis.disconnect();
    },
  };
});
