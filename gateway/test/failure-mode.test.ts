// GATEWAY_FAILURE_MODE with a Redis of the test's own that is stopped, restarted empty and frozen:
// open forwards, closed answers 503, both recover by themselves, and /readyz and
// tollgate_gateway_redis_up follow Redis within 2 s.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { startRedisServer, type RedisServer } from '../../test-support/redis-server.js';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { eventually, metricValue } from './helpers/eventually.js';

const keys = new TestKeys().tier('basic', [{ window: '1m', limit: 1000 }]);
const key = keys.key();
const table = keys.table();

let redis: RedisServer;
let upstream: TestUpstream;
let open: TestGateway;
let closed: TestGateway;

t.before(async () => {
  redis = await startRedisServer();
  upstream = await startUpstream();
  const routes = [route('/', upstream.url, { name: 'default' })];
  // A budget well under the one-second answer the spec asks for, with room for a busy machine.
  const redisTimeoutMs = 400;
  open = await startTestGateway({ routes, keys: () => table, redisUrl: redis.url, failureMode: 'open', redisTimeoutMs });
  closed = await startTestGateway({ routes, keys: () => table, redisUrl: redis.url, failureMode: 'closed', redisTimeoutMs });
});

t.teardown(async () => {
  await open.close();
  await closed.close();
  await upstream.close();
  await redis.stop();
});

interface Answer {
  status: number;
  type: string | undefined;
  elapsedMs: number;
  headers: Record<string, string | string[] | undefined>;
}

async function status(gw: TestGateway, path = '/x'): Promise<Answer> {
  const started = Date.now();
  const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': key.secret } });
  await res.body.text();
  return { status: res.statusCode, type: res.headers['content-type'] as string | undefined, elapsedMs: Date.now() - started, headers: res.headers };
}

/** What a response made without a limiter decision carries: the policy and limit, no guesses. */
function checkUndecidedFields(t: Test, answer: Answer, retryAfter: string | undefined): void {
  t.equal(answer.headers['ratelimit-policy'], '"1m";q=1000;w=60', 'the key\'s policy');
  t.equal(answer.headers['x-ratelimit-limit'], '1000', 'the limit');
  t.equal(answer.headers.ratelimit, undefined, 'no remaining quota is guessed');
  t.equal(answer.headers['x-ratelimit-remaining'], undefined);
  t.equal(answer.headers['retry-after'], retryAfter);
}

async function readyz(gw: TestGateway): Promise<number> {
  const res = await request(`${gw.opsUrl}/readyz`);
  await res.body.text();
  return res.statusCode;
}

async function metrics(gw: TestGateway): Promise<string> {
  const res = await request(`${gw.opsUrl}/metrics`);
  return res.body.text();
}

const redisUp = async (gw: TestGateway): Promise<number | undefined> =>
  metricValue(await metrics(gw), 'tollgate_gateway_redis_up');

t.test('with Redis up both modes admit and report ready', async (t) => {
  t.equal((await status(open)).status, 200);
  t.equal((await status(closed)).status, 200);
  t.equal(await eventually(() => readyz(open), (code) => code === 200, 2000), 200);
  t.equal(await eventually(() => redisUp(closed), (value) => value === 1, 2000), 1);
});

t.test('with Redis stopped, open forwards and closed answers 503; readiness follows within 2 s', async (t) => {
  await redis.stop();
  const forwarded = await status(open);
  t.equal(forwarded.status, 200, 'open forwards');
  t.ok(forwarded.elapsedMs < 1000, 'and answers within a second');
  const refused = await status(closed);
  t.equal(refused.status, 503, 'closed refuses');
  t.equal(refused.type, 'application/problem+json');
  t.ok(refused.elapsedMs < 1000);
  t.test('the forwarded response carries the fields that need no decision', async (t) => checkUndecidedFields(t, forwarded, undefined));
  t.test('the 503 carries them and Retry-After: 1', async (t) => checkUndecidedFields(t, refused, '1'));
  t.test('the quota endpoint answers 503 with the same fields', async (t) => {
    const quota = await status(open, '/_gateway/quota');
    t.equal(quota.status, 503);
    checkUndecidedFields(t, quota, '1');
  });
  t.equal(await eventually(() => readyz(open), (code) => code === 503, 2000), 503);
  t.equal(await eventually(() => redisUp(closed), (value) => value === 0, 2000), 0);
  const text = await metrics(open);
  t.ok((metricValue(text, 'tollgate_gateway_store_errors_total') ?? 0) >= 1, 'store errors are counted');
  t.ok((metricValue(text, 'tollgate_gateway_failopen_total') ?? 0) >= 1, 'fail-open requests are counted');
});

t.test('after Redis restarts, both modes recover by themselves', async (t) => {
  await redis.start();
  t.equal(await eventually(() => redisUp(closed), (value) => value === 1, 2000), 1);
  t.equal(await eventually(() => readyz(closed), (code) => code === 200, 2000), 200);
  t.equal((await eventually(() => status(closed), (res) => res.status === 200, 2000)).status, 200);
  t.equal((await status(open)).status, 200);
});

t.test('with Redis frozen, open forwards and closed answers 503 within about a second', async (t) => {
  redis.freeze();
  t.teardown(() => redis.thaw());
  const forwarded = await status(open);
  t.equal(forwarded.status, 200);
  t.ok(forwarded.elapsedMs < 1000);
  const refused = await status(closed);
  t.equal(refused.status, 503);
  t.ok(refused.elapsedMs < 1000);
  t.equal(await eventually(() => readyz(closed), (code) => code === 503, 2000), 503);
  t.equal(await eventually(() => redisUp(open), (value) => value === 0, 2000), 0);
  redis.thaw();
  t.equal(await eventually(() => redisUp(closed), (value) => value === 1, 2000), 1);
  t.equal((await eventually(() => status(closed), (res) => res.status === 200, 2000)).status, 200);
});
