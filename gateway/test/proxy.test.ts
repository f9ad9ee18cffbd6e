// The streaming proxy: bodies both ways without buffering, upstream failures (502, 504) and a
// client that hangs up.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { freePort } from '../../test-support/ports.js';
import { TestKeys } from './helpers/keys.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from './helpers/gateway.js';

const keys = new TestKeys().tier('big', [{ window: '1m', limit: 1000 }]);
const key = keys.key({ tier: 'big' });
const table = keys.table();
const EIGHT_MIB = 8 * 1024 * 1024;
const download = randomBytes(EIGHT_MIB);
const downloadHash = createHash('sha256').update(download).digest('hex');
/** Larger than every socket buffer on the way together, so buffering it all would show. */
const LARGE_SIZE = 96 * 1024 * 1024;
const LARGE_PIECE = randomBytes(64 * 1024);

let upstream: TestUpstream;
let resetter: Server;
let slowClosed = 0;
/** Bytes the /large upstream has handed to its socket so far (it honours backpressure). */
let largeWritten = 0;
let gw: TestGateway;
let slowGw: TestGateway;

t.before(async () => {
  upstream = await startUpstream((req, res) => {
    if (req.url === '/upload') {
      // Hash the body as it streams in and answer with the hash and size.
      const hash = createHash('sha256');
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => res.end(JSON.stringify({ size, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null })));
    } else if (req.url === '/download') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      // In 64 KiB pieces, so the gateway sees a stream, not one buffer.
      Readable.from(
        (function* () {
          for (let at = 0; at < download.length; at += 65536) yield download.subarray(at, at + 65536);
        })(),
      ).pipe(res);
    } else if (req.url === '/large') {
      req.resume();
      largeWritten = 0;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(LARGE_SIZE) });
      const writeMore = (): void => {
        while (largeWritten < LARGE_SIZE) {
          largeWritten += LARGE_PIECE.length;
          if (!res.write(LARGE_PIECE)) {
            res.once('drain', writeMore);
            return;
          }
        }
        res.end();
      };
      writeMore();
    } else if (req.url === '/early-hints') {
      req.resume();
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      res.end('final');
    } else if (req.url === '/own-ratelimit') {
      req.resume();
      res.setHeader('RateLimit', '"upstream";r=1;t=1');
      res.end('ok');
    } else if (req.url === '/slow') {
      req.resume();
      res.on('close', () => {
        slowClosed += 1;
      });
      setTimeout(() => {
        if (!res.destroyed) res.end('late');
      }, 3000);
    } else {
      req.resume();
      res.end('ok');
    }
  });
  // Accepts, reads the request, then resets the connection without answering.
  resetter = createServer();
  resetter.on('connection', (socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
  const refusedPort = await freePort();
  const resetPort = (resetter.address() as AddressInfo).port;
  gw = await startTestGateway({
    routes: [
      route('/', upstream.url, { name: 'default' }),
      route('/refused', `http://127.0.0.1:${refusedPort}`, { name: 'refused' }),
      route('/reset', `http://127.0.0.1:${resetPort}`, { name: 'reset' }),
    ],
    keys: () => table,
  });
  slowGw = await startTestGateway({
    routes: [route('/', upstream.url, { name: 'default' })],
    keys: () => table,
    upstreamTimeoutMs: 300,
  });
});

t.teardown(async () => {
  await gw.close();
  await slowGw.close();
  await upstream.close();
  resetter.close();
});

t.test('an 8 MiB upload streams to the upstream intact', async (t) => {
  const body = randomBytes(EIGHT_MIB);
  const res = await request(`${gw.url}/upload`, {
    method: 'POST',
    headers: { 'x-api-key': key.secret, 'content-type': 'application/octet-stream' },
    // A stream without length: the gateway must relay chunked data, not wait for it all.
    body: Readable.from(
      (function* () {
        for (let at = 0; at < body.length; at += 100_000) yield body.subarray(at, at + 100_000);
      })(),
    ),
  });
  const seen = JSON.parse(await res.body.text());
  t.equal(res.statusCode, 200);
  t.equal(seen.size, EIGHT_MIB);
  t.equal(seen.sha256, createHash('sha256').update(body).digest('hex'));
});

t.test('an 8 MiB upload with Content-Length streams intact', async (t) => {
  const body = randomBytes(EIGHT_MIB);
  const res = await request(`${gw.url}/upload`, { method: 'PUT', headers: { 'x-api-key': key.secret }, body });
  const seen = JSON.parse(await res.body.text());
  t.equal(seen.size, EIGHT_MIB);
  t.equal(seen.sha256, createHash('sha256').update(body).digest('hex'));
  t.equal(seen.te, null, 'a known length stays a known length');
});

t.test('an 8 MiB download streams to the client intact', async (t) => {
  const res = await request(`${gw.url}/download`, { headers: { 'x-api-key': key.secret } });
  t.equal(res.statusCode, 200);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
  }
  t.equal(size, EIGHT_MIB);
  t.equal(hash.digest('hex'), downloadHash);
});

t.test('a client that stops reading holds the upstream back instead of the gateway buffering the body', async (t) => {
  const res = await request(`${gw.url}/large`, { headers: { 'x-api-key': key.secret } });
  t.equal(res.statusCode, 200);
  // The client reads nothing for a while: the socket buffers fill, then the upstream must wait.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const writtenWhilePaused = largeWritten;
  t.ok(writtenWhilePaused < LARGE_SIZE / 2, `the upstream wrote ${writtenWhilePaused} of ${LARGE_SIZE} bytes while the client read nothing`);
  let size = 0;
  const expected = createHash('sha256');
  const seen = createHash('sha256');
  for (let at = 0; at < LARGE_SIZE; at += LARGE_PIECE.length) expected.update(LARGE_PIECE);
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    seen.update(chunk as Buffer);
  }
  t.equal(size, LARGE_SIZE, 'then the whole body arrives');
  t.equal(seen.digest('hex'), expected.digest('hex'));
});

t.test('an interim 103 response from the upstream is not relayed; the final response is', async (t) => {
  const res = await request(`${gw.url}/early-hints`, { headers: { 'x-api-key': key.secret } });
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'final');
  t.ok(res.headers['ratelimit'], 'with the gateway\'s rate-limit fields');
});

t.test('a rate-limit field the upstream sends itself reaches the client once, beside the gateway\'s others', async (t) => {
  const res = await request(`${gw.url}/own-ratelimit`, { headers: { 'x-api-key': key.secret } });
  await res.body.text();
  t.equal(res.statusCode, 200);
  t.equal(res.headers['ratelimit'], '"upstream";r=1;t=1');
  t.equal(res.headers['x-ratelimit-limit'], '1000');
  t.ok(res.headers['ratelimit-policy']);
});

t.test('an upstream that refuses the connection gives 502 problem+json', async (t) => {
  const res = await request(`${gw.url}/refused/x`, { headers: { 'x-api-key': key.secret } });
  const body = JSON.parse(await res.body.text());
  t.equal(res.statusCode, 502);
  t.equal(res.headers['content-type'], 'application/problem+json');
  t.equal(body.status, 502);
  t.ok(res.headers['ratelimit'], 'the rate-limit fields are still there');
});

t.test('an upstream that resets the connection gives 502', async (t) => {
  const res = await request(`${gw.url}/reset/x`, { headers: { 'x-api-key': key.secret } });
  await res.body.text();
  t.equal(res.statusCode, 502);
});

t.test('an upstream slower than the timeout gives 504 problem+json', async (t) => {
  const res = await request(`${slowGw.url}/slow`, { headers: { 'x-api-key': key.secret } });
  const body = JSON.parse(await res.body.text());
  t.equal(res.statusCode, 504);
  t.equal(body.status, 504);
});

t.test('a client that hangs up cancels the upstream request', async (t) => {
  const before = slowClosed;
  const slowSeen = (): number => upstream.received.filter((item) => item.url === '/slow').length;
  const seenBefore = slowSeen();
  const socket = connect(gw.port, '127.0.0.1');
  socket.write(`GET /slow HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key.secret}\r\n\r\n`);
  // Wait until the upstream has the request, then hang up.
  const deadline = Date.now() + 2000;
  while (slowSeen() === seenBefore && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  socket.destroy();
  // Well before the upstream's own 3 s answer.
  while (slowClosed === before && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(slowClosed, before + 1, 'the upstream saw its connection close before it answered');
});
