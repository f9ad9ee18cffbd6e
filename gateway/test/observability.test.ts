// The ops port (/healthz, /readyz, /metrics), the metric names and labels the gateway promises,
// and log redaction.
import t from 'tap';
import { request } from 'undici';
import { emptyKeyTable } from '../src/keys/cache.js';
import type { KeyTable } from '../src/keys/key-record.js';
import { createLogger } from '../src/log.js';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { metricValue } from './helpers/eventually.js';

const keys = new TestKeys().tier('basic', [{ window: '1m', limit: 100 }]).tier('tiny', [{ window: '1m', limit: 1 }]);
const basic = keys.key({ tier: 'basic' });
keys.key({ tier: 'basic' });
keys.key({ tier: 'basic', active: false });
const tiny = keys.key({ tier: 'tiny' });
const loaded = keys.table(42);
let current: KeyTable = emptyKeyTable();

let upstream: TestUpstream;
let gw: TestGateway;

t.before(async () => {
  upstream = await startUpstream();
  gw = await startTestGateway({
    routes: [route('/', upstream.url, { name: 'default' }), route('/orders', upstream.url, { name: 'orders' })],
    keys: () => current,
  });
});

t.teardown(async () => {
  await gw.close();
  await upstream.close();
});

async function ops(path: string): Promise<{ status: number; text: string; type: string | undefined }> {
  const res = await request(gw.opsUrl + path);
  return { status: res.statusCode, text: await res.body.text(), type: res.headers['content-type'] as string | undefined };
}

async function call(path: string, secret: string, method = 'GET'): Promise<number> {
  const res = await request(gw.url + path, { method, headers: { 'x-api-key': secret } });
  await res.body.text();
  return res.statusCode;
}

t.test('/healthz answers 200 while the process runs', async (t) => {
  t.equal((await ops('/healthz')).status, 200);
});

t.test('/readyz is 503 until the key table is loaded, then 200', async (t) => {
  t.equal((await ops('/readyz')).status, 503);
  current = loaded;
  const ready = await ops('/readyz');
  t.equal(ready.status, 200);
  t.same(JSON.parse(ready.text), { status: 'ready', store: 'redis', redis: 'up', keys: 'loaded' }, 'Redis named as the store');
});

t.test('/metrics exposes every gateway metric of the spec', async (t) => {
  current = loaded;
  await call('/x', basic.secret);
  const { status, text, type } = await ops('/metrics');
  t.equal(status, 200);
  t.match(type, /^text\/plain/);
  for (const name of [
    'tollgate_gateway_requests_total',
    'tollgate_gateway_rate_limited_total',
    'tollgate_gateway_request_duration_seconds',
    'tollgate_gateway_upstream_duration_seconds',
    'tollgate_gateway_ratelimit_check_duration_seconds',
    'tollgate_gateway_redis_up',
    'tollgate_gateway_store_errors_total',
    'tollgate_gateway_active_keys',
    'tollgate_gateway_config_version',
    'tollgate_gateway_failopen_total',
    'tollgate_gateway_request_log_dropped_total',
    'tollgate_gateway_upstream_connections',
    'tollgate_gateway_upstream_waiting_requests',
  ]) {
    t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});

t.test('requests are counted by route name, normalised method and code', async (t) => {
  current = loaded;
  await call('/orders/1', basic.secret);
  await call('/orders/2', basic.secret, 'PROPFIND');
  await call('/orders/3', 'tg_nobodynobodynobodynobodynobody');
  const { text } = await ops('/metrics');
  t.ok((metricValue(text, 'tollgate_gateway_requests_total{route="orders",method="GET",code="200"}') ?? 0) >= 1);
  t.ok((metricValue(text, 'tollgate_gateway_requests_total{route="orders",method="OTHER",code="200"}') ?? 0) >= 1);
  t.ok((metricValue(text, 'tollgate_gateway_requests_total{route="orders",method="GET",code="401"}') ?? 0) >= 1);
  t.ok((metricValue(text, 'tollgate_gateway_request_duration_seconds_count{route="orders"}') ?? 0) >= 3);
  t.ok((metricValue(text, 'tollgate_gateway_upstream_duration_seconds_count{route="orders"}') ?? 0) >= 2);
});

t.test('a 429 is counted by tier and the kind of limit that refused it', async (t) => {
  current = loaded;
  await call('/x', tiny.secret);
  t.equal(await call('/x', tiny.secret), 429);
  const { text } = await ops('/metrics');
  t.equal(metricValue(text, 'tollgate_gateway_rate_limited_total{tier="tiny",kind="key"}'), 1);
});

t.test('active keys per tier and the config version come from the key table', async (t) => {
  current = loaded;
  const { text } = await ops('/metrics');
  t.equal(metricValue(text, 'tollgate_gateway_active_keys{tier="basic"}'), 2, 'the inactive key is not counted');
  t.equal(metricValue(text, 'tollgate_gateway_active_keys{tier="tiny"}'), 1);
  t.equal(metricValue(text, 'tollgate_gateway_config_version'), 42);
  t.equal(metricValue(text, 'tollgate_gateway_redis_up'), 1);
});

t.test("each route reports the connections kept to its upstream, and none waiting when idle", async (t) => {
  current = loaded;
  await call('/orders/1', basic.secret);
  const { text } = await ops('/metrics');
  t.equal(metricValue(text, 'tollgate_gateway_upstream_connections{route="orders"}'), 1, 'one kept-alive connection');
  t.equal(metricValue(text, 'tollgate_gateway_upstream_waiting_requests{route="orders"}'), 0);
});

t.test('the limiter check histogram has sub-millisecond buckets', async (t) => {
  const { text } = await ops('/metrics');
  t.match(text, /tollgate_gateway_ratelimit_check_duration_seconds_bucket\{le="0\.0001"\}/);
  t.match(text, /tollgate_gateway_ratelimit_check_duration_seconds_bucket\{le="0\.0005"\}/);
});

t.test('no label holds a key id, a secret, a raw path or an IP address', async (t) => {
  current = loaded;
  await call('/orders/secret-path-123', basic.secret);
  const { text } = await ops('/metrics');
  const gatewayLines = text.split('\n').filter((line) => line.startsWith('tollgate_gateway_') && line.includes('{'));
  t.ok(gatewayLines.length > 0);
  t.same(
    gatewayLines.filter((line) => /key_test|tg_|secret-path|127\.0\.0\.1|::1/.test(line)),
    [],
  );
  const routes = new Set(gatewayLines.flatMap((line) => /route="([^"]*)"/.exec(line)?.[1] ?? []));
  t.same(
    [...routes].filter((name) => !['_gateway', 'default', 'none', 'orders'].includes(name)),
    [],
    'route labels come from the configured names only',
  );
});

t.test('log lines never carry authorization, x-api-key, secret, password or token values', async (t) => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(line) });
  logger.info(
    {
      headers: { authorization: 'Bearer tg_leak1', 'x-api-key': 'tg_leak2' },
      secret: 'tg_leak3',
      password: 'leak4',
      token: 'leak5',
      key: { secret: 'tg_leak6' },
    },
    'request',
  );
  t.equal(lines.length, 1);
  t.notMatch(lines[0] ?? '', /leak/);
  t.match(lines[0] ?? '', /\[redacted\]/);
});
