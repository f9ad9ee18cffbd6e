import t, { type Test } from 'tap';
import { sql } from 'kysely';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { Redis } from 'ioredis';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { createDirectRequestLogDelivery } from '../../src/log-writer/direct-delivery.js';
import { createLogWriter, LOG_WRITER_GROUP, type LogWriter } from '../../src/log-writer/log-writer.js';
import {
  addEvents,
  cleanPrefix,
  countRows,
  CountingMetric,
  createMigratedDatabase,
  makeEvent,
  redisClient,
  silentLogger,
  waitFor,
} from './support.js';

const database = await createMigratedDatabase('log_writer');
const redis = redisClient();
t.teardown(async () => {
  redis.disconnect();
  await database.close();
});
const { db } = database;

async function startWriter(
  t: Test,
  prefix: string,
  extra: Partial<Parameters<typeof createLogWriter>[0]> = {},
): Promise<{ writer: LogWriter; rows: CountingMetric; lag: CountingMetric }> {
  const rows = new CountingMetric();
  const lag = new CountingMetric();
  const writer = createLogWriter({
    redis: extra.redis ?? redis,
    db,
    prefix,
    logger: silentLogger,
    rowsTotal: rows,
    lagSeconds: lag,
    blockMs: 100,
    claimIntervalMs: 200,
    claimMinIdleMs: 500,
    ...extra,
  });
  await writer.start();
  t.teardown(() => writer.close());
  return { writer, rows, lag };
}

function routeFor(t: Test): string {
  return `route-${t.name.length}-${Math.random().toString(36).slice(2, 8)}`;
}

t.test('every event on the stream becomes exactly one row with its fields', async (t) => {
  const prefix = uniquePrefix('lw-fields');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = routeFor(t);
  const events = Array.from({ length: 120 }, (_, index) =>
    makeEvent({ route, status: index % 3 === 0 ? 429 : 200, limited: index % 3 === 0, durationMs: index + 0.25 }),
  );
  events.push(makeEvent({ route, keyId: null, tier: null, status: 401 }));
  const { rows } = await startWriter(t, prefix, { insertChunkRows: 16 });
  await addEvents(redis, prefix, events, 50);
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === events.length, 10_000, 'rows');
  const stored = await sql<{
    event_id: string;
    time: Date;
    key_id: string | null;
    tier: string | null;
    method: string;
    status: number;
    duration_ms: number;
    limited: boolean;
  }>`select * from request_log where route = ${route}`.execute(db);
  const byId = new Map(stored.rows.map((row) => [row.event_id, row]));
  t.equal(byId.size, events.length);
  for (const event of events) {
    const row = byId.get(event.id);
    if (!row) {
      t.fail(`missing ${event.id}`);
      continue;
    }
    t.same(
      {
        time: new Date(row.time).getTime(),
        key_id: row.key_id,
        tier: row.tier,
        method: row.method,
        status: Number(row.status),
        duration_ms: Number(row.duration_ms),
        limited: row.limited,
      },
      {
        time: event.timeMs,
        key_id: event.keyId,
        tier: event.tier,
        method: event.method,
        status: event.status,
        duration_ms: event.durationMs,
        limited: event.limited,
      },
    );
  }
  t.equal(rows.value, events.length, 'the rows counter counts each row once');
  const pending = (await redis.xpending(requestEventStream(prefix), LOG_WRITER_GROUP)) as [number, ...unknown[]];
  t.equal(pending[0], 0, 'every entry is acknowledged');
});

t.test('the same events delivered twice do not double rows', async (t) => {
  const prefix = uniquePrefix('lw-twice');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = routeFor(t);
  const events = Array.from({ length: 50 }, () => makeEvent({ route }));
  const { rows } = await startWriter(t, prefix);
  await addEvents(redis, prefix, events);
  // A gateway pipeline retried after a timeout sends the same events again as new entries.
  await addEvents(redis, prefix, events);
  await waitFor(async () => {
    const info = (await redis.xinfo('GROUPS', requestEventStream(prefix))) as unknown[][];
    const group = info[0] as unknown[];
    const lag = group[group.indexOf('lag') + 1];
    const pending = group[group.indexOf('pending') + 1];
    return lag === 0 && pending === 0;
  }, 10_000, 'all entries read and acked');
  t.equal(await countRows(db, `route = '${route}'`), events.length);
  t.equal(rows.value, events.length, 'redelivered rows are not counted as written');
});

t.test('events left pending by a dead consumer are claimed and written once', async (t) => {
  const prefix = uniquePrefix('lw-claim');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = routeFor(t);
  const stream = requestEventStream(prefix);
  const events = Array.from({ length: 30 }, () => makeEvent({ route }));
  await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0', 'MKSTREAM');
  await addEvents(redis, prefix, events);
  // A consumer reads the entries and dies before writing or acking them.
  const read = await redis.xreadgroup('GROUP', LOG_WRITER_GROUP, 'dead-consumer', 'COUNT', 100, 'STREAMS', stream, '>');
  t.ok(read, 'the dead consumer holds the entries');
  await startWriter(t, prefix, { claimMinIdleMs: 300 });
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === events.length, 10_000, 'claimed rows');
  await waitFor(async () => {
    const pending = (await redis.xpending(stream, LOG_WRITER_GROUP)) as [number];
    return pending[0] === 0;
  }, 5000, 'nothing pending');
  t.equal(await countRows(db, `route = '${route}'`), events.length);
});

t.test('two writers sharing the stream write every event exactly once', async (t) => {
  const prefix = uniquePrefix('lw-two');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = routeFor(t);
  const first = await startWriter(t, prefix, { readCount: 1 });
  const second = await startWriter(t, prefix, { readCount: 1 });
  t.not(first.writer.consumerName, second.writer.consumerName);
  const events = Array.from({ length: 300 }, () => makeEvent({ route }));
  for (let index = 0; index < events.length; index += 30) {
    await addEvents(redis, prefix, events.slice(index, index + 30), 3);
  }
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === events.length, 10_000, 'rows');
  t.equal(first.rows.value + second.rows.value, events.length, 'each row is written by one writer');
  t.ok(first.rows.value > 0 && second.rows.value > 0, 'both writers took part');
  const distinct = await sql<{ n: string }>`
    select count(distinct event_id)::text as n from request_log where route = ${route}`.execute(db);
  t.equal(Number(distinct.rows[0]?.n), events.length);
});

t.test('a failed insert is retried and nothing is acked until it commits', async (t) => {
  const prefix = uniquePrefix('lw-retry');
  t.teardown(() => cleanPrefix(redis, prefix));
  const route = routeFor(t);
  const stream = requestEventStream(prefix);
  // The table vanishes for a moment: every insert fails as it would with PostgreSQL away.
  await sql`alter table request_log rename to request_log_away`.execute(db);
  let renamedBack = false;
  const renameBack = async () => {
    if (renamedBack) return;
    renamedBack = true;
    await sql`alter table request_log_away rename to request_log`.execute(db);
  };
  t.teardown(renameBack);
  await startWriter(t, prefix, { maxBackoffMs: 200 });
  const events = Array.from({ length: 20 }, () => makeEvent({ route }));
  await addEvents(redis, prefix, events);
  await waitFor(async () => {
    const pending = (await redis.xpending(stream, LOG_WRITER_GROUP)) as [number];
    return pending[0] === 2;
  }, 5000, 'entries read and held pending');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const pending = (await redis.xpending(stream, LOG_WRITER_GROUP)) as [number];
  t.equal(pending[0], 2, 'nothing is acked while the insert fails');
  await renameBack();
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === events.length, 10_000, 'rows after recovery');
  await waitFor(async () => ((await redis.xpending(stream, LOG_WRITER_GROUP)) as [number])[0] === 0, 5000, 'acked');
  t.equal(await countRows(db, `route = '${route}'`), events.length);
});

t.test('last_used_at moves forward at most once a minute per key', async (t) => {
  const prefix = uniquePrefix('lw-used');
  t.teardown(() => cleanPrefix(redis, prefix));
  const keyId = `key_used_${Math.random().toString(36).slice(2, 10)}`;
  await sql`insert into tiers (name, limits) values ('used-tier', '[{"window":"1m","limit":5}]') on conflict do nothing`.execute(db);
  await sql`insert into api_keys (id, name, tier, secret_hash, prefix)
    values (${keyId}, 'used', 'used-tier', ${'a'.repeat(48) + Math.random().toString(16).slice(2, 18).padEnd(16, '0')}, 'tg_abcde')`.execute(db);
  const lastUsed = async () =>
    (await sql<{ t: Date | null }>`select last_used_at as t from api_keys where id = ${keyId}`.execute(db)).rows[0]?.t ?? null;
  await startWriter(t, prefix);
  const first = makeEvent({ keyId, timeMs: Date.now() - 5000 });
  await addEvents(redis, prefix, [first]);
  await waitFor(async () => (await lastUsed()) !== null, 10_000, 'first update');
  t.equal(new Date((await lastUsed()) as Date).getTime(), first.timeMs, 'set to the event time');
  const second = makeEvent({ keyId, timeMs: Date.now() });
  await addEvents(redis, prefix, [second]);
  await waitFor(async () => (await countRows(db, `event_id = '${second.id}'`)) === 1, 10_000, 'second row');
  t.equal(new Date((await lastUsed()) as Date).getTime(), first.timeMs, 'not moved again within the minute');
  // A minute later the next event moves it.
  await sql`update api_keys set last_used_at = now() - interval '2 minutes' where id = ${keyId}`.execute(db);
  const third = makeEvent({ keyId, timeMs: Date.now() });
  await addEvents(redis, prefix, [third]);
  await waitFor(async () => new Date((await lastUsed()) as Date).getTime() === third.timeMs, 10_000, 'third update');
  t.pass('moved after a minute');
});

t.test('a writer recreates its group and keeps writing after Redis restarts empty', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const own = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  own.on('error', () => {});
  t.teardown(() => own.disconnect());
  const prefix = uniquePrefix('lw-restart');
  const route = routeFor(t);
  await startWriter(t, prefix, { redis: own, maxBackoffMs: 200 });
  const before = [makeEvent({ route })];
  await addEvents(own, prefix, before);
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === 1, 10_000, 'first row');
  await server.stop();
  await server.start();
  await waitFor(async () => own.status === 'ready', 10_000, 'reconnect');
  const after = Array.from({ length: 10 }, () => makeEvent({ route }));
  await addEvents(own, prefix, after);
  await waitFor(async () => (await countRows(db, `route = '${route}'`)) === 11, 15_000, 'rows after the restart');
  t.pass('events written after the restart arrive');
});

t.test('consumers long gone with nothing pending are removed from the group', async (t) => {
  const prefix = uniquePrefix('lw-forget');
  t.teardown(() => cleanPrefix(redis, prefix));
  const stream = requestEventStream(prefix);
  await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0', 'MKSTREAM');
  await redis.xgroup('CREATECONSUMER', stream, LOG_WRITER_GROUP, 'ghost');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { writer } = await startWriter(t, prefix, { forgetConsumerIdleMs: 200 });
  await waitFor(async () => {
    const consumers = (await redis.xinfo('CONSUMERS', stream, LOG_WRITER_GROUP)) as unknown[][];
    return !consumers.some((fields) => fields.includes('ghost'));
  }, 5000, 'ghost removed');
  const consumers = (await redis.xinfo('CONSUMERS', stream, LOG_WRITER_GROUP)) as unknown[][];
  t.ok(consumers.every((fields) => fields.includes(writer.consumerName)), 'only the live writer remains');
});

t.test('the embedded delivery writes a batch once even when handed it twice', async (t) => {
  const rows = new CountingMetric();
  const lag = new CountingMetric();
  const deliver = createDirectRequestLogDelivery({ db, logger: silentLogger, rowsTotal: rows, lagSeconds: lag });
  const route = routeFor(t);
  const batch = Array.from({ length: 25 }, () => makeEvent({ route }));
  await deliver(batch);
  await deliver(batch);
  t.equal(await countRows(db, `route = '${route}'`), batch.length);
  t.equal(rows.value, batch.length);
});
