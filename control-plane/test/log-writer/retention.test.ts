import t from 'tap';
import { sql } from 'kysely';
import { createRequestLogRetention } from '../../src/log-writer/retention.js';
import { ensurePartitions, insertRequestEvents } from '../../src/request-logs/repository.js';
import { startRequestLogPipeline } from '../../src/log-writer/request-log-pipeline.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
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

const database = await createMigratedDatabase('retention');
t.teardown(() => database.close());
const { db } = database;
const DAY_MS = 86_400_000;

async function partitions(): Promise<string[]> {
  const result = await sql<{ name: string }>`
    select child.relname as name from pg_inherits
    join pg_class parent on parent.oid = pg_inherits.inhparent
    join pg_class child on child.oid = pg_inherits.inhrelid
    where parent.relname = 'request_log' order by 1`.execute(db);
  return result.rows.map((row) => row.name);
}

function partitionName(timeMs: number): string {
  return `request_log_${new Date(timeMs).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

t.test('retention drops whole old partitions and deletes only rows past the cutoff', async (t) => {
  const now = Date.now();
  await ensurePartitions(db, new Date(now - 45 * DAY_MS), new Date(now));
  const ages = [44, 40, 31, 30.5, 29.9, 10, 0];
  const events = ages.map((days) => makeEvent({ route: 'retention', timeMs: Math.round(now - days * DAY_MS) }));
  t.equal(await insertRequestEvents(db, events), events.length);
  const retention = createRequestLogRetention({ db, logger: silentLogger, retentionDays: 30, clock: () => new Date(now) });
  const result = await retention.runOnce();
  t.ok(result.droppedPartitions >= 13, 'the days wholly past retention are dropped as partitions');
  const kept = await sql<{ event_id: string }>`select event_id from request_log where route = 'retention'`.execute(db);
  t.same(
    new Set(kept.rows.map((row) => row.event_id)),
    new Set(events.filter((_, index) => (ages[index] ?? 0) < 30).map((event) => event.id)),
    'rows younger than 30 days stay, older ones go',
  );
  const names = await partitions();
  t.notOk(names.includes(partitionName(now - 40 * DAY_MS)), 'an old day partition is gone');
  t.ok(names.includes(partitionName(now - 30 * DAY_MS)), 'the boundary day partition stays');
  t.ok(names.includes(partitionName(now + 7 * DAY_MS)), 'partitions for the coming week exist');
});

t.test('rows written before their day had a partition move into it when it is created', async (t) => {
  const future = Date.now() + 20 * DAY_MS;
  const event = makeEvent({ route: 'default-partition', timeMs: future });
  await insertRequestEvents(db, [event]);
  const before = await sql<{ p: string }>`select tableoid::regclass::text as p from request_log where event_id = ${event.id}`.execute(db);
  t.equal(before.rows[0]?.p, 'request_log_default');
  t.equal(await ensurePartitions(db, new Date(future), new Date(future)), 1);
  const after = await sql<{ p: string }>`select tableoid::regclass::text as p from request_log where event_id = ${event.id}`.execute(db);
  t.equal(after.rows[0]?.p, partitionName(future));
  t.equal(await countRows(db, `event_id = '${event.id}'`), 1);
});

t.test('the request log pipeline applies retention at start, then writes streamed events', async (t) => {
  const redis = redisClient();
  const prefix = uniquePrefix('pipeline');
  t.teardown(async () => {
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  });
  const old = makeEvent({ route: 'pipeline', timeMs: Date.now() - 3 * DAY_MS });
  await insertRequestEvents(db, [old]);
  const rows = new CountingMetric();
  const pipeline = await startRequestLogPipeline({
    redis,
    db,
    prefix,
    logger: silentLogger,
    retentionDays: 2,
    rowsTotal: rows,
    lagSeconds: new CountingMetric(),
    writer: { blockMs: 100 },
  });
  t.equal(await countRows(db, `event_id = '${old.id}'`), 0, 'the row past retention is gone at start');
  const fresh = Array.from({ length: 5 }, () => makeEvent({ route: 'pipeline' }));
  await addEvents(redis, prefix, fresh);
  await waitFor(async () => (await countRows(db, `route = 'pipeline'`)) === fresh.length, 10_000, 'rows');
  await pipeline.close();
  t.equal(rows.value, fresh.length);
});
