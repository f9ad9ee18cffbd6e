// Shared starters for the request-log tests: a migrated database of the file's own, Redis clients
// on the shared server, and events as a gateway would write them.
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres-database.js';
import { requestEventEntryFields, type RequestEvent } from '../../../contracts/request-event.js';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { createDb, postgresDialect, type Db } from '../../src/db.js';
import { runMigrations } from '../../src/migrate.js';

export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export const silentLogger = pino({ level: 'silent' });

export interface MigratedDatabase {
  readonly database: TestDatabase;
  readonly db: Db;
  close(): Promise<void>;
}

export async function createMigratedDatabase(label: string): Promise<MigratedDatabase> {
  const database = await createTestDatabase(label);
  const db = createDb(postgresDialect(database.url, { max: 4 }));
  await runMigrations(db);
  return {
    database,
    db,
    async close() {
      await db.destroy();
      await database.drop();
    },
  };
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Deletes every key of a test's prefix. */
export async function cleanPrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

let sequence = 0;

export function makeEvent(overrides: Partial<RequestEvent> = {}): RequestEvent {
  sequence += 1;
  return {
    id: `test-${process.pid}.${sequence.toString(36)}`,
    timeMs: Date.now(),
    keyId: 'key_test',
    tier: 'free',
    route: 'orders',
    method: 'GET',
    status: 200,
    durationMs: 1.5,
    limited: false,
    clientIp: '127.0.0.1',
    limitedBy: null,
    shadowLimited: false,
    ...overrides,
  };
}

/** XADDs events exactly as the gateway's batcher encodes them, `perEntry` events per stream entry. */
export async function addEvents(redis: Redis, prefix: string, events: readonly RequestEvent[], perEntry = 10): Promise<void> {
  const pipeline = redis.pipeline();
  for (let start = 0; start < events.length; start += perEntry) {
    pipeline.xadd(requestEventStream(prefix), '*', ...requestEventEntryFields(events.slice(start, start + perEntry)));
  }
  await pipeline.exec();
}

export async function countRows(db: Db, where = 'true'): Promise<number> {
  const result = await sql<{ n: string }>`select count(*)::text as n from request_log where ${sql.raw(where)}`.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export class CountingMetric {
  value = 0;
  inc(value = 1): void {
    this.value += value;
  }
  set(value: number): void {
    this.value = value;
  }
}
