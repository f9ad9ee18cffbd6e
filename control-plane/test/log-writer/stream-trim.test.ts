// The request-event stream holds the backlog, not past traffic: what the log writer has written to
// PostgreSQL and acknowledged is trimmed; what is unread or pending anywhere stays.
import t, { type Test } from 'tap';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { createLogWriter, LOG_WRITER_GROUP } from '../../src/log-writer/log-writer.js';
import { trimAcknowledged } from '../../src/log-writer/stream-trim.js';
import { addEvents, cleanPrefix, countRows, CountingMetric, createMigratedDatabase, makeEvent, redisClient, silentLogger, waitFor } from './support.js';

const database = await createMigratedDatabase('stream_trim');
const redis = redisClient();
t.teardown(async () => {
  redis.disconnect();
  await database.close();
});

async function startWriter(t: Test, prefix: string, claimMinIdleMs = 60_000) {
  const rows = new CountingMetric();
  const writer = createLogWriter({
    redis,
    db: database.db,
    prefix,
    logger: silentLogger,
    rowsTotal: rows,
    lagSeconds: new CountingMetric(),
    blockMs: 100,
    claimIntervalMs: 200,
    claimMinIdleMs,
    trimIntervalMs: 50,
  });
  await writer.start();
  t.teardown(() => writer.close());
  return rows;
}

function isolated(t: Test, label: string) {
  const prefix = uniquePrefix(label);
  t.teardown(() => cleanPrefix(redis, prefix));
  return { prefix, stream: requestEventStream(prefix), route: `trim-${label}-${Math.random().toString(36).slice(2, 8)}` };
}

t.test('events written to PostgreSQL are trimmed from the stream', async (t) => {
  const { prefix, stream, route } = isolated(t, 'written');
  await startWriter(t, prefix);
  const events = Array.from({ length: 200 }, () => makeEvent({ route }));
  for (let index = 0; index < events.length; index += 50) await addEvents(redis, prefix, events.slice(index, index + 50));
  await waitFor(async () => (await countRows(database.db, `route = '${route}'`)) === events.length, 10_000, 'every row');
  await waitFor(async () => (await redis.xlen(stream)) === 0, 5_000, 'an empty stream');
  t.equal(await countRows(database.db, `route = '${route}'`), events.length, 'no row was lost to the trim');
});

t.test('entries another consumer holds pending stay until they are acknowledged', async (t) => {
  const { prefix, stream, route } = isolated(t, 'pending');
  await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0', 'MKSTREAM');
  await addEvents(redis, prefix, Array.from({ length: 30 }, () => makeEvent({ route })));
  // Another control plane read these and has not written them yet (it may be slow, or dead).
  const held = (await redis.xreadgroup('GROUP', LOG_WRITER_GROUP, 'other-control-plane', 'COUNT', 100, 'STREAMS', stream, '>')) as [string, [string, string[]][]][];
  const heldIds = (held[0]?.[1] ?? []).map(([id]) => id);
  t.equal(heldIds.length, 3);
  await startWriter(t, prefix);
  await addEvents(redis, prefix, Array.from({ length: 30 }, () => makeEvent({ route })));
  await waitFor(async () => (await countRows(database.db, `route = '${route}'`)) === 30, 10_000, 'the later rows');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const kept = (await redis.xrange(stream, '-', '+')).map(([id]) => id);
  t.same(kept.slice(0, 3), heldIds, 'the pending entries are still there');
  await redis.xack(stream, LOG_WRITER_GROUP, ...heldIds);
  await waitFor(async () => (await redis.xlen(stream)) === 0, 5_000, 'the stream trimmed once they were acknowledged');
});

t.test('entries no group has read are never trimmed', async (t) => {
  const { prefix, stream, route } = isolated(t, 'unread');
  await addEvents(redis, prefix, Array.from({ length: 20 }, () => makeEvent({ route })));
  t.equal(await trimAcknowledged(redis, stream), 0, 'without a group nothing goes');
  await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0');
  t.equal(await trimAcknowledged(redis, stream), 0, 'a group that read nothing keeps everything');
  t.equal(await redis.xlen(stream), 2);
});

t.test('a stream that does not exist yet is nothing to trim', async (t) => {
  const { stream } = isolated(t, 'missing');
  t.equal(await trimAcknowledged(redis, stream), 0);
});

t.test('a crashed writer’s pending entries survive the trim and are written once by another', async (t) => {
  const { prefix, stream, route } = isolated(t, 'crashed');
  await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0', 'MKSTREAM');
  const events = Array.from({ length: 40 }, () => makeEvent({ route }));
  await addEvents(redis, prefix, events.slice(0, 20));
  await redis.xreadgroup('GROUP', LOG_WRITER_GROUP, 'crashed-writer', 'COUNT', 100, 'STREAMS', stream, '>');
  await addEvents(redis, prefix, events.slice(20));
  // Claims after 400 ms idle, trims every 50 ms meanwhile.
  await startWriter(t, prefix, 400);
  await waitFor(async () => (await countRows(database.db, `route = '${route}'`)) === events.length, 10_000, 'every row');
  await waitFor(async () => (await redis.xlen(stream)) === 0, 5_000, 'an empty stream');
  t.equal(await countRows(database.db, `route = '${route}'`), events.length);
});
