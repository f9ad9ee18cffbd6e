// Peers that are slow on purpose, and bodies larger than the gateway accepts: each is cut off with
// a clear answer after its documented timeout or limit, and the gateway keeps serving.
import t from 'tap';
import { connect } from 'node:net';
import { TestKeys } from '../helpers/keys.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { rawHttp, rawHeader } from '../helpers/raw-http.js';

const keys = new TestKeys().tier('basic', [{ window: '1h', limit: 1000 }]).tier('few', [{ window: '1h', limit: 5 }]);
const key = keys.key();
const few = keys.key({ tier: 'few' });
const table = keys.table();

let upstream: TestUpstream;
let gw: TestGateway;
const bodiesSeen: number[] = [];

t.before(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/stall') {
      // Headers and a first chunk, then nothing: a stream that stopped.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk\n');
      return;
    }
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      bodiesSeen.push(bytes);
      res.end(`got ${bytes}`);
    });
  });
  gw = await startTestGateway({
    routes: [route('/', upstream.url, { name: 'default' })],
    keys: () => table,
    config: { clientBodyTimeoutMs: 500, upstreamBodyTimeoutMs: 500, maxBodyBytes: 1000 },
  });
});

t.teardown(async () => {
  await gw.close();
  await upstream.close();
});

async function remaining(secret: string): Promise<number> {
  const res = await fetch(`${gw.url}/_gateway/quota`, { headers: { 'x-api-key': secret } });
  return ((await res.json()) as { limits: { remaining: number }[] }).limits[0]?.remaining ?? -1;
}

t.test('headers dribbled in slowly (slowloris) get 408 problem+json and a closed connection', async (t) => {
  const socket = connect(gw.port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => socket.write('X-Slow: a\r\n'), 1000);
  await closed;
  clearInterval(drip);
  t.match(text, /^HTTP\/1\.1 408/);
  t.equal(rawHeader(text, 'content-type'), 'application/problem+json');
});

t.test('a request body that stops arriving gets 408 after the client body timeout, and the connection closes', async (t) => {
  const res = await rawHttp(gw.port, `POST /upload HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\nContent-Length: 100\r\n\r\nx`, 5000);
  t.equal(res.status, 408);
  t.equal(rawHeader(res.text, 'content-type'), 'application/problem+json');
  t.ok(res.closedByServer, 'closed by the gateway, well before the 5 s the test waits');
});

t.test('an upstream that stalls mid-body is cut off after the upstream body timeout', async (t) => {
  const res = await rawHttp(gw.port, `GET /stall HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\n\r\n`, 5000);
  t.equal(res.status, 200, 'the headers had gone out');
  t.match(res.text, /first chunk/);
  t.ok(res.closedByServer, 'the truncated response ends with a closed connection, not a hang');
  const next = await fetch(`${gw.url}/after`, { headers: { 'x-api-key': key.secret } });
  t.equal(next.status, 200, 'and the gateway goes on serving');
  await next.arrayBuffer();
});

t.test('a body declared larger than GATEWAY_MAX_BODY_BYTES gets 413 and costs no quota', async (t) => {
  const before = await remaining(few.secret);
  const res = await rawHttp(gw.port, `POST /big HTTP/1.1\r\nHost: x\r\nX-API-Key: ${few.secret}\r\nContent-Length: 2000\r\n\r\n${'a'.repeat(2000)}`);
  t.equal(res.status, 413);
  t.match(res.text, /payload-too-large/);
  t.ok(res.closedByServer);
  t.equal(await remaining(few.secret), before, 'nothing consumed');
});

t.test('a chunked body growing past GATEWAY_MAX_BODY_BYTES is cut off with 413 before the upstream gets it whole', async (t) => {
  const seenBefore = bodiesSeen.length;
  const chunk = 'a'.repeat(600);
  const body = `${(600).toString(16)}\r\n${chunk}\r\n${(600).toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
  const res = await rawHttp(gw.port, `POST /big HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
  t.ok(res.status === 413 || res.closedByServer, `status ${res.status}`);
  t.notOk(bodiesSeen.slice(seenBefore).includes(1200), 'the upstream never received the whole 1200 bytes');
});

t.test('a body within the limit passes whole', async (t) => {
  const res = await fetch(`${gw.url}/small`, { method: 'POST', headers: { 'x-api-key': key.secret }, body: 'b'.repeat(900) });
  t.equal(res.status, 200);
  t.equal(await res.text(), 'got 900');
});
