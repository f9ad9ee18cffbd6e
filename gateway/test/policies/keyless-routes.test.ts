// Routes without keys (auth: none): open to everyone, or limited per client address — the socket's,
// or X-Forwarded-For's when a trusted proxy sent it — with IPv6 clients grouped by their /64.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { TrustedProxies } from '../../../contracts/trusted-proxies.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { TestKeys } from '../helpers/keys.js';
import { limitedRoute, route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const keys = new TestKeys().tier('basic', [{ window: '1m', limit: 100 }]);
const key = keys.key();
const table = keys.table();

let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

async function gateway(t: Test, trusted = '127.0.0.1'): Promise<{ gw: TestGateway; sink: CollectingSink }> {
  const sink = new CollectingSink();
  const gw = await startTestGateway({
    routes: [
      limitedRoute('/signup', upstream.url, [{ window: '1m', limit: 2 }], { auth: 'none', limitBy: 'client_ip', algorithm: 'sliding_window', timezone: 'UTC' }),
      route('/status', upstream.url, { auth: 'none' }),
      route('/', upstream.url),
    ],
    keys: () => table,
    trustedProxies: TrustedProxies.parse(trusted),
    requestEvents: sink,
  });
  t.teardown(() => gw.close());
  return { gw, sink };
}

async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${gw.url}${path}`, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}

const from = (address: string) => ({ 'x-forwarded-for': address });

t.test('a keyless route without limits needs no key and the upstream learns of none', async (t) => {
  const { gw } = await gateway(t);
  const res = await get(gw, '/status', { 'x-tollgate-key-id': 'key_forged' });
  t.equal(res.status, 200);
  t.equal(res.body.headers['x-tollgate-key-id'], undefined, 'a forged key id is removed');
  t.equal(res.headers.ratelimit, undefined, 'nothing limits it, so no rate-limit fields');
  t.equal((await get(gw, '/private')).status, 401, 'keyed routes still need a key');
});

t.test('a keyless route limited by client address counts each address apart', async (t) => {
  const { gw } = await gateway(t);
  t.equal((await get(gw, '/signup', from('198.51.100.1'))).status, 200);
  const second = await get(gw, '/signup', from('198.51.100.1'));
  t.equal(second.status, 200);
  t.match(second.headers.ratelimit, /^"\/signup:1m";r=0;t=\d+$/, 'the client sees its own limit');
  const refused = await get(gw, '/signup', from('198.51.100.1'));
  t.equal(refused.status, 429);
  t.match(refused.body, { limit: { name: '/signup:1m', limit: 2, remaining: 0 } });
  t.ok(Number(refused.headers['retry-after']) >= 1);
  t.equal((await get(gw, '/signup', from('198.51.100.2'))).status, 200, 'another address has its own count');
});

t.test('X-Forwarded-For from an untrusted peer is ignored: the socket address is counted', async (t) => {
  const { gw } = await gateway(t, '');
  t.equal((await get(gw, '/signup', from('198.51.100.10'))).status, 200);
  t.equal((await get(gw, '/signup', from('198.51.100.11'))).status, 200);
  t.equal((await get(gw, '/signup', from('198.51.100.12'))).status, 429, 'rotating the header does not help');
});

t.test('IPv6 clients of one /64 share a count; another /64 has its own', async (t) => {
  const { gw } = await gateway(t);
  t.equal((await get(gw, '/signup', from('2001:db8:1:2::1'))).status, 200);
  t.equal((await get(gw, '/signup', from('2001:db8:1:2:ffff:ffff:ffff:fffe'))).status, 200);
  t.equal((await get(gw, '/signup', from('2001:db8:1:2:abcd::9'))).status, 429, 'a third address of the same /64');
  t.equal((await get(gw, '/signup', from('2001:db8:1:3::1'))).status, 200);
});

t.test('the request log records keyless requests with the client address and no key', async (t) => {
  const { gw, sink } = await gateway(t);
  for (let i = 0; i < 3; i += 1) await get(gw, '/signup', from('203.0.113.9'));
  const rows = sink.events.filter((event) => event.route === '/signup');
  t.same(
    rows.map((row) => [row.keyId, row.tier, row.clientIp, row.status, row.limited, row.limitedBy]),
    [
      [null, null, '203.0.113.9', 200, false, null],
      [null, null, '203.0.113.9', 200, false, null],
      [null, null, '203.0.113.9', 429, true, '/signup:1m'],
    ],
  );
});

t.test('a refusal on a keyless route is counted with tier none and kind client', async (t) => {
  const { gw } = await gateway(t);
  for (let i = 0; i < 3; i += 1) await get(gw, '/signup', from('203.0.113.77'));
  const metrics = await (await request(`${gw.opsUrl}/metrics`)).body.text();
  t.match(metrics, /tollgate_gateway_rate_limited_total\{tier="none",kind="client"\} 1/);
  t.notMatch(metrics, /203\.0\.113\.77/, 'no address in any label');
});

t.test('a key sent to a keyless route is neither needed nor charged', async (t) => {
  const { gw } = await gateway(t);
  await get(gw, '/status', { 'x-api-key': key.secret });
  const quota = await get(gw, '/_gateway/quota', { 'x-api-key': key.secret });
  t.equal(quota.body.limits[0].used, 0);
});
