// CONTROL_PLANE_TRUSTED_PROXIES: which peers' X-Forwarded-For and X-Forwarded-Proto count, and the
// client address and scheme derived from them, on real requests to a real server.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { cameOverTls, clientAddress, parseTrustedProxies, type ProxyTrust } from '../../src/http/trusted-proxies.js';

/** What the server derives from one request sent from 127.0.0.1 with `headers`. */
async function derive(trust: ProxyTrust, headers: Record<string, string>): Promise<{ address: string; tls: boolean }> {
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
  const trust = parseTrustedProxies('10.0.0.0/8, 192.0.2.7');
  t.ok(trust.trusts('10.1.2.3'));
  t.ok(trust.trusts('::ffff:10.1.2.3'));
  t.ok(trust.trusts('::ffff:192.0.2.7'));
  t.notOk(trust.trusts('11.0.0.1'));
  t.notOk(trust.trusts('::1'));
  t.notOk(trust.trusts(undefined));
});

t.test('IPv6 addresses and prefixes are matched', async (t) => {
  const trust = parseTrustedProxies('fd00::/8,::1');
  t.ok(trust.trusts('fd12:3456::1'));
  t.ok(trust.trusts('::1'));
  t.notOk(trust.trusts('2001:db8::1'));
});

t.test('with no trusted proxy the socket address is the client, whatever the headers say', async (t) => {
  const derived = await derive(parseTrustedProxies(''), { 'x-forwarded-for': '198.51.100.9', 'x-forwarded-proto': 'https' });
  t.equal(derived.address, '127.0.0.1');
  t.equal(derived.tls, false);
});

t.test('behind a trusted proxy the client is the right-most untrusted X-Forwarded-For entry', async (t) => {
  const trust = parseTrustedProxies('127.0.0.1,10.0.0.0/8');
  // The client forged the first entry; the proxies appended the real one and themselves.
  const derived = await derive(trust, { 'x-forwarded-for': '6.6.6.6, 198.51.100.9, 10.0.0.5' });
  t.equal(derived.address, '198.51.100.9');
});

t.test('behind a trusted proxy X-Forwarded-Proto https means TLS', async (t) => {
  const trust = parseTrustedProxies('127.0.0.1');
  t.equal((await derive(trust, { 'x-forwarded-proto': 'https' })).tls, true);
  t.equal((await derive(trust, { 'x-forwarded-proto': 'http' })).tls, false);
  t.equal((await derive(trust, {})).tls, false);
});

t.test('a missing or garbled X-Forwarded-For leaves the nearest trusted hop as the client', async (t) => {
  const trust = parseTrustedProxies('127.0.0.1');
  t.equal((await derive(trust, {})).address, '127.0.0.1');
  t.equal((await derive(trust, { 'x-forwarded-for': 'not-an-address' })).address, '127.0.0.1');
});

t.test('the admin settings default to no first user, 30 min idle, 12 h sessions and no trusted proxy', async (t) => {
  const config = loadConfig({ ADMIN_TOKEN: 'a-token-of-sixteen-chars' });
  t.equal(config.firstAdmin, null);
  t.same(config.adminSession, { idleMs: 30 * 60_000, maxAgeMs: 12 * 3_600_000 });
  t.same(config.trustedProxies.entries, []);
});

t.test('ADMIN_PASSWORD alone makes the first user "admin"; durations and proxies are read', async (t) => {
  const config = loadConfig({
    ADMIN_TOKEN: 'a-token-of-sixteen-chars',
    ADMIN_PASSWORD: 'secret words here',
    ADMIN_SESSION_IDLE_TIMEOUT: '5m',
    ADMIN_SESSION_MAX_AGE: '1d',
    CONTROL_PLANE_TRUSTED_PROXIES: ' 10.0.0.1 , fd00::/8 ',
  });
  t.same(config.firstAdmin, { username: 'admin', password: 'secret words here' });
  t.same(config.adminSession, { idleMs: 5 * 60_000, maxAgeMs: 86_400_000 });
  t.same(config.trustedProxies.entries, ['10.0.0.1', 'fd00::/8']);
});
