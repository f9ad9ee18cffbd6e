// Limit policies in the admin UI, in a real browser: GCRA bursts, calendar windows in a time zone,
// shadow mode, concurrency caps and route limits on the tier form; refused policies shown beside
// their field; a key's mode override; its usage facts; shadow and keyless rows in the request
// logs; policy fields in the audit log. Every change is checked through the REST API.
import t from 'tap';
import { sha256Hex } from '../../src/keys/secret.js';
import { insertRequestEvents } from '../../src/request-logs/repository.js';
import { makeEvent } from '../log-writer/support.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { openCheckedPage, screenshot, signIn } from './helpers/browser.js';

const app = await startAdminTestApp('admin_policies', { restRoutes: true });
t.teardown(() => app.close());
const { page } = await openCheckedPage(t);
const url = (path: string) => `${app.baseUrl}${path}`;

await app.call('POST', '/v1/tiers', { name: 'free', limits: [{ window: '1m', limit: 5 }] });
await signIn(page, app.baseUrl, ADMIN_USER, ADMIN_PASSWORD);

/** Opens the new-tier form and fills the name and the first limit. */
async function newTier(name: string, window: string, limit: string): Promise<void> {
  await page.goto(url('/admin/tiers/_new'));
  await page.getByLabel('Tier name').fill(name);
  await page.getByLabel('Window of limit 1').fill(window);
  await page.getByLabel('Requests of limit 1').fill(limit);
}

async function createTier(): Promise<void> {
  await page.getByRole('button', { name: 'Create tier' }).click();
  await page.getByRole('status').first().waitFor();
}

t.test('burst inputs appear only once gcra is chosen as the algorithm', async (t) => {
  await newTier('smooth', '1m', '60');
  t.equal(await page.getByLabel('Burst of limit 1').isVisible(), false, 'hidden for sliding_window');
  await page.getByLabel('Algorithm').selectOption('gcra');
  t.equal(await page.getByLabel('Burst of limit 1').isVisible(), true, 'shown for gcra');
  t.equal(await page.getByLabel('Burst of route limit 1').isVisible(), true, 'route limits too');
});

t.test('a gcra tier with a burst is created in the UI and REST and the feed carry the burst', async (t) => {
  await page.getByLabel('Burst of limit 1').fill('10');
  await page.getByLabel('Window of limit 2').fill('1h');
  await page.getByLabel('Requests of limit 2').fill('2000');
  await screenshot(page, 'tier-new-gcra');
  await createTier();
  const tier = (await app.call('GET', '/v1/tiers/smooth')).body;
  t.equal(tier.algorithm, 'gcra');
  t.same(tier.limits, [{ window: '1m', limit: 60, burst: 10 }, { window: '1h', limit: 2000 }]);
  t.same(app.publisher.tierChanges('smooth').at(-1)?.limits, tier.limits, 'published to the gateways');
  t.equal(await page.getByLabel('Burst of limit 1').inputValue(), '10', 'the form shows the burst again');
});

t.test('a month-window tier keeps its time zone, and the list says where its calendar resets', async (t) => {
  await newTier('monthly', 'month', '100000');
  await page.getByLabel('Window of limit 2').fill('day');
  await page.getByLabel('Requests of limit 2').fill('5000');
  await page.getByLabel('Time zone').fill('Europe/Paris');
  await createTier();
  const tier = (await app.call('GET', '/v1/tiers/monthly')).body;
  t.equal(tier.timezone, 'Europe/Paris');
  t.same(tier.limits, [{ window: 'month', limit: 100000 }, { window: 'day', limit: 5000 }]);
  await page.goto(url('/admin/tiers'));
  const row = page.locator('tbody tr', { hasText: 'monthly' });
  t.match(await row.locator('.calendar-note').textContent(), 'Europe/Paris');
  t.match(await row.textContent(), '100,000 / month');
});

t.test('a shadow tier with a concurrency cap is listed with a shadow badge and its cap', async (t) => {
  await newTier('trial', '1m', '30');
  await page.getByLabel('Mode').selectOption('shadow');
  await page.getByLabel('Concurrency').fill('5');
  await createTier();
  t.equal(await page.locator('.page-head .badge').textContent(), 'shadow', 'the tier page says shadow at the top');
  const tier = (await app.call('GET', '/v1/tiers/trial')).body;
  t.equal(tier.mode, 'shadow');
  t.equal(tier.concurrency, 5);
  await page.goto(url('/admin/tiers'));
  const row = page.locator('tbody tr', { hasText: 'trial' });
  t.equal(await row.getAttribute('class'), 'shadow-row', 'the row is marked');
  t.equal(await row.locator('.badge').textContent(), 'shadow');
  t.equal(await row.locator('td.num').textContent(), '5');
  t.equal(await page.locator('tbody tr', { hasText: 'free' }).locator('.badge').textContent(), 'enforce', 'an enforcing tier says so quietly');
  await screenshot(page, 'tiers-policies');
});

t.test('route limits typed in rows reach REST grouped by route, a route name with dots included', async (t) => {
  await page.goto(url('/admin/tiers/smooth'));
  await page.getByLabel('Route of route limit 1').fill('/reports');
  await page.getByLabel('Window of route limit 1').fill('1m');
  await page.getByLabel('Requests of route limit 1').fill('10');
  await page.getByLabel('Route of route limit 2').fill('v1.export');
  await page.getByLabel('Window of route limit 2').fill('1h');
  await page.getByLabel('Requests of route limit 2').fill('3');
  await page.getByLabel('Burst of route limit 2').fill('2');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Changes saved');
  t.same((await app.call('GET', '/v1/tiers/smooth')).body.route_limits, {
    '/reports': [{ window: '1m', limit: 10 }],
    'v1.export': [{ window: '1h', limit: 3, burst: 2 }],
  });
  await screenshot(page, 'tier-edit-route-limits');
});

t.test('leaving gcra while a limit keeps its burst: 422 beside the burst, the input kept, nothing changed', async (t) => {
  await page.goto(url('/admin/tiers/smooth'));
  await page.getByLabel('Algorithm').selectOption('sliding_window');
  t.equal(await page.getByLabel('Burst of limit 1').isVisible(), true, 'a burst already typed stays visible');
  const answer = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.equal((await answer).status(), 422);
  t.match(await page.locator('#burst_0-error').textContent(), 'burst applies only to gcra tiers');
  t.equal(await page.getByLabel('Burst of limit 1').getAttribute('aria-invalid'), 'true');
  t.match(await page.locator('#route_burst_1-error').textContent(), 'burst applies only to gcra tiers', 'the route limit’s burst too');
  t.equal(await page.getByLabel('Algorithm').inputValue(), 'sliding_window', 'the choice made is kept');
  t.equal(await page.getByLabel('Burst of limit 1').inputValue(), '10');
  t.equal((await app.call('GET', '/v1/tiers/smooth')).body.algorithm, 'gcra', 'the tier is unchanged');
  await screenshot(page, 'tier-edit-invalid-policy');
});

t.test('bad policy fields on a new tier are each shown beside their field, as typed', async (t) => {
  await newTier('broken', '1m', '100');
  await page.getByLabel('Time zone').fill('Mars/Olympus_Mons');
  await page.getByLabel('Concurrency').fill('0');
  await page.getByLabel('Route of route limit 1').fill('bad route!');
  await page.getByLabel('Window of route limit 1').fill('1m');
  await page.getByLabel('Requests of route limit 1').fill('1');
  await page.getByRole('button', { name: 'Create tier' }).click();
  t.match(await page.locator('#tier-timezone-error').textContent(), 'IANA time zone');
  t.match(await page.locator('#tier-concurrency-error').textContent(), 'at least 1');
  t.match(await page.locator('#route_0-error').textContent(), 'not a valid name');
  t.equal(await page.getByLabel('Time zone').inputValue(), 'Mars/Olympus_Mons', 'the time zone as typed');
  t.equal(await page.getByLabel('Route of route limit 1').inputValue(), 'bad route!', 'the route as typed');
  t.equal((await app.call('GET', '/v1/tiers/broken')).status, 404, 'nothing was created');
  await screenshot(page, 'tier-new-policy-errors');
});

t.test('a burst on a month window is refused beside the burst: a calendar period has none', async (t) => {
  await newTier('broken', 'month', '100');
  await page.getByLabel('Algorithm').selectOption('gcra');
  await page.getByLabel('Burst of limit 1').fill('5');
  await page.getByRole('button', { name: 'Create tier' }).click();
  t.match(await page.locator('#burst_0-error').textContent(), 'not day or month');
  t.equal((await app.call('GET', '/v1/tiers/broken')).status, 404, 'nothing was created');
});

const created = (await app.call('POST', '/v1/keys', { name: 'reports job', tier: 'free' })).body;
const keyPath = `/admin/keys/${created.id}`;

t.test("a key's mode override set in the UI reaches REST and the feed, and inheriting clears it", async (t) => {
  await page.goto(url(keyPath));
  t.match(await page.getByTestId('key-mode').textContent(), 'from tier');
  await page.getByLabel('Mode').selectOption('shadow');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Changes saved');
  t.equal((await app.call('GET', `/v1/keys/${created.id}`)).body.mode, 'shadow');
  t.equal(app.publisher.keyChanges(sha256Hex(created.secret)).at(-1)?.mode, 'shadow', 'published to the gateways');
  t.match(await page.getByTestId('key-mode').textContent(), /shadow\s*override/);
  await screenshot(page, 'key-mode-shadow');
  await page.goto(url('/admin/keys'));
  t.equal(await page.locator('tbody tr', { hasText: 'reports job' }).locator('.badge-warn').textContent(), 'shadow', 'the key list marks it too');
  await page.goto(url(keyPath));

  await page.getByLabel('Mode').selectOption({ label: 'Inherit from tier (enforce)' });
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.equal((await app.call('GET', `/v1/keys/${created.id}`)).body.mode, null, 'null: the tier’s mode again');
});

t.test('a key created in shadow mode from the new-key form is a shadow key in REST, the feed and the list', async (t) => {
  await page.goto(url('/admin/keys'));
  await page.getByLabel('Name').fill('shadow from the start');
  await page.getByLabel('Tier').selectOption('free');
  await page.getByLabel('Mode').selectOption('shadow');
  await screenshot(page, 'key-new-shadow-form');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = (await page.getByTestId('new-secret').textContent()) ?? '';
  const [key] = (await app.call('GET', `/v1/keys?q=${encodeURIComponent('shadow from the start')}`)).body.items;
  t.equal(key?.mode, 'shadow');
  t.equal(app.publisher.keyChanges(sha256Hex(secret)).at(-1)?.mode, 'shadow', 'published to the gateways');
  t.equal(await page.locator('tbody tr', { hasText: 'shadow from the start' }).locator('.badge-warn').textContent(), 'shadow', 'the list marks it');
  t.equal(await page.getByLabel('Mode').inputValue(), '', 'the form is ready for the next key: inherit');
});

t.test("a key's burst on a tier that is not gcra is refused with 422 beside the burst", async (t) => {
  await page.goto(url(keyPath));
  await page.getByLabel('Tier').selectOption('smooth');
  await page.getByLabel('Window of limit 1').fill('1m');
  await page.getByLabel('Requests of limit 1').fill('20');
  await page.getByLabel('Burst of limit 1').fill('4');
  await page.getByLabel('Tier').selectOption('free');
  const answer = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.equal((await answer).status(), 422);
  t.match(await page.locator('#burst_0-error').textContent(), 'burst applies only to gcra tiers');
  t.equal(await page.getByLabel('Burst of limit 1').inputValue(), '4', 'the input is kept');
  t.same((await app.call('GET', `/v1/keys/${created.id}`)).body.limits, null, 'the key is unchanged');
  await screenshot(page, 'key-edit-invalid-policy');
});

t.test('the key page shows every limit by name, bursts, in-flight requests, the last refusal and refusals per limit', async (t) => {
  const key = (await app.call('POST', '/v1/keys', { name: 'exporter', tier: 'smooth' })).body;
  await app.call('PATCH', '/v1/tiers/smooth', { concurrency: 4 });
  const now = Date.now();
  const refused = (minutesAgo: number, limitedBy: string, shadow = false) =>
    makeEvent({ timeMs: now - minutesAgo * 60_000, keyId: key.id, tier: 'smooth', status: shadow ? 200 : 429, limited: !shadow, limitedBy, shadowLimited: shadow });
  await insertRequestEvents(app.db, [
    refused(5, '1m'),
    refused(4, '1m'),
    refused(3, '/reports:1m'),
    refused(120, 'concurrency'),
    refused(1, '1h', true),
    makeEvent({ timeMs: now - 60_000, keyId: key.id, tier: 'smooth' }),
  ]);
  const usage = (await app.call('GET', `/v1/keys/${key.id}/usage`)).body;
  await page.goto(url(`/admin/keys/${key.id}`));
  const limitsTable = page.getByRole('region', { name: 'Usage per limit' });
  t.same(await limitsTable.locator('tbody td:first-child').allTextContents(), usage.limits.map((limit: { name: string }) => limit.name), 'every limit, named as REST names it');
  t.ok(usage.limits.some((limit: { name: string }) => limit.name === '/reports:1m'), 'route limits among them');
  t.match(await limitsTable.locator('tbody tr', { hasText: /^1m/ }).textContent(), 'burst 10');
  t.match(await page.locator('.usage-facts').textContent(), `${usage.concurrency.in_flight} of 4`, 'in flight against the cap');
  t.match(await page.getByTestId('last-limited').textContent(), /by 1h at .*shadow: forwarded/, 'the last decision, a shadow one');
  const refusals = page.getByRole('region', { name: 'Refusals per limit' });
  const counts = async (name: string) => (await refusals.locator('tbody tr', { has: page.locator('code', { hasText: new RegExp(`^${name}$`) }) }).locator('td.num').allTextContents());
  t.same(await counts('1m'), ['2', '2'], 'the 1m limit: last hour, last day');
  t.same(await counts('/reports:1m'), ['1', '1']);
  t.same(await counts('concurrency'), ['0', '1'], 'the cap refused one two hours ago');
  t.same(await refusals.locator('tr.shadow-row td.num').allTextContents(), ['1', '1'], 'shadow refusals apart');
  t.same(usage.totals.last_day.limited_by, { '/reports:1m': 1, '1m': 2, concurrency: 1 }, 'the same numbers as REST');
  await screenshot(page, 'key-usage-policies');
});

t.test('request logs mark shadow-limited rows, name the limit and show keyless rows by client address; filters still apply', async (t) => {
  const now = Date.now();
  await insertRequestEvents(app.db, [
    makeEvent({ timeMs: now - 1000, keyId: created.id, tier: 'free', route: 'orders', status: 200, shadowLimited: true, limitedBy: '1m', clientIp: '192.0.2.10' }),
    makeEvent({ timeMs: now - 2000, keyId: null, tier: null, route: 'public', status: 429, limited: true, limitedBy: 'public:1m', clientIp: '203.0.113.9' }),
    makeEvent({ timeMs: now - 3000, keyId: null, tier: null, route: 'public', status: 200, clientIp: '2001:db8::1' }),
  ]);
  await page.goto(url('/admin/request-logs'));
  const shadowRows = page.locator('tbody tr.shadow-row');
  t.ok((await shadowRows.count()) >= 1, 'shadow-limited rows are marked');
  t.match(await shadowRows.first().textContent(), /1m\s*shadow/, 'with the limit that would have refused them');
  t.match(await shadowRows.first().locator('.badge').textContent(), '200', 'and the status they got: forwarded');
  const keyless = page.locator('tbody tr', { hasText: '203.0.113.9' });
  t.match(await keyless.locator('td').nth(1).textContent(), 'no key');
  t.match(await keyless.textContent(), 'public:1m', 'a keyless refusal names its route limit');
  await screenshot(page, 'request-logs-policies');

  await page.getByLabel('Route').fill('public');
  await page.getByLabel('Status').fill('429');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  t.same(await page.locator('tbody td code', { hasText: /^203\./ }).allTextContents(), ['203.0.113.9'], 'only the keyless 429 on that route');
});

t.test('the outcome filters show only limited or only shadow-limited requests, as REST does, and keep the typed filters', async (t) => {
  const now = Date.now();
  const onRoute = { keyId: created.id, tier: 'free', route: 'outcomes' };
  await insertRequestEvents(app.db, [
    makeEvent({ ...onRoute, timeMs: now - 1000, status: 429, limited: true, limitedBy: '1m' }),
    makeEvent({ ...onRoute, timeMs: now - 2000, status: 200, shadowLimited: true, limitedBy: '1m' }),
    makeEvent({ ...onRoute, timeMs: now - 3000, status: 200 }),
  ]);
  const statuses = () => page.locator('tbody tr td:nth-child(7)').allTextContents();
  const restStatuses = async (query: string) => (await app.call('GET', `/v1/request-logs?route=outcomes&${query}`)).body.items.map((item: { status: number }) => String(item.status));
  await page.goto(url('/admin/request-logs'));
  await page.getByLabel('Route').fill('outcomes');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  t.same(await statuses(), ['429', '200', '200']);

  await page.getByRole('link', { name: 'Limited only', exact: true }).click();
  t.same(await statuses(), ['429']);
  t.same(await statuses(), await restStatuses('limited=true'), 'the rows of limited=true');
  t.equal(await page.getByLabel('Route').inputValue(), 'outcomes', 'the typed route is kept');
  t.equal(await page.locator('.filter-group a.current', { hasText: 'only' }).textContent(), 'Limited only');

  await page.getByRole('link', { name: 'Shadow-limited only', exact: true }).click();
  t.same(await statuses(), ['200']);
  t.same(await statuses(), await restStatuses('shadow_limited=true'), 'the rows of shadow_limited=true');
  t.equal(await page.locator('tbody tr.shadow-row').count(), 1, 'marked shadow');
  await screenshot(page, 'request-logs-shadow-limited');

  await page.getByLabel('Status').fill('429');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  t.equal(new URL(page.url()).searchParams.get('shadow_limited'), 'true', 'applying the form keeps the outcome chosen');
  t.match(await page.locator('.empty').textContent(), 'No requests match these filters.');

  await page.getByRole('link', { name: 'All requests', exact: true }).click();
  t.same(await statuses(), ['429'], 'every outcome again, the typed filters kept');
});

t.test('the audit log shows policy changes: mode, concurrency, time zone, bursts and route limits', async (t) => {
  await page.goto(url('/admin/tiers/trial'));
  await page.getByLabel('Mode').selectOption('enforce');
  await page.getByLabel('Concurrency').fill('');
  await page.getByLabel('Time zone').fill('America/New_York');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.goto(url('/admin/audit-log?resource_type=tier&resource_id=trial'));
  const update = page.locator('tbody tr', { hasText: 'tier.update' }).first();
  const change = async (field: string) => ((await update.locator('dt', { hasText: new RegExp(`^${field}$`) }).locator('xpath=following-sibling::dd[1]').textContent()) ?? '').replace(/\s+/g, ' ');
  t.equal(await change('mode'), 'shadow → enforce');
  t.equal(await change('concurrency'), '5 → no cap');
  t.equal(await change('timezone'), 'UTC → America/New_York');
  t.equal(await update.locator('dt').count(), 3, 'only the fields that changed');
  await screenshot(page, 'audit-log-policies');

  await page.goto(url('/admin/audit-log?resource_type=tier&resource_id=smooth'));
  const routeChange = page.locator('tbody tr', { hasText: 'tier.update' }).last();
  t.match(await routeChange.locator('ins').textContent(), '/reports: 10 / 1m; v1.export: 3 / 1h, burst 2', 'route limits read as limits');
  const creation = page.locator('tbody tr', { hasText: 'tier.create' });
  t.match(await creation.textContent(), '60 / 1m, burst 10', 'a burst in the created limits');
});
