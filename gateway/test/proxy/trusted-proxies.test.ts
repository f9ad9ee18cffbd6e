// GATEWAY_TRUSTED_PROXIES: what a client says about itself in X-Forwarded-* is believed only when
// it comes through a proxy we trust, both for the headers the upstream gets and for the client
// address the request log records.
import t, { type Test } from 'tap';
import { request as httpRequest } from 'node:http';
import { TrustedProxies } from '../../../contracts/trusted-proxies.js';
import { CollectingSink } from '../helpers/collecting-sink.js';
import { TestKeys } from '../helpers/keys.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';

const keys = new TestKeys().tier('basic', [{ window: '1m', limit: 1000 }]);
const key = keys.key();
const table = keys.table();

let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream();
});
t.teardown(() => upstream.close());

async function gatewayTrusting(t: Test, trustedProxies: string, host = '127.0.0.1'): Promise<{ gw: TestGateway; sink: CollectingSink }> {
  const sink = new CollectingSink();
  const gw = await startTestGateway({ routes: [route('/', upstream.url, { name: 'default' })], keys: () => table, trustedProxies: TrustedProxies.parse(trustedProxies), host, requestEvents: sink });
  t.teardown(() => gw.close());
  return { gw, sink };
}

/** One GET through the gateway from `connectTo` with `headers`; the headers the upstream received. */
function send(port: number, headers: Record<string, string>, connectTo = '127.0.0.1'): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: connectTo, port, path: '/', headers: { 'x-api-key': key.secret, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(upstream.received.at(-1)?.headers ?? {}));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('from a trusted proxy, X-Forwarded-For is extended and Proto, Host and Forwarded are kept', async (t) => {
  const { gw, sink } = await gatewayTrusting(t, '127.0.0.0/8');
  const seen = await send(gw.port, {
    'x-forwarded-for': '198.51.100.7, 10.1.2.3',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'api.example.com',
    forwarded: 'for=198.51.100.7;proto=https',
  });
  t.equal(seen['x-forwarded-for'], '198.51.100.7, 10.1.2.3, 127.0.0.1');
  t.equal(seen['x-forwarded-proto'], 'https');
  t.equal(seen['x-forwarded-host'], 'api.example.com');
  t.equal(seen.forwarded, 'for=198.51.100.7;proto=https');
  t.equal(sink.events.at(-1)?.clientIp, '10.1.2.3', 'the right-most address that is not a trusted proxy');
});

t.test('from anyone else, the client cannot set X-Forwarded-* or Forwarded', async (t) => {
  const { gw, sink } = await gatewayTrusting(t, '10.0.0.0/8');
  const seen = await send(gw.port, {
    'x-forwarded-for': '198.51.100.7',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': 'evil.example',
    forwarded: 'for=198.51.100.7',
  });
  t.equal(seen['x-forwarded-for'], '127.0.0.1', 'only the address the gateway saw');
  t.equal(seen['x-forwarded-proto'], 'http');
  t.match(String(seen['x-forwarded-host']), /^127\.0\.0\.1:\d+$/, 'the Host the gateway was asked for');
  t.equal(seen.forwarded, undefined);
  t.equal(sink.events.at(-1)?.clientIp, '127.0.0.1', 'the request log records the socket address');
});

t.test('with no trusted proxies (the default) X-Forwarded-For is never believed', async (t) => {
  const { gw, sink } = await gatewayTrusting(t, '');
  await send(gw.port, { 'x-forwarded-for': '198.51.100.7' });
  t.equal(sink.events.at(-1)?.clientIp, '127.0.0.1');
});

t.test('an IPv4 proxy is trusted also when Node reports it as ::ffff:a.b.c.d on a dual-stack socket', async (t) => {
  const { gw, sink } = await gatewayTrusting(t, '127.0.0.1', '::');
  const seen = await send(gw.port, { 'x-forwarded-for': '192.0.2.44' }, '::ffff:127.0.0.1');
  t.equal(seen['x-forwarded-for'], '192.0.2.44, 127.0.0.1');
  t.equal(sink.events.at(-1)?.clientIp, '192.0.2.44');
});
