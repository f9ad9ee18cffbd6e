// The gateways page in a real browser: heartbeats written into the registry in Redis (as running
// gateways write them) and changes published with the feed's own script, so the lag is real; live
// gateways first, stale ones marked and forgettable, and the states a fleet can be in: none yet,
// a gateway that came back before it was forgotten, one forgotten meanwhile, a registry that
// cannot be read.
import t from 'tap';
import { META_EPOCH_FIELD } from '../../../contracts/feed.js';
import { redisGatewayRegistry, type GatewayBeat } from '../../../contracts/gateway-registry.js';
import { publishChange } from '../../../contracts/lua/feed-scripts.js';
import { gatewayRegistryKey, projectionKeys } from '../../../contracts/redis-keys.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { openCheckedPage, screenshot, signIn } from './helpers/browser.js';

const app = await startAdminTestApp('admin_gateways', { restRoutes: true });
t.teardown(() => app.close());
const { page } = await openCheckedPage(t);
const url = (path: string) => `${app.baseUrl}${path}`;
const registry = redisGatewayRegistry(app.redis, app.prefix);

function beat(id: string, host: string, appliedRevision: number, secondsAgo: number): GatewayBeat {
  const now = app.clock.now().getTime();
  return {
    id,
    host,
    version: '0.1.0',
    started_at: new Date(now - 3_600_000).toISOString(),
    workers: 2,
    epoch: 'e1',
    applied_revision: appliedRevision,
    seen_at_ms: now - secondsAgo * 1000,
  };
}

/** The gateway ids of the table's rows, top to bottom. */
async function rowIds(): Promise<(string | null)[]> {
  return page.locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-gateway')));
}

const row = (id: string) => page.locator(`tbody tr[data-gateway="${id}"]`);

/** Clicks a Forget button and returns the status of the page that answers. */
async function forget(id: string): Promise<number> {
  const answer = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: `Forget ${id}` }).click();
  const status = (await answer).status();
  await page.waitForLoadState();
  return status;
}

await signIn(page, app.baseUrl, ADMIN_USER, ADMIN_PASSWORD);

t.test('before any heartbeat the page says none has arrived and how often gateways send them', async (t) => {
  await page.goto(url('/admin/keys'));
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Gateways' }).click();
  t.equal(new URL(page.url()).pathname, '/admin/gateways', 'the navigation leads here');
  t.equal(await page.getByRole('link', { name: 'Gateways' }).getAttribute('aria-current'), 'page');
  t.match(await page.locator('.empty').textContent(), /No gateway has sent a heartbeat yet\..*every 2 s/);
  t.equal(await page.locator('table').count(), 0);
  await screenshot(page, 'gateways-empty');
});

t.test('live gateways come first, each with its host, version, workers, revision and lag', async (t) => {
  // Three changes published with the feed's script; two gateways applied all, one only the first.
  await app.redis.hset(projectionKeys(app.prefix).meta, META_EPOCH_FIELD, 'e1');
  for (const revision of [1, 2, 3]) await publishChange(app.redis, app.prefix, 'tier', `tier-${revision}`, '{}', revision);
  await registry.beat(beat('gw_up_to_date', 'edge-b', 3, 1));
  await registry.beat(beat('gw_behind', 'edge-a', 1, 3));
  await registry.beat(beat('gw_gone', 'edge-0', 3, 75));
  await page.goto(url('/admin/gateways'));
  const rest = (await app.call('GET', '/v1/gateways')).body.items;
  t.same(await rowIds(), ['gw_behind', 'gw_up_to_date', 'gw_gone'], 'live by host, then stale');
  t.same(await rowIds(), rest.map((item: { id: string }) => item.id), 'the order of GET /v1/gateways');
  const cells = await row('gw_behind').locator('td').allTextContents();
  t.same(cells.slice(0, 4), ['gw_behind', 'edge-a', '0.1.0', '2']);
  t.equal(cells[6], '1', 'applied revision');
  t.match(cells[7], /^2 revisions · (< )?[\d.]+ s$/, 'two changes behind, and for how long');
  t.equal(await row('gw_up_to_date').locator('td').nth(7).textContent(), 'up to date');
  t.match(await row('gw_up_to_date').locator('td').nth(5).textContent(), /^\d+ s ago$/, 'last seen, relative');
  t.equal(await row('gw_up_to_date').locator('td time').nth(1).getAttribute('datetime'), rest.find((item: { id: string }) => item.id === 'gw_up_to_date').last_seen_at, 'the exact instant kept in the element');
  t.equal(await page.getByTestId('fleet-summary').textContent(), '2 live · 1 stale');
  await screenshot(page, 'gateways');
});

t.test('a stale gateway is marked with a stale badge and is the only one with a Forget button', async (t) => {
  t.equal(await row('gw_gone').getAttribute('class'), 'stale-row');
  t.equal(await row('gw_gone').locator('.badge-bad').textContent(), 'stale');
  t.match(await row('gw_gone').locator('td').nth(5).textContent(), '1 min ago');
  t.same(await page.locator('.badge-ok').allTextContents(), ['live', 'live']);
  t.same(await page.getByRole('button', { name: /^Forget/ }).evaluateAll((buttons) => buttons.map((button) => button.getAttribute('aria-label'))), ['Forget gw_gone']);
});

t.test('forgetting a stale gateway removes its entry and says so', async (t) => {
  t.equal(await forget('gw_gone'), 303);
  t.match(await page.getByRole('status').first().textContent(), 'Gateway forgotten.');
  t.same(await rowIds(), ['gw_behind', 'gw_up_to_date']);
  t.notOk((await registry.list()).some((entry) => entry.id === 'gw_gone'), 'gone from the registry');
  await screenshot(page, 'gateways-forgotten');
});

t.test('a stale gateway that heartbeats again before Forget is clicked is refused with 409 and kept', async (t) => {
  await registry.beat(beat('gw_back', 'edge-c', 3, 30));
  await page.goto(url('/admin/gateways'));
  await registry.beat(beat('gw_back', 'edge-c', 3, 0));
  t.equal(await forget('gw_back'), 409);
  t.match(await page.getByRole('alert').textContent(), 'Gateway gw_back is live: it was not forgotten.');
  t.ok((await registry.list()).some((entry) => entry.id === 'gw_back'), 'still in the registry');
  t.equal(await row('gw_back').locator('.badge').textContent(), 'live', 'and listed as live');
  await screenshot(page, 'gateways-forget-live');
});

t.test('forgetting a gateway that is no longer listed answers 404 with a message', async (t) => {
  await registry.beat(beat('gw_twice', 'edge-d', 3, 30));
  await page.goto(url('/admin/gateways'));
  await registry.remove(['gw_twice']);
  t.equal(await forget('gw_twice'), 404);
  t.match(await page.getByRole('alert').textContent(), 'There is no gateway gw_twice.');
  t.equal(await row('gw_twice').count(), 0);
});

t.test('a registry that cannot be read is a 503 message on the page, not an error page', async (t) => {
  // A registry key of the wrong type makes every read of it fail in Redis itself.
  const saved = await app.redis.hgetall(gatewayRegistryKey(app.prefix));
  await app.redis.del(gatewayRegistryKey(app.prefix));
  await app.redis.set(gatewayRegistryKey(app.prefix), 'not a hash');
  t.teardown(async () => {
    await app.redis.del(gatewayRegistryKey(app.prefix));
    await app.redis.hset(gatewayRegistryKey(app.prefix), saved);
  });
  const response = await page.goto(url('/admin/gateways'));
  t.equal(response?.status(), 503);
  t.match(await page.locator('.alert-warning').textContent(), 'The list of gateways cannot be read right now.');
  t.equal(await page.locator('h1').textContent(), 'Gateways', 'the gateways page, with its navigation');
  t.equal(await page.locator('.empty').count(), 0, 'not mistaken for an empty fleet');
  await screenshot(page, 'gateways-unavailable');
});
