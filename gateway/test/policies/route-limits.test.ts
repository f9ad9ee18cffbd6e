// Limits on a route, on top of the key's own: decided with them in the one limiter call, named
// after the route in every answer, and overridden per tier.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { TestKeys, type TestKey } from '../helpers/keys.js';
import { limitedRoute, route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const keys = new TestKeys()
  .tier('basic', [{ window: '1m', limit: 100 }])
  .tier('reporting', [{ window: '1m', limit: 100 }], 'sliding_window', { route_limits: { '/reports': [{ window: '1m', limit: 5 }] } });
// One key per test, made before the table is built (the table is a snapshot, as the feed's are).
const basic = Array.from({ length: 5 }, () => keys.key({ tier: 'basic' }));
const reporting = keys.key({ tier: 'reporting' });
const table = keys.table();

let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

async function gateway(t: Test): Promise<TestGateway> {
  const gw = await startTestGateway({
    routes: [limitedRoute('/reports', upstream.url, [{ window: '1m', limit: 2 }]), route('/orders', upstream.url)],
    keys: () => table,
  });
  t.teardown(() => gw.close());
  return gw;
}

async function get(gw: TestGateway, path: string, secret: string) {
  const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': secret } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}

t.test("a route's limit refuses its requests once spent, while the key's other routes go on", async (t) => {
  const gw = await gateway(t);
  const key = basic[0] as TestKey;
  t.equal((await get(gw, '/reports', key.secret)).status, 200);
  t.equal((await get(gw, '/reports', key.secret)).status, 200);
  const refused = await get(gw, '/reports', key.secret);
  t.equal(refused.status, 429);
  t.match(refused.body, { type: /\/rate-limited$/, limit: { name: '/reports:1m', window: '1m', limit: 2, remaining: 0 } });
  t.equal((await get(gw, '/orders', key.secret)).status, 200, 'the route limit is not the key limit');
});

t.test("the rate-limit fields list the key's limits and the route's, named after the route", async (t) => {
  const gw = await gateway(t);
  const key = basic[1] as TestKey;
  const res = await get(gw, '/reports', key.secret);
  t.equal(res.headers['ratelimit-policy'], '"1m";q=100;w=60, "/reports:1m";q=2;w=60');
  t.match(res.headers.ratelimit, /^"1m";r=99;t=\d+, "\/reports:1m";r=1;t=\d+$/);
  t.equal(res.headers['x-ratelimit-limit'], '2', 'the tightest is the route limit');
  t.equal((await get(gw, '/orders', key.secret)).headers['ratelimit-policy'], '"1m";q=100;w=60', 'other routes show only the key limit');
});

t.test('a request on a limited route costs one limiter call, all limits decided together', async (t) => {
  const gw = await gateway(t);
  const key = basic[2] as TestKey;
  const before = gw.store.scriptCalls;
  for (let i = 0; i < 3; i += 1) await get(gw, '/reports', key.secret);
  t.equal(gw.store.scriptCalls - before, 3, 'one call per request, refused ones included');
  // The refused third request consumed nothing: the key's own limit counts two.
  t.match((await get(gw, '/orders', key.secret)).headers.ratelimit, /^"1m";r=97;/);
});

t.test("a tier's own limits for a route replace the routes file's for its keys", async (t) => {
  const gw = await gateway(t);
  const key = reporting;
  const res = await get(gw, '/reports', key.secret);
  t.equal(res.headers['ratelimit-policy'], '"1m";q=100;w=60, "/reports:1m";q=5;w=60');
  for (let i = 0; i < 4; i += 1) t.equal((await get(gw, '/reports', key.secret)).status, 200);
  t.equal((await get(gw, '/reports', key.secret)).status, 429, 'the sixth is refused by the tier limit of 5');
});

t.test('the quota lists every limit with its name, and one route with ?route=', async (t) => {
  const gw = await gateway(t);
  const key = basic[3] as TestKey;
  await get(gw, '/reports', key.secret);
  const all = await get(gw, '/_gateway/quota', key.secret);
  t.equal(all.status, 200);
  t.same(
    all.body.limits.map((limit: { name: string; used: number }) => [limit.name, limit.used]),
    [
      ['1m', 1],
      ['/reports:1m', 1],
    ],
  );
  const orders = await get(gw, '/_gateway/quota?route=/orders', key.secret);
  t.same(orders.body.limits.map((limit: { name: string }) => limit.name), ['1m']);
  const unknown = await get(gw, '/_gateway/quota?route=/nowhere', key.secret);
  t.equal(unknown.status, 404);
});

t.test('the quota answers would_admit for a request of a given cost, consuming nothing', async (t) => {
  const gw = await gateway(t);
  const key = basic[4] as TestKey;
  await get(gw, '/reports', key.secret);
  t.equal((await get(gw, '/_gateway/quota?cost=1&route=/reports', key.secret)).body.would_admit, true);
  t.equal((await get(gw, '/_gateway/quota?cost=2&route=/reports', key.secret)).body.would_admit, false, 'one unit left on /reports');
  t.equal((await get(gw, '/_gateway/quota?cost=99&route=/orders', key.secret)).body.would_admit, true);
  t.equal((await get(gw, '/_gateway/quota?cost=101', key.secret)).body.would_admit, false, 'more than the key limit');
  t.equal((await get(gw, '/_gateway/quota', key.secret)).body.would_admit, undefined, 'not asked, not answered');
  t.equal((await get(gw, '/reports', key.secret)).status, 200, 'the quota reads consumed nothing');
  for (const cost of ['0', '-1', '1.5', 'x', '1e3']) t.equal((await get(gw, `/_gateway/quota?cost=${cost}`, key.secret)).status, 400, `cost=${cost}`);
});
