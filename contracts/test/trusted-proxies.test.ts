// GATEWAY_TRUSTED_PROXIES and CONTROL_PLANE_TRUSTED_PROXIES: which peers' X-Forwarded-For and
// X-Forwarded-Proto count, and the client address and scheme derived from them, on real requests
// to a real server.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { cameOverTls, clientAddress, plainAddress, TrustedProxies } from '../trusted-proxies.js';

/** What the server derives from one request sent from 127.0.0.1 with `headers`. */
async function derive(trust: TrustedProxies, headers: Record<string, string>): Promise<{ address: string; tls: boolean }> {
  let seen: IncomingMessage | undefined;
  const server = createServer((request, response) => {
    seen = request;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await (await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers })).arrayBuffer();
    const request = seen as IncomingMessage;
    return { address: clientAddress(request, trust), tls: cameOverTls(request, trust) };
  } finally {
    server.close();
  }
}

t.test('an IPv4 entry also matches the same address in its IPv4-mapped IPv6 form', async (t) => {
  const trust = TrustedProxies.parse('10.0.0.0/8, 192.0.2.7');
  t.ok(trust.has('10.1.2.3'));
  t.ok(trust.has('::ffff:10.1.2.3'));
  t.ok(trust.has('::ffff:192.0.2.7'));
  t.notOk(trust.has('11.0.0.1'));
  t.notOk(trust.has('::1'));
  t.notOk(trust.has(undefined));
});

t.test('IPv6 addresses and prefixes are matched', async (t) => {
  const trust = TrustedProxies.parse('fd00::/8,::1');
  t.ok(trust.has('fd12:3456::1'));
  t.ok(trust.has('::1'));
  t.notOk(trust.has('2001:db8::1'));
});

t.test('with no trusted proxy the socket address is the client, whatever the headers say', async (t) => {
  const derived = await derive(TrustedProxies.parse(''), { 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https' });
  t.equal(derived.address, '127.0.0.1');
  t.equal(derived.tls, false);
});

t.test('behind a trusted proxy the client is the right-most untrusted X-Forwarded-For entry', async (t) => {
  const trust = TrustedProxies.parse('127.0.0.1,10.0.0.0/8');
  // The client forged the first entry; the proxies appended the real one and themselves.
  const derived = await derive(trust, { 'x-forwarded-for': '6.6.6.6, 198.51.100.9, 10.0.0.5' });
  t.equal(derived.address, '198.51.100.9');
});

t.test('behind a trusted proxy X-Forwarded-Proto https means TLS', async (t) => {
  const trust = TrustedProxies.parse('127.0.0.1');
  t.equal((await derive(trust, { 'x-forwarded-proto': 'https' })).tls, true);
  t.equal((await derive(trust, { 'x-forwarded-proto': 'http' })).tls, false);
  t.equal((await derive(trust, {})).tls, false);
});

t.test('a missing or garbled X-Forwarded-For leaves the nearest trusted hop as the client', async (t) => {
  const trust = TrustedProxies.parse('127.0.0.1');
  t.equal((await derive(trust, {})).address, '127.0.0.1');
  t.equal((await derive(trust, { 'x-forwarded-for': 'not-an-address' })).address, '127.0.0.1');
});

t.test('a chain of trusted proxies is walked to the first address that is not one of them', async (t) => {
  const trust = TrustedProxies.parse('10.0.0.0/8, 127.0.0.1, fd00::/8');
  const request = (xff: string) => ({ socket: { remoteAddress: '::ffff:127.0.0.1' }, headers: { 'x-forwarded-for': xff } }) as never;
  t.equal(clientAddress(request('203.0.113.5, 10.0.0.2, 10.9.9.9'), trust), '203.0.113.5');
  t.equal(clientAddress(request('203.0.113.5, 2001:db8::1, fd00::7'), trust), '2001:db8::1');
  t.equal(clientAddress(request('10.0.0.3, 10.0.0.2'), trust), '10.0.0.3', 'all trusted: the left-most');
  t.equal(clientAddress(request('garbage, 10.0.0.2'), trust), '10.0.0.2', 'not an address: the last hop we can vouch for');
  t.equal(plainAddress('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(plainAddress('2001:db8::1'), '2001:db8::1');
});

t.test('the list takes addresses and CIDRs of both families and names the first bad entry', async (t) => {
  t.same(TrustedProxies.parse(' 10.0.0.0/8, 192.168.1.5 ,fd00::/8, ::1 ').entries, ['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1']);
  for (const bad of ['10.0.0.0/33', 'nginx', '10.0.0.1/8/1', 'fd00::/129']) {
    t.throws(() => TrustedProxies.parse(`127.0.0.1, ${bad}`), { message: `must be a comma-separated list of IP addresses or CIDRs ("${bad}" is neither)` });
  }
});
