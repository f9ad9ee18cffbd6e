// Limits through the gateway with the real Redis store: 429s with their headers, route cost, and
// the quota endpoint that reads without consuming.
import t from 'tap';
import { request } from 'undici';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';

const keys = new TestKeys()
  .tier('tiny', [{ window: '1m', limit: 2 }])
  .tier('five', [
    { window: '1m', limit: 5 },
    { window: '1h', limit: 100 },
  ]);
const tiny = keys.key({ tier: 'tiny' });
const costly = keys.key({ tier: 'five' });
const quota = keys.key({ tier: 'five' });
const table = keys.table();

let upstream: TestUpstream;
let gw: TestGateway;

t.before(async () => {
  upstream = await startUpstream();
  gw = await startTestGateway({
    routes: [route('/', upstream.url, { name: 'default' }), route('/heavy', upstream.url, { name: 'heavy', cost: 3 })],
    keys: () => table,
  });
});

t.teardown(async () => {
  await gw.close();
  await upstream.close();
});

async function get(path: string, secret: string) {
  const res = await request(gw.url + path, { headers: { 'x-api-key': secret } });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

t.test('past its limit a key gets 429 problem+json with Retry-After and draft-10 fields', async (t) => {
  t.equal((await get('/a', tiny.secret)).status, 200);
  t.equal((await get('/a', tiny.secret)).status, 200);
  const seen = upstream.received.length;
  const res = await get('/a', tiny.secret);
  t.equal(res.status, 429);
  t.equal(res.headers['content-type'], 'application/problem+json');
  t.equal(JSON.parse(res.text).status, 429);
  const retryAfter = Number(res.headers['retry-after']);
  t.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120, `Retry-After ${retryAfter}`);
  t.equal(res.headers['ratelimit-policy'], '"1m";q=2;w=60');
  t.match(res.headers['ratelimit'], /^"1m";r=0;t=\d+$/);
  t.equal(res.headers['x-ratelimit-limit'], '2');
  t.equal(res.headers['x-ratelimit-remaining'], '0');
  t.equal(upstream.received.length, seen, 'the rejected request never reached the upstream');
});

t.test('a route with cost 3 consumes three units per request', async (t) => {
  const first = await get('/heavy/x', costly.secret);
  t.equal(first.status, 200);
  t.match(first.headers['ratelimit'], /^"1m";r=2;t=\d+, "1h";r=97;t=\d+$/);
  const second = await get('/heavy/x', costly.secret);
  t.equal(second.status, 429, 'three more units do not fit in the two left');
  const cheap = await get('/cheap', costly.secret);
  t.equal(cheap.status, 200, 'the rejected request consumed nothing');
  t.match(cheap.headers['ratelimit'], /^"1m";r=1;t=\d+/);
});

t.test('GET /_gateway/quota reports the limits and consumes nothing', async (t) => {
  const seen = upstream.received.length;
  const before = await get('/_gateway/quota', quota.secret);
  t.equal(before.status, 200);
  t.equal(before.headers['content-type'], 'application/json');
  const body = JSON.parse(before.text);
  t.equal(body.key_id, quota.id);
  t.equal(body.tier, 'five');
  t.same(
    body.limits.map((item: { window: string; limit: number; used: number; remaining: number }) => [
      item.window,
      item.limit,
      item.used,
      item.remaining,
    ]),
    [
      ['1m', 5, 0, 5],
      ['1h', 100, 0, 100],
    ],
  );
  t.type(body.limits[0].reset_seconds, 'number');
  const again = JSON.parse((await get('/_gateway/quota', quota.secret)).text);
  t.equal(again.limits[0].used, 0, 'reading the quota twice used nothing');
  t.equal((await get('/x', quota.secret)).status, 200);
  const after = JSON.parse((await get('/_gateway/quota', quota.secret)).text);
  t.equal(after.limits[0].used, 1);
  t.equal(after.limits[0].remaining, 4);
  t.equal(upstream.received.length, seen + 1, 'the quota endpoint was never proxied');
});

t.test('the quota endpoint needs a valid key', async (t) => {
  const res = await request(gw.url + '/_gateway/quota');
  await res.body.text();
  t.equal(res.statusCode, 401);
});
