// The whole data path across real processes: a control plane and two gateways sharing one Redis
// and one PostgreSQL, driven over REST exactly as an operator would. Proves that a key created with
// curl is enforced by every gateway, that the limit is one exact limit across gateways, and that a
// revocation reaches every gateway within 1 s.
import t from 'tap';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { freePort } from '../../test-support/ports.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { startService, waitUntil, type Service } from './helpers/services.js';

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const PROPAGATION_DEADLINE_MS = 1000;

async function admin(base: string, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

async function statusOf(gateway: string, secret: string, path = '/orders'): Promise<number> {
  const response = await fetch(`${gateway}${path}`, { headers: { 'x-api-key': secret } });
  await response.arrayBuffer();
  return response.status;
}

const seenByUpstream: IncomingHttpHeaders[] = [];
const upstream: Server = createServer((req, res) => {
  seenByUpstream.push(req.headers);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"ok":true}');
});

const database = await createTestDatabase('e2e');
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
const prefix = uniquePrefix('e2e');
const controlPlanePort = await freePort();
const controlPlane = `http://127.0.0.1:${controlPlanePort}`;
const services: Service[] = [];
const gateways: string[] = [];

t.teardown(async () => {
  await Promise.all(services.map((service) => service.stop()));
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await database.drop();
});

services.push(
  startService('control-plane/src/main.ts', {
    DATABASE_URL: database.url,
    REDIS_URL: 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: prefix,
    CONTROL_PLANE_PORT: String(controlPlanePort),
    ADMIN_TOKEN,
  }),
);
for (let i = 0; i < 2; i += 1) {
  const port = await freePort();
  const opsPort = await freePort();
  services.push(
    startService('gateway/src/main.ts', {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: upstreamUrl,
      // Closed, so a limiter call that fails shows as a 503 instead of a silent extra admission;
      // a generous budget, so a busy test machine's scheduling delays are not store failures.
      GATEWAY_FAILURE_MODE: 'closed',
      GATEWAY_REDIS_TIMEOUT_MS: '2000',
    }),
  );
  gateways.push(`http://127.0.0.1:${port}`);
  gateways.push(`http://127.0.0.1:${opsPort}`);
}
const [gatewayA, opsA, gatewayB, opsB] = gateways as [string, string, string, string];
const started = await waitUntil(async () => {
  const answers = await Promise.all([
    fetch(`${controlPlane}/readyz`),
    fetch(`${opsA}/readyz`),
    fetch(`${opsB}/readyz`),
  ]);
  return answers.every((answer) => answer.status === 200);
}, 60_000);
if (!started) {
  t.fail(`services did not become ready:\n${services.map((service) => service.output()).join('\n---\n')}`);
}

t.test('a key created over REST is admitted by both gateways within a second', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-open', limits: [{ window: '1m', limit: 1000 }] });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'first', tier: 'e2e-open' });
  const secret = key.secret as string;
  const admitted = await waitUntil(
    async () => (await statusOf(gatewayA, secret)) === 200 && (await statusOf(gatewayB, secret)) === 200,
    PROPAGATION_DEADLINE_MS,
  );
  t.ok(admitted, 'both gateways answer 200');
  const forwarded = seenByUpstream[seenByUpstream.length - 1];
  t.equal(forwarded?.['x-api-key'], undefined, 'the upstream never sees the key');
  t.equal(forwarded?.['x-tollgate-key-id'], key.id, 'the upstream learns the key id instead');
});

t.test('80 concurrent requests through two gateways against a limit of 20 admit exactly 20', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-twenty', limits: [{ window: '1h', limit: 20 }] });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'burst', tier: 'e2e-twenty' });
  const secret = key.secret as string;
  // Wait with the quota endpoint, which consumes nothing.
  const known = await waitUntil(async () => {
    const [a, b] = await Promise.all([statusOf(gatewayA, secret, '/_gateway/quota'), statusOf(gatewayB, secret, '/_gateway/quota')]);
    return a === 200 && b === 200;
  }, PROPAGATION_DEADLINE_MS);
  t.ok(known, 'both gateways know the key');
  const statuses = await Promise.all(
    Array.from({ length: 80 }, (_, index) => statusOf(index % 2 === 0 ? gatewayA : gatewayB, secret)),
  );
  t.equal(statuses.filter((status) => status === 200).length, 20, 'exactly 20 admitted');
  t.equal(statuses.filter((status) => status === 429).length, 60, 'the other 60 refused with 429');
});

t.test('a revoked key is refused by every gateway within a second', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-revoke', limits: [{ window: '1m', limit: 1000 }] });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'doomed', tier: 'e2e-revoke' });
  const secret = key.secret as string;
  t.ok(await waitUntil(async () => (await statusOf(gatewayA, secret)) === 200 && (await statusOf(gatewayB, secret)) === 200, PROPAGATION_DEADLINE_MS));
  await admin(controlPlane, 'DELETE', `/v1/keys/${key.id as string}`);
  const revokedAt = Date.now();
  const refused = await waitUntil(
    async () => (await statusOf(gatewayA, secret)) === 401 && (await statusOf(gatewayB, secret)) === 401,
    PROPAGATION_DEADLINE_MS,
  );
  t.ok(refused, `both gateways answer 401 (after ${Date.now() - revokedAt} ms)`);
});

t.test('raising a tier limit over REST applies to its keys on every gateway', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-patch', limits: [{ window: '1h', limit: 1 }] });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'patched', tier: 'e2e-patch' });
  const secret = key.secret as string;
  t.ok(await waitUntil(async () => (await statusOf(gatewayA, secret)) === 200, PROPAGATION_DEADLINE_MS));
  t.equal(await statusOf(gatewayB, secret), 429, 'the one unit is used up on the shared limit');
  await admin(controlPlane, 'PATCH', '/v1/tiers/e2e-patch', { limits: [{ window: '1h', limit: 3 }] });
  const policyOf = async (gateway: string) =>
    (await fetch(`${gateway}/_gateway/quota`, { headers: { 'x-api-key': secret } })).headers.get('ratelimit-policy');
  const applied = await waitUntil(
    async () => (await policyOf(gatewayA)) === '"1h";q=3;w=3600' && (await policyOf(gatewayB)) === '"1h";q=3;w=3600',
    PROPAGATION_DEADLINE_MS,
  );
  t.ok(applied, 'both gateways announce the new policy');
  t.equal(await statusOf(gatewayA, secret), 200);
  t.equal(await statusOf(gatewayB, secret), 200);
  t.equal(await statusOf(gatewayA, secret), 429, 'three units in all, then refused');
});

t.test('switching a tier from shadow to enforce is one PATCH and reaches every gateway within a second', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-shadow', limits: [{ window: '1h', limit: 1 }], mode: 'shadow' });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'shadowed', tier: 'e2e-shadow' });
  const secret = key.secret as string;
  t.ok(await waitUntil(async () => (await statusOf(gatewayA, secret)) === 200, PROPAGATION_DEADLINE_MS));
  t.equal(await statusOf(gatewayA, secret), 200, 'over the limit, forwarded in shadow mode');
  t.equal(await statusOf(gatewayB, secret), 200);
  await admin(controlPlane, 'PATCH', '/v1/tiers/e2e-shadow', { mode: 'enforce' });
  const switchedAt = Date.now();
  const enforced = await waitUntil(
    async () => (await statusOf(gatewayA, secret)) === 429 && (await statusOf(gatewayB, secret)) === 429,
    PROPAGATION_DEADLINE_MS,
  );
  t.ok(enforced, `both gateways refuse (after ${Date.now() - switchedAt} ms)`);
});

t.test('a concurrency cap set over REST holds across both gateways', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-capped', limits: [{ window: '1h', limit: 1000 }], concurrency: 2 });
  const key = await admin(controlPlane, 'POST', '/v1/keys', { name: 'capped', tier: 'e2e-capped' });
  const secret = key.secret as string;
  t.ok(await waitUntil(async () => (await statusOf(gatewayA, secret, '/_gateway/quota')) === 200 && (await statusOf(gatewayB, secret, '/_gateway/quota')) === 200, PROPAGATION_DEADLINE_MS));
  const quota = await (await fetch(`${gatewayB}/_gateway/quota`, { headers: { 'x-api-key': secret } })).json();
  t.same(quota.concurrency, { limit: 2, in_flight: 0 });
});

t.test('GET /v1/gateways lists both gateways live and caught up with the latest change', async (t) => {
  await admin(controlPlane, 'POST', '/v1/tiers', { name: 'e2e-fleet', limits: [{ window: '1m', limit: 10 }] });
  // Heartbeats every 2 s: within a few seconds both report the change just made.
  let items: Record<string, unknown>[] = [];
  const caughtUp = await waitUntil(async () => {
    items = (await admin(controlPlane, 'GET', '/v1/gateways')).items as Record<string, unknown>[];
    return items.length === 2 && items.every((item) => item.state === 'live' && item.lag_revisions === 0);
  }, 6000);
  t.ok(caughtUp, JSON.stringify(items));
  for (const item of items) {
    t.match(item, { id: /^gw_/, version: '0.1.0', workers: 1, lag_seconds: 0, state: 'live' });
    t.ok((item.applied_revision as number) > 0, 'applied the changes of this run');
  }
  const metrics = await (await fetch(`${controlPlane}/metrics`)).text();
  t.match(metrics, /^tollgate_control_plane_gateways\{state="live"\} 2$/m);
});

t.test('GET /v1/gateways needs the admin token', async (t) => {
  const response = await fetch(`${controlPlane}/v1/gateways`);
  await response.arrayBuffer();
  t.equal(response.status, 401);
});
