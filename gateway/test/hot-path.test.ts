// The hot path end to end: key checks, routing and the headers the upstream and the client see,
// with the real Redis limiter and real upstream servers.
import t from 'tap';
import { request } from 'undici';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { rawHttp, rawHeader } from './helpers/raw-http.js';

const keys = new TestKeys().tier('basic', [
  { window: '1m', limit: 50 },
  { window: '1h', limit: 100 },
]);
const valid = keys.key();
const inactive = keys.key({ active: false });
const expired = keys.key({ expiresAt: '2020-01-01T00:00:00.000Z' });
const later = keys.key({ expiresAt: '2100-01-01T00:00:00.000Z' });
const fresh = keys.key();
const table = keys.table();

let api: TestUpstream;
let orders: TestUpstream;
let gw: TestGateway;

t.before(async () => {
  api = await startUpstream();
  orders = await startUpstream((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, {
        'content-type': 'application/json',
        connection: 'close, x-hop',
        'x-hop': 'secret-hop',
        'keep-alive': 'timeout=5',
        'x-kept': 'yes',
      });
      res.end(JSON.stringify({ url: req.url }));
    });
  });
  gw = await startTestGateway({
    routes: [
      route('/api', api.url, { name: 'api' }),
      route('/orders', orders.url, { name: 'orders' }),
      route('/orders/bulk', `${orders.url}/v2`, { name: 'bulk', stripPrefix: true }),
    ],
    keys: () => table,
  });
});

t.teardown(async () => {
  await gw.close();
  await api.close();
  await orders.close();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await request(gw.url + path, { headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text };
}

t.test('a request without a key is refused with 401 problem+json', async (t) => {
  const res = await get('/api/anything');
  t.equal(res.status, 401);
  t.equal(res.headers['content-type'], 'application/problem+json');
  const body = JSON.parse(res.text);
  t.equal(body.status, 401);
  t.type(body.type, 'string');
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
});

t.test('an unknown key is refused with 401', async (t) => {
  t.equal((await get('/api/anything', { 'x-api-key': 'tg_unknownunknownunknownunknownunknown' })).status, 401);
});

t.test('an inactive key is refused with 401', async (t) => {
  t.equal((await get('/api/anything', { 'x-api-key': inactive.secret })).status, 401);
});

t.test('an expired key is refused with 401', async (t) => {
  t.equal((await get('/api/anything', { 'x-api-key': expired.secret })).status, 401);
});

t.test('a key expiring in the future is admitted', async (t) => {
  t.equal((await get('/api/anything', { 'x-api-key': later.secret })).status, 200);
});

t.test('a key in Authorization: Bearer is accepted', async (t) => {
  const res = await get('/api/hello', { authorization: `Bearer ${valid.secret}` });
  t.equal(res.status, 200);
  t.equal(res.headers['x-upstream'], 'yes');
});

t.test('the longest matching prefix wins and strip_prefix removes it', async (t) => {
  const a = await get('/orders/1?x=1', { 'x-api-key': valid.secret });
  t.equal(JSON.parse(a.text).url, '/orders/1?x=1');
  const b = await get('/orders/bulk/7?y=2', { 'x-api-key': valid.secret });
  t.equal(b.status, 200);
  t.equal(JSON.parse(b.text).url, '/v2/7?y=2', 'prefix stripped, upstream base path kept');
  const c = await get('/orders/bulk?z=3', { 'x-api-key': valid.secret });
  t.equal(JSON.parse(c.text).url, '/v2/?z=3');
});

t.test('a path that matches no route answers 404 problem+json', async (t) => {
  const res = await get('/ordersx', { 'x-api-key': valid.secret });
  t.equal(res.status, 404);
  t.equal(res.headers['content-type'], 'application/problem+json');
  t.ok(res.headers['ratelimit-policy'], 'a valid key still gets its rate-limit fields');
});

t.test('a path under /_gateway/ other than quota is 404 and never proxied', async (t) => {
  const seen = api.received.length + orders.received.length;
  t.equal((await get('/_gateway/other', { 'x-api-key': valid.secret })).status, 404);
  t.equal(api.received.length + orders.received.length, seen);
});

t.test('an admitted response carries the draft-10 and X-RateLimit headers', async (t) => {
  const res = await get('/api/a', { 'x-api-key': fresh.secret });
  t.equal(res.status, 200);
  t.equal(res.headers['ratelimit-policy'], '"1m";q=50;w=60, "1h";q=100;w=3600');
  t.match(res.headers['ratelimit'], /^"1m";r=49;t=\d+, "1h";r=99;t=\d+$/);
  t.equal(res.headers['x-ratelimit-limit'], '50');
  t.equal(res.headers['x-ratelimit-remaining'], '49');
  t.match(res.headers['x-ratelimit-reset'], /^\d+$/);
});

t.test('the upstream gets the key id and tier, X-Forwarded-* and Via, but not the key or hop-by-hop headers', async (t) => {
  const before = api.received.length;
  const res = await rawHttp(
    gw.port,
    'GET /api/check?q=1 HTTP/1.1\r\n' +
      'Host: public.example\r\n' +
      `X-API-Key: ${valid.secret}\r\n` +
      'X-Tollgate-Key-Id: key_spoofed\r\n' +
      'X-Tollgate-Tier: enterprise\r\n' +
      'X-Tollgate-Anything: spoof\r\n' +
      'Connection: close, X-Custom-Hop\r\n' +
      'X-Custom-Hop: 1\r\n' +
      'Keep-Alive: timeout=5\r\n' +
      'TE: trailers\r\n' +
      'Proxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
      'X-Forwarded-For: 203.0.113.9\r\n' +
      'Via: 1.0 client-proxy\r\n' +
      'X-Other: kept\r\n' +
      '\r\n',
  );
  t.equal(res.status, 200);
  t.equal(api.received.length, before + 1);
  const headers = api.received.at(-1)?.headers ?? {};
  t.equal(headers['x-api-key'], undefined);
  t.equal(headers['x-tollgate-key-id'], valid.id);
  t.equal(headers['x-tollgate-tier'], 'basic');
  t.equal(headers['x-tollgate-anything'], undefined);
  t.equal(headers['x-custom-hop'], undefined);
  t.equal(headers['keep-alive'], undefined);
  t.equal(headers.te, undefined);
  t.equal(headers['proxy-authorization'], undefined);
  t.not(headers.connection, 'close, X-Custom-Hop');
  t.equal(headers['x-forwarded-for'], '127.0.0.1', "an untrusted client's X-Forwarded-For is not passed on");
  t.equal(headers['x-forwarded-proto'], 'http');
  t.equal(headers['x-forwarded-host'], 'public.example');
  t.equal(headers.via, '1.0 client-proxy, 1.1 tollgate');
  t.equal(headers['x-other'], 'kept');
  t.equal(api.received.at(-1)?.url, '/api/check?q=1');
});

t.test('a Bearer tg_ key is removed but another Authorization scheme reaches the upstream', async (t) => {
  await get('/api/bearer', { authorization: `Bearer ${valid.secret}` });
  t.equal(api.received.at(-1)?.headers.authorization, undefined);
  await get('/api/basic', { 'x-api-key': valid.secret, authorization: 'Basic dXNlcjpwYXNz' });
  t.equal(api.received.at(-1)?.headers.authorization, 'Basic dXNlcjpwYXNz');
});

t.test('hop-by-hop headers of the upstream response do not reach the client', async (t) => {
  const res = await rawHttp(gw.port, `GET /orders/hop HTTP/1.1\r\nHost: x\r\nX-API-Key: ${valid.secret}\r\nConnection: close\r\n\r\n`);
  t.equal(res.status, 200);
  t.equal(rawHeader(res.text, 'x-hop'), undefined);
  t.equal(rawHeader(res.text, 'keep-alive'), undefined);
  t.equal(rawHeader(res.text, 'x-kept'), 'yes');
});
