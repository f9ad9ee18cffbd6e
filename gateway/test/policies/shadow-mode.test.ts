// Shadow mode: every limit is evaluated as in enforce mode, but a request over a limit is forwarded
// anyway, consumes nothing, is counted, and is marked in the request log. The client sees the same
// rate-limit fields it would get if the limit were enforced.
import t, { type Test } from 'tap';
import { request } from 'undici';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { metricValue } from '../helpers/eventually.js';
import { TestKeys } from '../helpers/keys.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const keys = new TestKeys()
  .tier('trial', [{ window: '1m', limit: 2 }], 'sliding_window', { mode: 'shadow' })
  .tier('strict', [{ window: '1m', limit: 2 }]);
const shadowTierKey = keys.key({ tier: 'trial' });
const enforcedKeyOfShadowTier = keys.key({ tier: 'trial', mode: 'enforce' });
const shadowKeyOfStrictTier = keys.key({ tier: 'strict', mode: 'shadow' });
const strictKey = keys.key({ tier: 'strict' });
const costly = keys.key({ tier: 'trial' });
const table = keys.table();

let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

async function gateway(t: Test): Promise<{ gw: TestGateway; sink: CollectingSink }> {
  const sink = new CollectingSink();
  const gw = await startTestGateway({ routes: [route('/big', upstream.url, { cost: 2 }), route('/', upstream.url)], keys: () => table, requestEvents: sink });
  t.teardown(() => gw.close());
  return { gw, sink };
}

async function get(gw: TestGateway, secret: string, path = '/x') {
  const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': secret } });
  await res.body.text();
  return { status: res.statusCode, headers: res.headers };
}

t.test('a shadow tier forwards requests over its limit with the fields enforcing would give', async (t) => {
  const { gw } = await gateway(t);
  const answers = [];
  for (let i = 0; i < 4; i += 1) answers.push(await get(gw, shadowTierKey.secret));
  t.same(answers.map((one) => one.status), [200, 200, 200, 200], 'nothing is refused');
  t.equal(upstream.received.filter((one) => one.headers['x-tollgate-key-id'] === shadowTierKey.id).length, 4, 'all reached the upstream');
  const over = answers[3];
  t.match(over?.headers.ratelimit, /^"1m";r=0;t=\d+$/, 'the client sees its limit is spent');
  t.equal(over?.headers['x-ratelimit-remaining'], '0');
  t.equal(over?.headers['retry-after'], undefined, 'no Retry-After on a forwarded answer');
});

t.test('a request over a shadow limit consumes nothing: the counters show what enforcing would do', async (t) => {
  const { gw } = await gateway(t);
  t.equal((await get(gw, costly.secret, '/big')).status, 200, 'two of two units');
  t.equal((await get(gw, costly.secret, '/big')).status, 200, 'over, forwarded');
  const quota = await request(`${gw.url}/_gateway/quota`, { headers: { 'x-api-key': costly.secret } });
  const body = (await quota.body.json()) as { mode: string; limits: { used: number }[] };
  t.equal(body.mode, 'shadow');
  t.equal(body.limits[0]?.used, 2, 'the forwarded excess was not counted');
});

t.test('shadow refusals are counted per tier and marked in the request log with the limit that would refuse', async (t) => {
  const { gw, sink } = await gateway(t);
  for (let i = 0; i < 3; i += 1) await get(gw, shadowTierKey.secret, '/log');
  const metrics = await (await request(`${gw.opsUrl}/metrics`)).body.text();
  t.ok((metricValue(metrics, 'tollgate_gateway_shadow_limited_total{tier="trial"}') ?? 0) >= 1);
  t.equal(metricValue(metrics, 'tollgate_gateway_rate_limited_total{tier="trial",kind="key"}'), undefined, 'no 429 was counted');
  const rows = sink.events.filter((event) => event.keyId === shadowTierKey.id);
  t.same(rows.at(-1) && [rows.at(-1)?.status, rows.at(-1)?.limited, rows.at(-1)?.shadowLimited, rows.at(-1)?.limitedBy], [200, false, true, '1m']);
});

t.test("a key's mode overrides its tier's, both ways", async (t) => {
  const { gw } = await gateway(t);
  const statuses = async (secret: string) => {
    const seen = [];
    for (let i = 0; i < 3; i += 1) seen.push((await get(gw, secret)).status);
    return seen;
  };
  t.same(await statuses(enforcedKeyOfShadowTier.secret), [200, 200, 429], 'enforce on a shadow tier');
  t.same(await statuses(shadowKeyOfStrictTier.secret), [200, 200, 200], 'shadow on an enforcing tier');
  t.same(await statuses(strictKey.secret), [200, 200, 429], 'the enforcing tier itself');
});
