// Overload: a gateway offered far more than it can serve for 30 s (500 clients with 8 requests
// pipelined each, against a capacity of a few thousand a second here) keeps its memory and its
// connections to the upstream bounded, answers every request within the clients' 10 s, does not
// crash, and serves normally right after. The control plane under 500 concurrent REST calls
// answers every one and keeps its PostgreSQL pool within its size.
import t from 'tap';
import autocannon from 'autocannon';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from '../../test-support/ports.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { startNodeService, waitReady } from './helpers/processes.js';
import { startStack } from './helpers/stack.js';
import { startSteadyLoad } from './helpers/steady-load.js';
import { COMPOSE_REDIS_ARGS } from './helpers/fault-setup.js';

const OVERLOAD_SECONDS = 30;
// 4000 requests in flight over 500 connections. Node accepts one new connection per turn of its
// event loop, and a saturated gateway's turns are long: with 1000 clients connecting at once, the
// last few hundred waited in the kernel's accept queue for 4–10 s (docs/operations.md, "Connection
// storms"). That is a property of connecting, measured there; this test is about requests.
const OVERLOAD_CONNECTIONS = 500;
const OVERLOAD_PIPELINING = 8;
/** gateway/src/proxy/forward.ts: connections per upstream origin. */
const UPSTREAM_CONNECTIONS = 256;
/** Right after the overload, the gateway must answer a single request within this long again. */
const RECOVERY_BOUND_MS = 10_000;
/** The control plane's PostgreSQL pool (control-plane/src/db.ts). */
const POOL_SIZE = 10;
const REST_CALLS = 500;
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Established TCP connections to `port` (the gateway's to the upstream), from ss. The kernel's
 * table is read bucket by bucket, not as one snapshot: while connections churn (clients leaving
 * abort their upstream calls, which closes those connections and opens others for the waiting
 * requests), one being closed and its successor can both be listed.
 */
async function connectionsTo(port: number): Promise<number> {
  const { stdout } = await run('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`]);
  return stdout.split('\n').filter((line) => line.trim() !== '').length;
}
const megabytes = (bytes: number) => Math.round(bytes / 1048576);

const redis = await startRedisServer(COMPOSE_REDIS_ARGS);
const database = await createTestDatabase('faults_overload');
// The upstream in a process of its own: the test's process is busy being the load.
const upstreamPort = await freePort();
const upstream = startNodeService('upstream', 'launcher/demo-upstream-main.js', { DEMO_UPSTREAM_HOST: '127.0.0.1', DEMO_UPSTREAM_PORT: String(upstreamPort) });
await waitReady(`http://127.0.0.1:${upstreamPort}/`, upstream);
const stack = await startStack({ redis, databaseUrl: database.url, routes: { '/a': `http://127.0.0.1:${upstreamPort}` }, gateways: 1 });
const [gateway] = stack.gateways as [(typeof stack.gateways)[0]];
t.teardown(async () => {
  await stack.close();
  await upstream.stop();
  await redis.stop();
  await database.drop();
});

t.test(`a gateway offered far more than it can serve for ${OVERLOAD_SECONDS} s`, async (t) => {
  const key = await stack.createKey('overload-open', 1_000_000_000);
  const rssBefore = gateway.service.rssBytes();
  let rssPeak = rssBefore;
  // The gateway's own count, and the kernel's: one connection over the bound in a single ss
  // listing can be a closing one listed beside its successor, so the kernel's count is held
  // against the bound where two listings in a row agree (the lower of each pair).
  let reportedPeak = 0;
  const listed: number[] = [];
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, gateway.service.rssBytes());
    void connectionsTo(upstreamPort).then((count) => listed.push(count));
    void stack.gatewayMetric('tollgate_gateway_upstream_connections{route="a"}').then(
      (count) => (reportedPeak = Math.max(reportedPeak, count)),
      () => {},
    );
  }, 500);
  const result = await autocannon({
    url: `${gateway.url}/a/x`,
    headers: { 'x-api-key': key.secret },
    connections: OVERLOAD_CONNECTIONS,
    pipelining: OVERLOAD_PIPELINING,
    duration: OVERLOAD_SECONDS,
    timeout: 10,
  });
  clearInterval(sampler);
  const listedPeak = Math.max(0, ...listed);
  const heldPeak = Math.max(0, ...listed.slice(1).map((count, index) => Math.min(count, listed[index] ?? count)));
  const rssAfter = gateway.service.rssBytes();
  const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));

  // Right after: how long until one request is answered promptly again, then a steady 100 a second.
  const stoppedMs = Date.now();
  let recoveredMs = Number.POSITIVE_INFINITY;
  while (Date.now() - stoppedMs < RECOVERY_BOUND_MS * 2) {
    const sentMs = Date.now();
    const status = await fetch(`${gateway.url}/a/x`, { headers: { 'x-api-key': key.secret }, signal: AbortSignal.timeout(RECOVERY_BOUND_MS) }).then(
      async (response) => (await response.arrayBuffer(), response.status),
      () => 0,
    );
    if (status === 200 && Date.now() - sentMs < 200) {
      recoveredMs = sentMs - stoppedMs;
      break;
    }
  }
  const after = startSteadyLoad({ gateways: [gateway.url], keys: [{ label: 'open', secret: key.secret, weight: 1 }], paths: ['/a/x'], ratePerGateway: 100, timeoutSeconds: 10 });
  await sleep(3000);
  await after.stop();
  const afterStatuses = after.answers.reduce<Record<string, number>>((counts, answer) => ({ ...counts, [answer.status]: (counts[answer.status] ?? 0) + 1 }), {});
  const afterLongestMs = after.answers.reduce((longest, answer) => Math.max(longest, answer.answeredMs - answer.sentMs), 0);

  t.comment(`overload: ${OVERLOAD_CONNECTIONS} connections × pipelining ${OVERLOAD_PIPELINING} for ${OVERLOAD_SECONDS} s`);
  t.comment(`  ${Math.round(result.requests.average)} answers/s, status codes ${JSON.stringify(statuses)}, errors ${result.errors}, timeouts ${result.timeouts}`);
  t.comment(`  latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`);
  t.comment(`  gateway RSS before ${megabytes(rssBefore)} MB, peak ${megabytes(rssPeak)} MB, after ${megabytes(rssAfter)} MB; at most ${reportedPeak} connections to the upstream by its own count, ${heldPeak} held by the kernel's (${listedPeak} in one listing)`);
  t.comment(`  answering promptly again ${recoveredMs} ms after the load stopped; then ${JSON.stringify(afterStatuses)}, longest wait ${Math.round(afterLongestMs)} ms`);

  t.test('every answer is 200 or the documented 503 of an overloaded gateway', async (t) => {
    t.same(Object.keys(statuses).filter((code) => code !== '200' && code !== '503'), []);
    t.ok((statuses['200'] ?? 0) > 0, 'requests were served');
  });
  t.test('every request is answered within the clients\' 10 s', async (t) => {
    t.equal(result.timeouts, 0, `no timeout (p99 ${result.latency.p99} ms)`);
    t.equal(result.errors, 0, 'no connection error');
  });
  t.test('memory stays bounded (peak RSS under 1 GiB)', async (t) => {
    t.ok(rssPeak < 1024 * 1048576, `peak ${megabytes(rssPeak)} MB`);
  });
  t.test(`the gateway holds at most ${UPSTREAM_CONNECTIONS} connections to the upstream`, async (t) => {
    t.ok(reportedPeak <= UPSTREAM_CONNECTIONS, `at most ${reportedPeak} by its own count`);
    t.ok(heldPeak <= UPSTREAM_CONNECTIONS, `at most ${heldPeak} held by the kernel's count`);
    t.ok(reportedPeak > 0 && heldPeak > 0, 'the samplers saw them');
  });
  t.test(`the gateway does not crash and serves normally within ${RECOVERY_BOUND_MS / 1000} s of the load stopping`, async (t) => {
    t.same(stack.crashes, []);
    t.ok(recoveredMs <= RECOVERY_BOUND_MS, `a request answered promptly ${recoveredMs} ms after`);
    t.same(Object.keys(afterStatuses), ['200'], 'then only 200');
    t.ok(after.answers.length > 0);
    t.ok(afterLongestMs < 1000, `longest wait ${Math.round(afterLongestMs)} ms`);
  });
});

t.test(`the control plane under ${REST_CALLS} concurrent REST calls`, async (t) => {
  await stack.createKey('rest-burst', 1000);
  const sampler = postgres(database.url, { max: 1, onnotice: () => {}, connection: { application_name: 'faults-sampler' } });
  t.teardown(() => sampler.end({ timeout: 5 }));
  let poolPeak = 0;
  let sampling = true;
  const sampling$ = (async () => {
    while (sampling) {
      const [row] = await sampler<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name <> 'faults-sampler'`;
      poolPeak = Math.max(poolPeak, row?.n ?? 0);
      await sleep(20);
    }
  })();
  const calls = Array.from({ length: REST_CALLS }, (_, index) => {
    const kind = index % 5;
    if (kind === 0) return stack.admin('POST', '/v1/keys', { name: `burst-${index}`, tier: 'rest-burst' });
    if (kind === 1) return stack.admin('GET', '/v1/request-logs?limit=100');
    if (kind === 2) return stack.admin('GET', '/v1/tiers');
    return stack.admin('GET', '/v1/keys?limit=100');
  });
  const startedMs = Date.now();
  const outcomes = await Promise.allSettled(calls);
  const tookMs = Date.now() - startedMs;
  sampling = false;
  await sampling$;
  const failures = outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => String((outcome as PromiseRejectedResult).reason));
  const ready = await fetch(`${stack.controlPlaneUrl}/readyz`);
  t.comment(`${REST_CALLS} concurrent REST calls: ${REST_CALLS - failures.length} answered 2xx in ${tookMs} ms; database connections at most ${poolPeak} (pool of ${POOL_SIZE})`);
  t.comment(`  control plane RSS ${megabytes(stack.controlPlane.rssBytes())} MB`);

  t.test('every call is answered with success', async (t) => {
    t.same(failures.slice(0, 5), [], `${failures.length} failed`);
  });
  t.test(`the control plane holds at most its pool of ${POOL_SIZE} database connections`, async (t) => {
    t.ok(poolPeak <= POOL_SIZE, `at most ${poolPeak}`);
    t.ok(poolPeak > 0, 'the sampler saw the pool');
  });
  t.test('it stays ready and does not crash', async (t) => {
    t.equal(ready.status, 200);
    t.same(stack.crashes, []);
  });
});
