// Hostile request targets and framing at the public port: each gets a clear problem+json answer
// (or a closed connection where HTTP requires it), and nothing reaches an upstream it should not.
import t from 'tap';
import { TestKeys } from '../helpers/keys.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rawHttp, rawHeader } from '../helpers/raw-http.js';

const keys = new TestKeys().tier('basic', [{ window: '1h', limit: 1000 }]);
const key = keys.key();
const other = keys.key();
const table = keys.table();

let orders: TestUpstream;
let reports: TestUpstream;
let gw: TestGateway;

t.before(async () => {
  orders = await startUpstream();
  reports = await startUpstream();
  gw = await startTestGateway({
    routes: [route('/orders', orders.url), route('/reports', reports.url, { stripPrefix: true })],
    keys: () => table,
  });
});

t.teardown(async () => {
  await gw.close();
  await orders.close();
  await reports.close();
});

/**
 * One raw request with the key; the response and what each upstream received meanwhile. It asks
 * for `Connection: close` (so the read ends with the response) unless `keepAlive`, where whether the
 * gateway closes the connection is the point.
 */
async function send(requestLine: string, extraHeaders = '', body = '', keepAlive = false) {
  const before = { orders: orders.received.length, reports: reports.received.length };
  const close = keepAlive ? '' : 'Connection: close\r\n';
  const res = await rawHttp(gw.port, `${requestLine}\r\nHost: gw.example\r\nX-API-Key: ${key.secret}\r\n${close}${extraHeaders}\r\n${body}`);
  return {
    res,
    orders: orders.received.slice(before.orders),
    reports: reports.received.slice(before.reports),
    problem: () => JSON.parse(res.text.slice(res.text.indexOf('\r\n\r\n') + 4)) as { type: string; status: number },
  };
}

t.test('dot segments are resolved before routing: /orders/../admin does not reach /orders', async (t) => {
  const sent = await send('GET /orders/../admin HTTP/1.1');
  t.equal(sent.res.status, 404, 'it is /admin, which no route serves');
  t.same(sent.orders, []);
});

t.test('dot segments within a route are resolved, and the upstream gets the resolved path', async (t) => {
  const sent = await send('GET /orders/a/./b/../c?x=1 HTTP/1.1');
  t.equal(sent.res.status, 200);
  t.equal(sent.orders[0]?.url, '/orders/a/c?x=1');
});

t.test('climbing above the root through a stripped prefix is refused', async (t) => {
  const sent = await send('GET /reports/../../secret HTTP/1.1');
  t.equal(sent.res.status, 400);
  t.equal(sent.problem().type, 'https://tollgate.dev/problems/invalid-path');
  t.same(sent.reports, [], 'nothing reached the upstream');
});

t.test('encoded dots count as dots', async (t) => {
  const sent = await send('GET /orders/%2e%2E/reports/x HTTP/1.1');
  t.equal(sent.res.status, 200);
  t.same(sent.orders, [], 'not the /orders upstream');
  t.equal(sent.reports[0]?.url, '/x', 'the route the resolved path names');
});

t.test('an encoded slash or backslash, or a raw backslash, is refused', async (t) => {
  for (const path of ['/orders/..%2Fadmin', '/orders%2f..%2fadmin', '/orders/%5c..%5cadmin', '/orders\\..\\admin']) {
    const sent = await send(`GET ${path} HTTP/1.1`);
    t.equal(sent.res.status, 400, path);
    t.same(sent.orders, [], `${path}: nothing forwarded`);
  }
});

t.test("a path that reaches the gateway's own endpoints through .. is answered, never proxied", async (t) => {
  const sent = await send('GET /orders/../_gateway/quota HTTP/1.1');
  t.equal(sent.res.status, 200);
  t.match(sent.res.text, /"key_id"/);
  t.same(sent.orders, []);
});

t.test('an absolute-form target is routed by its path', async (t) => {
  const sent = await send('GET http://gw.example/orders/7?q=1 HTTP/1.1');
  t.equal(sent.res.status, 200);
  t.equal(sent.orders[0]?.url, '/orders/7?q=1');
});

t.test('OPTIONS * is answered by the gateway itself with the methods it passes on', async (t) => {
  const sent = await send('OPTIONS * HTTP/1.1');
  t.equal(sent.res.status, 204);
  t.match(rawHeader(sent.res.text, 'allow') ?? '', /GET/);
  t.same([...sent.orders, ...sent.reports], []);
});

t.test('any other method with the target * is refused', async (t) => {
  const sent = await send('GET * HTTP/1.1');
  t.equal(sent.res.status, 400);
  t.equal(rawHeader(sent.res.text, 'content-type'), 'application/problem+json');
});

t.test('CONNECT gets 405 problem+json, not a silently closed connection', async (t) => {
  const res = await rawHttp(gw.port, 'CONNECT gw.example:443 HTTP/1.1\r\nHost: gw.example:443\r\n\r\n');
  t.equal(res.status, 405);
  t.equal(rawHeader(res.text, 'content-type'), 'application/problem+json');
  t.match(rawHeader(res.text, 'allow') ?? '', /GET/);
});

t.test('an HTTP/1.1 request without Host gets 400 problem+json', async (t) => {
  const res = await rawHttp(gw.port, `GET /orders/1 HTTP/1.1\r\nConnection: close\r\nX-API-Key: ${key.secret}\r\n\r\n`);
  t.equal(res.status, 400);
  t.match(res.text, /missing-host/);
});

t.test('an HTTP/1.0 request may leave Host out', async (t) => {
  const res = await rawHttp(gw.port, `GET /orders/1 HTTP/1.0\r\nX-API-Key: ${key.secret}\r\n\r\n`);
  t.equal(res.status, 200);
});

t.test('an Expect other than 100-continue gets 417 problem+json', async (t) => {
  const sent = await send('POST /orders HTTP/1.1', 'Expect: foo\r\nContent-Length: 0\r\n');
  t.equal(sent.res.status, 417);
  t.equal(sent.problem().type, 'https://tollgate.dev/problems/expectation-failed');
  t.same(sent.orders, []);
});

t.test('a transfer coding other than chunked is refused with 501, not silently dropped', async (t) => {
  for (const coding of ['gzip, chunked', 'chunked, identity', 'xchunked']) {
    const sent = await send('POST /orders HTTP/1.1', `Transfer-Encoding: ${coding}\r\n`, '5\r\nhello\r\n0\r\n\r\n', true);
    // Node's parser refuses some of these itself (400); the gateway refuses the rest (501).
    t.ok(sent.res.status === 501 || sent.res.status === 400, `${coding}: ${sent.res.status}`);
    t.equal(rawHeader(sent.res.text, 'content-type'), 'application/problem+json', coding);
    t.ok(sent.res.closedByServer, `${coding}: the connection is closed`);
    t.same(sent.orders, [], `${coding}: nothing forwarded`);
  }
});

t.test('duplicate, conflicting or malformed Content-Length is refused and nothing is forwarded', async (t) => {
  for (const fields of ['Content-Length: 5\r\nContent-Length: 6\r\n', 'Content-Length: 5, 6\r\n', 'Content-Length: -1\r\n', 'Content-Length: 0x5\r\n']) {
    const sent = await send('POST /orders HTTP/1.1', fields, 'hello!');
    t.equal(sent.res.status, 400, JSON.stringify(fields));
    t.equal(rawHeader(sent.res.text, 'content-type'), 'application/problem+json');
    t.same(sent.orders, []);
  }
});

t.test('an obfuscated Transfer-Encoding name is refused', async (t) => {
  for (const name of ['Transfer-Encoding : chunked', ' Transfer-Encoding: chunked', 'Transfer-Encoding:\tchunked\r\nTransfer-Encoding: x']) {
    const sent = await send('POST /orders HTTP/1.1', `${name}\r\nContent-Length: 5\r\n`, 'hello');
    t.ok(sent.res.status === 400 || sent.res.status === 501, `${JSON.stringify(name)}: ${sent.res.status}`);
    t.same(sent.orders, [], `${JSON.stringify(name)}: nothing forwarded`);
  }
});

t.test('a bad chunk size ends the exchange without a second request reaching the upstream', async (t) => {
  const sent = await send('POST /orders HTTP/1.1', 'Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\nGET /orders/smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
  t.ok(sent.res.status === 400 || sent.res.status === 502 || sent.res.closedByServer, `status ${sent.res.status}`);
  t.notOk(sent.orders.some((request) => request.url === '/orders/smuggled'), 'the smuggled request never arrives');
});

t.test('two different keys in X-API-Key and Authorization get 400; the same key twice is fine', async (t) => {
  const conflicting = await send('GET /orders/1 HTTP/1.1', `Authorization: Bearer ${other.secret}\r\n`);
  t.equal(conflicting.res.status, 400);
  t.equal(conflicting.problem().type, 'https://tollgate.dev/problems/conflicting-api-keys');
  t.same(conflicting.orders, []);
  const same = await send('GET /orders/1 HTTP/1.1', `Authorization: Bearer ${key.secret}\r\n`);
  t.equal(same.res.status, 200);
});

t.test('control characters or invalid UTF-8 in the key get a 4xx, never a crash', async (t) => {
  for (const bytes of [Buffer.from('tg_\u0001abc', 'latin1'), Buffer.from([0x74, 0x67, 0x5f, 0xff, 0xfe, 0xc3])]) {
    const request = Buffer.concat([Buffer.from('GET /orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: '), bytes, Buffer.from('\r\n\r\n')]);
    const res = await rawHttp(gw.port, request);
    t.ok(res.status === 400 || res.status === 401, `status ${res.status}`);
    t.equal(rawHeader(res.text, 'content-type'), 'application/problem+json');
  }
  t.equal((await send('GET /orders/1 HTTP/1.1')).res.status, 200, 'the gateway still serves');
});

t.test('raw non-ASCII bytes and control characters in a path get a 4xx or are forwarded intact, never a crash', async (t) => {
  for (const path of [Buffer.from('/orders/caf\u00e9', 'latin1'), Buffer.from('/orders/a\u0001b', 'latin1'), Buffer.from('/orders/%00')]) {
    const request = Buffer.concat([Buffer.from('GET '), path, Buffer.from(` HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: ${key.secret}\r\n\r\n`)]);
    const res = await rawHttp(gw.port, request);
    t.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `${JSON.stringify(path.toString('latin1'))}: ${res.status}`);
  }
  t.equal((await send('GET /orders/1 HTTP/1.1')).res.status, 200, 'the gateway still serves');
});

t.test('a URL over the header size limit gets 431 problem+json', async (t) => {
  const sent = await send(`GET /orders/${'a'.repeat(17 * 1024)} HTTP/1.1`);
  t.equal(sent.res.status, 431);
  t.equal(rawHeader(sent.res.text, 'content-type'), 'application/problem+json');
  t.same(sent.orders, []);
});
