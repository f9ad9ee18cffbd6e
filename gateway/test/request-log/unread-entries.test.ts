// A gateway keeps a copy of the request events it added to the stream until the request-log
// writers have read them, and adds them again when Redis comes back without them; what the writers
// have read, or what Redis kept, is not added twice.
import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createRequestEventIds, parseRequestEventEntry, type RequestEvent } from '../../../contracts/request-event.js';
import { REQUEST_EVENT_GROUP, requestEventStream } from '../../../contracts/redis-keys.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../../../test-support/redis-server.js';
import { createRequestLogBatcher, type RequestLogBatcher } from '../../src/request-log/batcher.js';
import { compareStreamIds } from '../../src/request-log/unread-entries.js';

const logger = pino({ level: 'silent' });
const nextId = createRequestEventIds();
const CHECK_INTERVAL_MS = 50;

function event(): RequestEvent {
  return {
    id: nextId(),
    timeMs: Date.now(),
    keyId: 'key_unread',
    tier: 'free',
    route: 'orders',
    method: 'GET',
    status: 200,
    durationMs: 1.5,
    limited: false,
    clientIp: '127.0.0.1',
    limitedBy: null,
    shadowLimited: false,
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Setup {
  readonly server: RedisServer;
  readonly client: Redis;
  readonly batcher: RequestLogBatcher;
  readonly stream: string;
  /** Event ids in the stream, one per copy. */
  storedIds(): Promise<string[]>;
}

async function setup(t: Test, redisArgs: string[] = []): Promise<Setup> {
  const server = await startRedisServer(redisArgs);
  t.teardown(() => server.stop());
  const client = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  const prefix = uniquePrefix('unread');
  const stream = requestEventStream(prefix);
  const batcher = createRequestLogBatcher({ redis: client, prefix, logger, flushIntervalMs: 20, unreadCheckIntervalMs: CHECK_INTERVAL_MS });
  t.teardown(() => batcher.close());
  const storedIds = async () => {
    const entries = (await client.xrange(stream, '-', '+')) as [string, string[]][];
    return entries.flatMap(([, fields]) => parseRequestEventEntry(fields).events.map((item) => item.id));
  };
  return { server, client, batcher, stream, storedIds };
}

/** Records `count` events and waits until all are in the stream. */
async function recordAndSend({ batcher, storedIds }: Setup, count: number): Promise<RequestEvent[]> {
  const events = Array.from({ length: count }, () => event());
  for (const item of events) batcher.record(item);
  await waitFor(async () => (await storedIds()).length >= count);
  return events;
}

/** The writers' group reads every entry, as the control plane's log writer does. */
async function readAsWriter({ client, stream }: Setup): Promise<void> {
  await client.xgroup('CREATE', stream, REQUEST_EVENT_GROUP, '0', 'MKSTREAM');
  await client.xreadgroup('GROUP', REQUEST_EVENT_GROUP, 'writer', 'COUNT', 1000, 'STREAMS', stream, '>');
}

t.test('events no writer has read are added again when Redis comes back without them', async (t) => {
  const context = await setup(t);
  const before = await recordAndSend(context, 200);
  // No persistence: the restarted Redis is empty. Events keep coming meanwhile.
  await context.server.stop();
  const after = Array.from({ length: 50 }, () => event());
  for (const item of after) context.batcher.record(item);
  await context.server.start();
  const all = [...before, ...after];
  await waitFor(async () => context.client.status === 'ready' && (await context.storedIds()).length >= all.length);
  const stored = await context.storedIds();
  t.same(new Set(stored), new Set(all.map((item) => item.id)), 'those from before the restart and those from after it');
  t.equal(stored.length, all.length, 'each once');
});

t.test('events the writers have read are not added again', async (t) => {
  const context = await setup(t);
  const read = await recordAndSend(context, 100);
  await readAsWriter(context);
  const unread = await recordAndSend(context, 50);
  // The copies of what was read are let go at the next check.
  await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS * 4));
  await context.server.stop();
  await context.server.start();
  await waitFor(async () => context.client.status === 'ready' && (await context.storedIds()).length >= unread.length);
  await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS * 4));
  const stored = new Set(await context.storedIds());
  t.same(stored, new Set(unread.map((item) => item.id)), 'only the unread events are back');
  t.ok(read.every((item) => !stored.has(item.id)), 'none of the read ones');
});

t.test('a Redis that comes back with its append-only file gets no second copy', async (t) => {
  const context = await setup(t, ['--appendonly', 'yes', '--appendfsync', 'always']);
  const events = await recordAndSend(context, 100);
  await context.server.shutdown();
  await context.server.start();
  await waitFor(async () => context.client.status === 'ready');
  await new Promise((resolve) => setTimeout(resolve, CHECK_INTERVAL_MS * 4));
  const stored = await context.storedIds();
  t.equal(stored.length, events.length, 'each event once');
  t.same(new Set(stored), new Set(events.map((item) => item.id)));
});

t.test('stream ids compare by time, then by sequence', async (t) => {
  t.ok(compareStreamIds('1700000000000-5', '1700000000000-12') < 0);
  t.ok(compareStreamIds('1700000000001-0', '1700000000000-99') > 0);
  t.equal(compareStreamIds('1700000000000-3', '1700000000000-3'), 0);
});
