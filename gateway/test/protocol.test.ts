// HTTP/1.1 edge cases at the public port, over raw sockets: request smuggling, oversized headers,
// obsolete line folding, WebSocket upgrades and upgrades to anything else.
import t from 'tap';
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';
import { rawHttp, rawHeader } from './helpers/raw-http.js';

const keys = new TestKeys().tier('basic', [{ window: '1m', limit: 100 }]).tier('one', [{ window: '1m', limit: 1 }]);
const key = keys.key();
const single = keys.key({ tier: 'one' });
const h2c = keys.key({ tier: 'one' });
const h2cWithBody = keys.key({ tier: 'one' });
const table = keys.table();

let upstream: TestUpstream;
let gw: TestGateway;
const upgradeHeaders: Record<string, string | string[] | undefined>[] = [];
const upstreamSockets = new Set<Socket>();

t.before(async () => {
  upstream = await startUpstream();
  // A minimal WebSocket endpoint: completes the handshake, then echoes raw bytes back.
  upstream.server.on('upgrade', (req, socket: Socket) => {
    upgradeHeaders.push(req.headers);
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    upstreamSockets.add(socket);
  });
  gw = await startTestGateway({ routes: [route('/', upstream.url, { name: 'default' })], keys: () => table });
});

t.teardown(async () => {
  await gw.close();
  for (const socket of upstreamSockets) socket.destroy();
  await upstream.close();
});

t.test('a request with both Content-Length and Transfer-Encoding gets 400 and a closed connection', async (t) => {
  const before = upstream.received.length;
  const res = await rawHttp(
    gw.port,
    'POST / HTTP/1.1\r\nHost: x\r\n' +
      `X-API-Key: ${key.secret}\r\n` +
      'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  t.equal(res.status, 400);
  t.ok(res.closedByServer, 'the gateway closed the connection');
  t.equal(upstream.received.length, before, 'nothing reached the upstream');
  t.notMatch(res.text, /HTTP\/1\.1 \d{3}[\s\S]*HTTP\/1\.1 \d{3}/, 'only one response');
});

t.test('request headers over 16 KiB get a 431 response', async (t) => {
  const res = await rawHttp(
    gw.port,
    `GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`,
  );
  t.equal(res.status, 431);
  t.equal(rawHeader(res.text, 'content-type'), 'application/problem+json');
  t.ok(res.closedByServer);
});

t.test('headers just under 16 KiB are accepted', async (t) => {
  const res = await rawHttp(
    gw.port,
    `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: ${key.secret}\r\nX-Big: ${'a'.repeat(15 * 1024)}\r\n\r\n`,
  );
  t.equal(res.status, 200);
});

t.test('an obsolete folded header line gets 400', async (t) => {
  const res = await rawHttp(gw.port, `GET / HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\nX-Folded: a\r\n b\r\n\r\n`);
  t.equal(res.status, 400);
  t.ok(res.closedByServer);
});

function upgrade(headers: string): Promise<{ socket: Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.port, '127.0.0.1');
    let head = '';
    socket.setEncoding('latin1');
    const onData = (chunk: string): void => {
      head += chunk;
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve({ socket, head });
      }
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        `${headers}\r\n`,
    );
  });
}

t.test('a WebSocket upgrade with a valid key passes through both ways', async (t) => {
  const { socket, head } = await upgrade(`X-API-Key: ${key.secret}\r\nX-Tollgate-Tier: spoofed\r\n`);
  t.teardown(() => socket.destroy());
  t.match(head, /^HTTP\/1\.1 101/);
  t.equal(rawHeader(head, 'sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  const echoed = new Promise<string>((resolve) => socket.once('data', (chunk) => resolve(String(chunk))));
  socket.write('ping-through-the-gateway');
  t.equal(await echoed, 'ping-through-the-gateway');
  const seen = upgradeHeaders.at(-1) ?? {};
  t.equal(seen['x-api-key'], undefined, 'the upstream never sees the key');
  t.equal(seen['x-tollgate-key-id'], key.id);
  t.equal(seen['x-tollgate-tier'], 'basic');
});

t.test('a WebSocket upgrade without a key gets a 401 HTTP response', async (t) => {
  const before = upgradeHeaders.length;
  const { socket, head } = await upgrade('');
  t.teardown(() => socket.destroy());
  t.match(head, /^HTTP\/1\.1 401/);
  t.equal(rawHeader(head, 'content-type'), 'application/problem+json');
  t.equal(upgradeHeaders.length, before);
});

t.test('a WebSocket upgrade past the limit of its key gets a 429 HTTP response with Retry-After', async (t) => {
  const first = await upgrade(`X-API-Key: ${single.secret}\r\n`);
  first.socket.destroy();
  t.match(first.head, /^HTTP\/1\.1 101/);
  const { socket, head } = await upgrade(`X-API-Key: ${single.secret}\r\n`);
  t.teardown(() => socket.destroy());
  t.match(head, /^HTTP\/1\.1 429/);
  t.match(rawHeader(head, 'retry-after') ?? '', /^[1-9]\d*$/);
  t.equal(rawHeader(head, 'ratelimit-policy'), '"1m";q=1;w=60');
});

/** The key's quota as the gateway reports it (consumes nothing). */
async function remainingOf(secret: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${gw.port}/_gateway/quota`, { headers: { 'x-api-key': secret } });
  const body = (await res.json()) as { limits: { remaining: number }[] };
  return body.limits[0]?.remaining ?? -1;
}

t.test('an Upgrade to h2c (curl --http2) is served as plain HTTP/1.1 and consumes one unit', async (t) => {
  const before = upstream.received.length;
  const res = await rawHttp(
    gw.port,
    'GET /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      `HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-API-Key: ${h2c.secret}\r\n\r\n`,
  );
  t.equal(res.status, 200, 'a real response, not an empty reply');
  t.equal(upstream.received.length, before + 1, 'forwarded once');
  t.equal(upstream.received.at(-1)?.headers.upgrade, undefined, 'Upgrade is hop-by-hop: not forwarded');
  t.equal(rawHeader(res.text, 'ratelimit-policy'), '"1m";q=1;w=60');
  t.equal(await remainingOf(h2c.secret), 0, 'exactly one unit consumed');
});

t.test('an h2c upgrade with a body is served, or refused with a problem, and consumes only when served', async (t) => {
  const before = upstream.received.length;
  const res = await rawHttp(
    gw.port,
    'POST /plain HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n' +
      `HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nX-API-Key: ${h2cWithBody.secret}\r\nContent-Length: 5\r\n\r\nhello`,
  );
  // Node versions with shouldUpgradeCallback parse the body and serve it; older ones cannot.
  t.ok(res.status === 200 || res.status === 400, `status ${res.status}`);
  if (res.status === 400) {
    t.equal(rawHeader(res.text, 'content-type'), 'application/problem+json');
    t.match(res.text, /unsupported-upgrade/);
    t.equal(upstream.received.length, before, 'nothing forwarded');
    t.equal(await remainingOf(h2cWithBody.secret), 1, 'nothing consumed');
  } else {
    t.equal(upstream.received.length, before + 1, 'forwarded once');
    t.equal(upstream.received.at(-1)?.headers['content-length'], '5', 'with its body');
    t.equal(await remainingOf(h2cWithBody.secret), 0, 'one unit consumed');
  }
});

t.test('a request with more than 100 header fields gets 431 and nothing reaches the upstream', async (t) => {
  const before = upstream.received.length;
  let fields = `X-API-Key: ${key.secret}\r\n`;
  for (let i = 0; i < 100; i += 1) fields += `X-Pad-${i}: x\r\n`;
  const res = await rawHttp(gw.port, `GET / HTTP/1.1\r\nHost: x\r\n${fields}\r\n`);
  t.equal(res.status, 431);
  t.match(res.text, /too-many-headers/);
  t.equal(upstream.received.length, before);
});

t.test("with 100 header fields the upstream still gets the gateway's own headers, first", async (t) => {
  let fields = `X-API-Key: ${key.secret}\r\n`;
  for (let i = 0; i < 98; i += 1) fields += `X-Pad-${i}: x\r\n`;
  const res = await rawHttp(gw.port, `GET / HTTP/1.1\r\nHost: x\r\n${fields}\r\n`);
  t.equal(res.status, 200);
  const names = (upstream.received.at(-1)?.rawHeaders ?? []).filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  const firstClientField = names.indexOf('x-pad-0');
  t.ok(firstClientField > 0, 'the client fields arrived');
  for (const own of ['x-tollgate-key-id', 'x-tollgate-tier', 'x-forwarded-for', 'via']) {
    const at = names.indexOf(own);
    t.ok(at >= 0 && at < firstClientField, `${own} comes before the client's fields`);
  }
});
