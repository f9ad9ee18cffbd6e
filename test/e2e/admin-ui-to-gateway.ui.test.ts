// The admin UI in a browser against a control plane and a gateway running as processes on Redis and
// PostgreSQL: what an operator does in the UI (create, deactivate, rotate, revoke, change limits)
// is what the running gateway enforces, each within the 1 s a REST change has.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { freePort } from '../../test-support/ports.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { launchBrowser, screenshot, signIn } from '../../control-plane/test/admin-ui/helpers/browser.js';
import { startService, waitUntil, type Service } from './helpers/services.js';

const ADMIN_TOKEN = 'e2e-ui-admin-token-0123456789';
const ADMIN_USER = 'ops';
const ADMIN_PASSWORD = 'e2e admin ui password';
const PROPAGATION_DEADLINE_MS = 1000;

const upstream: Server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end('{"ok":true}');
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const database = await createTestDatabase('e2e_ui');
const prefix = uniquePrefix('e2e-ui');
const [controlPlanePort, gatewayPort, opsPort] = [await freePort(), await freePort(), await freePort()];
const controlPlane = `http://127.0.0.1:${controlPlanePort}`;
const gateway = `http://127.0.0.1:${gatewayPort}`;
const shared = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_KEY_PREFIX: prefix };
const services: Service[] = [
  startService('control-plane/src/main.ts', {
    ...shared,
    DATABASE_URL: database.url,
    CONTROL_PLANE_PORT: String(controlPlanePort),
    ADMIN_TOKEN,
    ADMIN_USER,
    ADMIN_PASSWORD,
  }),
  startService('gateway/src/main.ts', {
    ...shared,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_OPS_PORT: String(opsPort),
    GATEWAY_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    // Closed and generous, as in the REST end-to-end test: a store failure shows as 503, not 200.
    GATEWAY_FAILURE_MODE: 'closed',
    GATEWAY_REDIS_TIMEOUT_MS: '2000',
  }),
];
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
t.teardown(async () => {
  await browser.close();
  await Promise.all(services.map((service) => service.stop()));
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await database.drop();
});

const ready = await waitUntil(async () => {
  const answers = await Promise.all([fetch(`${controlPlane}/readyz`), fetch(`http://127.0.0.1:${opsPort}/readyz`)]);
  return answers.every((answer) => answer.status === 200);
}, 60_000);
if (!ready) t.fail(`services did not become ready:\n${services.map((service) => service.output()).join('\n---\n')}`);

await fetch(`${controlPlane}/v1/tiers`, {
  method: 'POST',
  headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'e2e-ui', limits: [{ window: '1m', limit: 1000 }] }),
});

async function statusOf(secret: string, path = '/orders'): Promise<number> {
  const response = await fetch(`${gateway}${path}`, { headers: { 'x-api-key': secret } });
  await response.arrayBuffer();
  return response.status;
}

/** True when the gateway answers `status` for the secret within the propagation deadline. */
function reaches(secret: string, status: number): Promise<boolean> {
  return waitUntil(async () => (await statusOf(secret, '/_gateway/quota')) === status, PROPAGATION_DEADLINE_MS);
}

let keyPath = '';
let secret = '';

t.test('the first admin user from ADMIN_USER and ADMIN_PASSWORD signs in', async (t) => {
  await signIn(page, controlPlane, ADMIN_USER, ADMIN_PASSWORD);
  t.equal(new URL(page.url()).pathname, '/admin/keys');
});

t.test('a key created in the UI is admitted by the running gateway within a second', async (t) => {
  await page.getByLabel('Name').fill('storefront');
  await page.getByLabel('Tier').selectOption('e2e-ui');
  await page.getByRole('button', { name: 'Create key' }).click();
  secret = ((await page.getByTestId('new-secret').textContent()) ?? '').trim();
  t.ok(await reaches(secret, 200), 'admitted');
  await page.getByRole('link', { name: 'storefront' }).click();
  keyPath = new URL(page.url()).pathname;
});

t.test('a limit override saved in the UI is the policy the gateway announces', async (t) => {
  await page.getByLabel('Window of limit 1').fill('1h');
  await page.getByLabel('Requests of limit 1').fill('42');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const announced = await waitUntil(async () => {
    const response = await fetch(`${gateway}/_gateway/quota`, { headers: { 'x-api-key': secret } });
    await response.arrayBuffer();
    return response.headers.get('ratelimit-policy') === '"1h";q=42;w=3600';
  }, PROPAGATION_DEADLINE_MS);
  t.ok(announced);
});

t.test('a key made inactive in the UI is refused, and admitted again when made active', async (t) => {
  await page.getByLabel('Active').uncheck();
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.ok(await reaches(secret, 401), 'inactive: 401');
  await page.getByLabel('Active').check();
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.ok(await reaches(secret, 200), 'active again: 200');
});

t.test('a key put in shadow mode in the UI is forwarded past its limit, and refused again once it inherits enforce', async (t) => {
  await page.getByLabel('Requests of limit 1').fill('1');
  await page.getByLabel('Window of limit 1').fill('1m');
  await page.getByLabel('Mode').selectOption('shadow');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const announced = await waitUntil(async () => {
    const response = await fetch(`${gateway}/_gateway/quota`, { headers: { 'x-api-key': secret } });
    await response.arrayBuffer();
    return response.headers.get('ratelimit-policy') === '"1m";q=1;w=60';
  }, PROPAGATION_DEADLINE_MS);
  t.ok(announced, 'the new limit is announced');
  const statuses = [await statusOf(secret), await statusOf(secret), await statusOf(secret)];
  t.same(statuses, [200, 200, 200], 'over a limit of 1, shadow forwards');
  await page.getByLabel('Mode').selectOption('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.ok(await waitUntil(async () => (await statusOf(secret)) === 429, PROPAGATION_DEADLINE_MS), 'enforced again: 429');
  await page.getByLabel('Requests of limit 1').fill('1000');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.ok(await waitUntil(async () => (await statusOf(secret)) === 200, PROPAGATION_DEADLINE_MS), 'room again for the tests after this one');
});

t.test('rotating in the UI stops the old secret and admits the new one within a second', async (t) => {
  await page.goto(`${controlPlane}${keyPath}/rotate`);
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = ((await page.getByTestId('new-secret').textContent()) ?? '').trim();
  t.ok(await reaches(secret, 401), 'the old secret: 401');
  t.ok(await reaches(rotated, 200), 'the new secret: 200');
  secret = rotated;
});

t.test('a key revoked in the UI gets 401 at the running gateway within a second', async (t) => {
  t.equal(await statusOf(secret), 200, 'admitted before');
  await page.goto(`${controlPlane}${keyPath}/revoke`);
  await page.getByRole('button', { name: 'Revoke key' }).click();
  await page.getByRole('status').first().waitFor();
  const revokedAt = Date.now();
  const refused = await waitUntil(async () => (await statusOf(secret)) === 401, PROPAGATION_DEADLINE_MS);
  t.ok(refused, `401 after ${Date.now() - revokedAt} ms`);
  await screenshot(page, 'e2e-key-revoked');
});
