// From the gateway's batcher to PostgreSQL rows: the control plane's log writer runs as a process of
// its own (the services never import each other), against a database of this file's own.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino from 'pino';
import postgres from 'postgres';
import { createRequestEventIds, type RequestEvent } from '../../../contracts/request-event.js';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { createTestDatabase } from '../../../test-support/postgres-database.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { createRequestLogBatcher } from '../../src/request-log/batcher.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const writerEntry = fileURLToPath(new URL('../../../control-plane/test/log-writer/writer-process.ts', import.meta.url));

t.test('N events recorded by the batcher become exactly N rows with their fields', async (t) => {
  const database = await createTestDatabase('request_log_e2e');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = uniquePrefix('e2e');
  const writer = spawn(process.execPath, ['--import', 'tsx', writerEntry], {
    env: { ...process.env, REDIS_URL, DATABASE_URL: database.url, PREFIX: prefix, MIGRATE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  t.teardown(async () => {
    writer.kill('SIGTERM');
    if (writer.exitCode === null) await once(writer, 'exit');
    await sql.end();
    await redis.del(requestEventStream(prefix));
    redis.disconnect();
    await database.drop();
  });
  await once(writer.stdout as NodeJS.ReadableStream, 'data');

  const batcher = createRequestLogBatcher({ redis, prefix, logger: pino({ level: 'silent' }), maxBatch: 40, flushIntervalMs: 20 });
  const nextId = createRequestEventIds();
  const now = Date.now();
  const events: RequestEvent[] = Array.from({ length: 500 }, (_, index) => ({
    id: nextId(),
    timeMs: now - index,
    keyId: index % 5 === 0 ? null : `key_${index % 3}`,
    tier: index % 5 === 0 ? null : 'free',
    route: index % 4 === 0 ? null : 'orders',
    method: index % 2 === 0 ? 'GET' : 'POST',
    status: index % 5 === 0 ? 401 : index % 7 === 0 ? 429 : 200,
    durationMs: index / 8,
    limited: index % 5 !== 0 && index % 7 === 0,
    clientIp: index % 3 === 0 ? null : `10.0.0.${index % 250}`,
    limitedBy: index % 5 !== 0 && index % 7 === 0 ? '1m' : null,
    shadowLimited: index % 11 === 0,
  }));
  for (const event of events) batcher.record(event);
  await batcher.close();

  const deadline = Date.now() + 20_000;
  let count = 0;
  while (Date.now() < deadline) {
    count = Number((await sql`select count(*)::int as n from request_log`)[0]?.n);
    if (count >= events.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(count, events.length, 'one row per event');
  const rows = await sql`select * from request_log order by time desc, event_id desc`;
  const byId = new Map(rows.map((row) => [row.event_id as string, row]));
  let mismatches = 0;
  for (const event of events) {
    const row = byId.get(event.id);
    const same =
      row !== undefined &&
      new Date(row.time as Date).getTime() === event.timeMs &&
      row.key_id === event.keyId &&
      row.tier === event.tier &&
      row.route === event.route &&
      row.method === event.method &&
      Number(row.status) === event.status &&
      Number(row.duration_ms) === event.durationMs &&
      row.limited === event.limited;
    if (!same) mismatches += 1;
  }
  t.equal(mismatches, 0, 'every row holds its event\'s fields');
});
