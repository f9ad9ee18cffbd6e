// The request-event backlog: while the control plane is down, events pile up in the Redis stream.
// With Redis's append-only file on (as the compose stack runs it), a Redis restart keeps them and
// every one becomes a row. Without persistence Redis comes back empty: the gateways add again the
// events no writer has read, up to GATEWAY_REQUEST_LOG_BUFFER each; beyond that the oldest are lost,
// and the loss is measured here. Events a gateway cannot even send while Redis is away are kept up
// to the same bound, the rest dropped and counted in tollgate_gateway_request_log_dropped_total.
import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { REQUEST_EVENT_GROUP, requestEventStream } from '../../contracts/redis-keys.js';
import { parseRequestEventEntry } from '../../contracts/request-event.js';
import { createTestDatabase, type TestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer, type RedisServer } from '../../test-support/redis-server.js';
import { settledLedger, type RowLedger } from './helpers/ledger.js';
import { ROWS_DEADLINE_MS } from './helpers/phase.js';
import { startStack, type CreatedKey, type Stack } from './helpers/stack.js';
import { startSteadyLoad, type Answer } from './helpers/steady-load.js';
import { startFaultyUpstream, type FaultyUpstream } from './helpers/upstream.js';
import { COMPOSE_REDIS_ARGS } from './helpers/fault-setup.js';

const BUFFER_EVENTS = 500;
const RATE_PER_GATEWAY = 100;
const READDED = 'request events lost by redis: adding them again';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Setup {
  readonly redis: RedisServer;
  readonly stack: Stack;
  readonly key: CreatedKey;
}

async function setup(t: Test, name: string, redisArgs: string[], gatewayEnv: Record<string, string> = {}): Promise<Setup> {
  const redis = await startRedisServer(redisArgs);
  const database: TestDatabase = await createTestDatabase(name);
  const upstream: FaultyUpstream = await startFaultyUpstream();
  const stack = await startStack({ redis, databaseUrl: database.url, routes: { '/a': upstream.url }, gatewayEnv });
  t.teardown(async () => {
    await stack.close();
    await redis.stop();
    await upstream.stop();
    await database.drop();
  });
  return { redis, stack, key: await stack.createKey(`${name}-open`, 1_000_000) };
}

/** Steady load through both gateways for `ms`; the answers. */
async function loadFor(stack: Stack, key: CreatedKey, ms: number): Promise<Answer[]> {
  const load = startSteadyLoad({
    gateways: stack.gateways.map((gateway) => gateway.url),
    keys: [{ label: 'open', secret: key.secret, weight: 1 }],
    paths: ['/a/x'],
    ratePerGateway: RATE_PER_GATEWAY,
    timeoutSeconds: 10,
  });
  await sleep(ms);
  await load.stop();
  // The last answers' events leave the gateways within their 100 ms flush interval.
  await sleep(1000);
  return load.answers;
}

async function stopControlPlane(stack: Stack): Promise<void> {
  stack.expectExit(stack.controlPlane);
  await stack.controlPlane.stop('SIGTERM');
}

/** Events in the stream that no writer has read yet (each entry holds a batch). */
async function backlogEvents(redis: RedisServer): Promise<number> {
  const client = new Redis(redis.url);
  const stream = requestEventStream('tg');
  try {
    const groups = (await client.xinfo('GROUPS', stream)) as unknown[][];
    const group = groups.find((fields) => fields[fields.indexOf('name') + 1] === REQUEST_EVENT_GROUP) ?? [];
    const lastRead = String(group[group.indexOf('last-delivered-id') + 1] ?? '0-0');
    const entries = (await client.xrange(stream, `(${lastRead}`, '+')) as [string, string[]][];
    return entries.reduce((sum, [, fields]) => sum + parseRequestEventEntry(fields).events.length, 0);
  } finally {
    client.disconnect();
  }
}

function printLedger(t: Test, what: string, ledger: RowLedger, waitedMs: number): void {
  t.comment(
    `  ${what}: ${ledger.answered} answered, ${ledger.rows} rows, lost ${ledger.lost}, doubled ${ledger.doubled}, ` +
      `rows of unanswered requests ${ledger.rowsWithoutAnswer}, last row ${(waitedMs / 1000).toFixed(2)} s after the writer started`,
  );
}

const readded = (stack: Stack) => stack.gateways.some((gateway) => gateway.service.output().includes(READDED));

t.test('with the append-only file on, a backlog survives a Redis restart and every event becomes a row', async (t) => {
  const { redis, stack, key } = await setup(t, 'backlog_aof', COMPOSE_REDIS_ARGS);
  const sinceMs = Date.now();
  await stopControlPlane(stack);
  const answers = await loadFor(stack, key, 5000);
  const backlog = await backlogEvents(redis);
  await redis.shutdown();
  await redis.start();
  const afterRestart = await backlogEvents(redis);
  await stack.startControlPlane();
  const { ledger, waitedMs } = await settledLedger(answers, () => stack.rowsByAddress(sinceMs), ROWS_DEADLINE_MS);
  t.comment(`backlog with the append-only file: ${backlog} events unread in the stream before the restart, ${afterRestart} after it`);
  printLedger(t, 'rows', ledger, waitedMs);
  t.ok(backlog >= answers.length, 'the events waited in the stream');
  t.equal(afterRestart, backlog, 'Redis came back with every one of them');
  t.notOk(readded(stack), 'no gateway had to add them again');
  t.equal(ledger.lost, 0, 'no row lost');
  t.equal(ledger.doubled, 0, 'no row doubled');
});

t.test('without persistence', async (t) => {
  const { redis, stack, key } = await setup(t, 'backlog_volatile', [], { GATEWAY_REQUEST_LOG_BUFFER: String(BUFFER_EVENTS) });

  await t.test('Redis running without persistence is reported at start and on /readyz', async (t) => {
    for (const gateway of stack.gateways) {
      const body = (await (await fetch(`${gateway.opsUrl}/readyz`)).json()) as Record<string, unknown>;
      t.equal(body.status, 'ready', 'the gateway stays ready: it is a warning');
      t.equal(body.redis_append_only, false);
      t.match(body.warnings, [/without its append-only file/]);
      t.match(gateway.service.output(), /appendonly is off/, 'logged at start');
    }
  });

  await t.test('a backlog within the bound is added again by the gateways and every event becomes a row', async (t) => {
    const sinceMs = Date.now();
    await stopControlPlane(stack);
    const answers = await loadFor(stack, key, 2000);
    const backlog = await backlogEvents(redis);
    await redis.stop();
    await redis.start();
    const deadline = Date.now() + 10_000;
    while (!readded(stack) && Date.now() < deadline) await sleep(100);
    await stack.startControlPlane();
    const { ledger, waitedMs } = await settledLedger(answers, () => stack.rowsByAddress(sinceMs), ROWS_DEADLINE_MS);
    t.comment(`backlog without persistence, within ${BUFFER_EVENTS} events a gateway: ${backlog} events unread in the stream when Redis was killed`);
    printLedger(t, 'rows', ledger, waitedMs);
    t.ok(readded(stack), 'the gateways added the lost events again');
    t.equal(ledger.lost, 0, 'no row lost');
    t.equal(ledger.doubled, 0, 'no row doubled');
  });

  await t.test('beyond the bound the oldest events of the backlog are lost with Redis, the newest become rows', async (t) => {
    const sinceMs = Date.now();
    await stopControlPlane(stack);
    const answers = await loadFor(stack, key, 10_000);
    const backlog = await backlogEvents(redis);
    await redis.stop();
    await redis.start();
    await sleep(3000);
    await stack.startControlPlane();
    const { ledger, waitedMs } = await settledLedger(answers, () => stack.rowsByAddress(sinceMs), ROWS_DEADLINE_MS, 3000);
    const rows = await stack.rowsByAddress(sinceMs);
    t.comment(`backlog without persistence, past ${BUFFER_EVENTS} events a gateway: ${backlog} events unread in the stream when Redis was killed`);
    printLedger(t, 'rows', ledger, waitedMs);
    t.ok(ledger.lost > 0, `the backlog past the bound is lost (${ledger.lost} events)`);
    t.equal(ledger.doubled, 0, 'no row doubled');
    // A gateway keeps whole entries (batches of about 10 events here), so up to one batch less.
    for (const [index] of stack.gateways.entries()) {
      const newest = answers.filter((answer) => answer.gateway === index).sort((a, b) => a.answeredMs - b.answeredMs).slice(-(BUFFER_EVENTS - 100));
      t.ok(newest.every((answer) => rows.has(answer.ip)), `gateway ${index + 1}: its newest ${newest.length} events became rows`);
    }
  });

  await t.test('events past the bound while Redis is away are dropped, counted, and the only ones lost', async (t) => {
    const sinceMs = Date.now();
    const droppedBefore = await stack.gatewayMetric('tollgate_gateway_request_log_dropped_total');
    const load = startSteadyLoad({
      gateways: stack.gateways.map((gateway) => gateway.url),
      keys: [{ label: 'open', secret: key.secret, weight: 1 }],
      paths: ['/a/x'],
      ratePerGateway: RATE_PER_GATEWAY,
      timeoutSeconds: 10,
    });
    await sleep(2000);
    await redis.stop();
    // Long enough for each gateway to record more events than it may keep.
    await sleep(((BUFFER_EVENTS * 1.6) / RATE_PER_GATEWAY) * 1000);
    await redis.start();
    await sleep(3000);
    await load.stop();
    const { ledger, waitedMs } = await settledLedger(load.answers, () => stack.rowsByAddress(sinceMs), ROWS_DEADLINE_MS, 3000);
    const dropped = (await stack.gatewayMetric('tollgate_gateway_request_log_dropped_total')) - droppedBefore;
    t.comment(`Redis away past the bound of ${BUFFER_EVENTS} events a gateway: ${dropped} events dropped and counted`);
    printLedger(t, 'rows', ledger, waitedMs);
    t.ok(dropped > 0, 'events were dropped');
    t.equal(ledger.lost, dropped, 'the rows lost are the events counted as dropped');
    t.equal(ledger.doubled, 0, 'no row doubled');
  });
});
