// The forwarder's bound per upstream origin: at most `maxConnections` connections; requests beyond
// wait for one instead of each opening a connection of its own (which, under overload, buried the
// upstream in connects).
import t from 'tap';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createForwarder, upstreamProblem } from '../../src/proxy/forward.js';
import { sendProblem } from '../../src/proxy/respond.js';

const MAX_CONNECTIONS = 2;

/** An upstream that holds every response until released, and counts its connections. */
const held: ServerResponse[] = [];
let connections = 0;
const upstream = createServer((req, res) => {
  req.resume();
  held.push(res);
});
upstream.on('connection', () => {
  connections += 1;
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const forwarder = createForwarder({
  upstreamTimeoutMs: 10_000,
  upstreamBodyTimeoutMs: 10_000,
  clientBodyTimeoutMs: 10_000,
  origins: [upstreamUrl],
  maxConnections: MAX_CONNECTIONS,
});
/** A bare proxy around the forwarder: what the gateway does after admission, and nothing else. */
const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
  forwarder.forward(req, res, upstreamUrl, req.url ?? '/', ['host', 'upstream'], [], {
    upstreamFinished(error) {
      if (error !== null && !res.headersSent) sendProblem(res, upstreamProblem(error));
    },
  });
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const proxyPort = (proxy.address() as AddressInfo).port;

t.teardown(async () => {
  await forwarder.close();
  proxy.close();
  upstream.close();
});

function get(): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ port: proxyPort, host: '127.0.0.1', path: '/x', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function release(): void {
  for (const res of held.splice(0)) res.end('ok');
}

t.test('ten requests at once share the two connections the upstream may have, and are all served', async (t) => {
  const answers = Array.from({ length: 10 }, () => get());
  await until(() => held.length === MAX_CONNECTIONS);
  // Until one of the two answers, the other eight wait in the gateway.
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(held.length, MAX_CONNECTIONS, 'only two reached the upstream');
  let settled = 0;
  for (const answer of answers) void answer.then(() => (settled += 1));
  while (settled < answers.length) {
    await until(() => held.length > 0 || settled === answers.length);
    release();
  }
  t.same(await Promise.all(answers), Array.from({ length: 10 }, () => 200), 'every one answered 200');
  t.equal(connections, MAX_CONNECTIONS, `the upstream saw ${MAX_CONNECTIONS} connections`);
});

t.test('the forwarder reports its open connections and the requests waiting for one', async (t) => {
  const answers = Array.from({ length: 5 }, () => get());
  await until(() => held.length === MAX_CONNECTIONS);
  await until(() => forwarder.upstreams().get(upstreamUrl)?.waiting === 3);
  t.same(forwarder.upstreams().get(upstreamUrl), { connections: MAX_CONNECTIONS, waiting: 3 }, 'two busy, three waiting');
  let settled = 0;
  for (const answer of answers) void answer.then(() => (settled += 1));
  while (settled < answers.length) {
    await until(() => held.length > 0 || settled === answers.length);
    release();
  }
  t.same(forwarder.upstreams().get(upstreamUrl), { connections: MAX_CONNECTIONS, waiting: 0 }, 'kept alive, none waiting');
});
