// The admin UI in a real browser, as an operator uses it: sign-in, keys (create, edit, rotate,
// revoke), tiers, request logs and the audit log, each change checked through the REST API and
// the feed to the gateways. Every page is also saved as a screenshot at desktop and phone width.
import t from 'tap';
import { insertRequestEvents } from '../../src/request-logs/repository.js';
import { sha256Hex } from '../../src/keys/secret.js';
import { makeEvent } from '../log-writer/support.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { openCheckedPage, screenshot, signIn } from './helpers/browser.js';

const IDLE_MS = 30 * 60_000;
const app = await startAdminTestApp('admin_browser', { idleMs: IDLE_MS });
t.teardown(() => app.close());
const { browser, context, page } = await openCheckedPage(t);
const url = (path: string) => `${app.baseUrl}${path}`;

await app.call('POST', '/v1/tiers', { name: 'gold', description: 'paying customers', limits: [{ window: '1m', limit: 60 }, { window: '1d', limit: 10000 }] });
await app.call('POST', '/v1/tiers', { name: 'free', limits: [{ window: '1m', limit: 5 }] });

t.test('a page of the admin UI without a session leads to the sign-in page', async (t) => {
  await page.goto(url('/admin/keys'));
  t.equal(new URL(page.url()).pathname, '/admin/login');
  t.ok(await page.getByLabel('Username').isVisible());
  await screenshot(page, 'sign-in');
});

t.test('a wrong password stays on the sign-in page with an error', async (t) => {
  await page.getByLabel('Username').fill(ADMIN_USER);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  t.equal(new URL(page.url()).pathname, '/admin/login');
  t.match(await page.getByRole('alert').textContent(), 'Wrong username or password');
  t.equal(await page.getByLabel('Username').inputValue(), ADMIN_USER, 'the username is kept');
  await screenshot(page, 'sign-in-failed');
});

t.test('the right password signs in with an HttpOnly, SameSite=Strict session cookie', async (t) => {
  await signIn(page, app.baseUrl, ADMIN_USER, ADMIN_PASSWORD);
  t.equal(new URL(page.url()).pathname, '/admin/keys', 'lands where the sign-in was asked from');
  const session = (await context.cookies()).find((cookie) => cookie.name === 'tollgate_session');
  t.ok(session, 'a session cookie is set');
  t.equal(session?.httpOnly, true);
  t.equal(session?.sameSite, 'Strict');
  t.equal(session?.secure, false, 'not Secure over plain HTTP');
  t.equal(session?.path, '/admin');
  t.equal(await page.getByRole('link', { name: 'API docs' }).getAttribute('href'), '/docs', 'the header links the API reference');
  await screenshot(page, 'keys-empty');
});

t.test('an empty request log says so instead of showing an empty table', async (t) => {
  await page.goto(url('/admin/request-logs'));
  t.match(await page.locator('.empty').textContent(), 'No requests logged yet');
  t.equal(await page.locator('table').count(), 0);
  await screenshot(page, 'request-logs-empty');
});

t.test('a form whose CSRF token was tampered with is refused with a 403 page and creates nothing', async (t) => {
  await page.goto(url('/admin/keys'));
  await page.locator('form[action="/admin/keys"] input[name="csrf"]').evaluate((input) => input.setAttribute('value', 'tampered'));
  await page.getByLabel('Name').fill('forged');
  const answer = page.waitForResponse((response) => response.request().method() === 'POST');
  await page.getByRole('button', { name: 'Create key' }).click();
  t.equal((await answer).status(), 403);
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Form refused');
  t.equal((await app.call('GET', '/v1/keys?q=forged')).body.items.length, 0);
  await screenshot(page, 'form-refused');
  await page.goto(url('/admin/keys'));
});

let createdId = '';
let createdSecret = '';

t.test('a key created in the UI shows its secret once and is listed in the UI and in GET /v1/keys', async (t) => {
  await page.getByLabel('Name').fill('checkout service');
  await page.getByLabel('Tier').selectOption('gold');
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('new-secret');
  createdSecret = ((await secret.textContent()) ?? '').trim();
  t.match(createdSecret, /^tg_[0-9A-Za-z]{32,}$/, 'the secret is shown');
  await screenshot(page, 'keys-created');

  const listed = await app.call('GET', '/v1/keys');
  const key = listed.body.items.find((item: { name: string }) => item.name === 'checkout service');
  t.ok(key, 'the key is in GET /v1/keys');
  createdId = key.id;
  t.equal(createdSecret.slice(0, 8), key.prefix, 'the secret shown is the key’s');
  t.ok(await page.getByRole('link', { name: 'checkout service' }).isVisible(), 'the key is in the list');

  await page.reload();
  t.equal(await page.getByTestId('new-secret').count(), 0, 'reloading shows no secret');
  t.notOk((await page.content()).includes(createdSecret), 'the secret is nowhere in the page');
  await page.goto(url('/admin/keys'));
  t.notOk((await page.content()).includes(createdSecret), 'nor when the list is opened again');
  await screenshot(page, 'keys-list');
});

t.test('a key named like a script tag is shown as text and runs nothing', async (t) => {
  const name = '<script>alert(1)</script><img src=x onerror=alert(2)>';
  let dialogs = 0;
  page.on('dialog', (dialog) => {
    dialogs += 1;
    void dialog.dismiss();
  });
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Tier').selectOption('gold');
  await page.getByRole('button', { name: 'Create key' }).click();
  await page.getByTestId('new-secret').waitFor();
  t.equal(await page.getByRole('link', { name }).textContent(), name, 'the name is the link text, verbatim');
  await page.getByRole('link', { name }).click();
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), name, 'and the key page heading');
  t.equal(dialogs, 0, 'no script ran');
  t.equal(await page.locator('img[src="x"]').count(), 0, 'no element was injected');
});

t.test('editing a key in the UI shows in REST, in the feed and in the audit log under the signed-in user', async (t) => {
  await page.goto(url(`/admin/keys/${createdId}`));
  await screenshot(page, 'key-page');
  await page.getByLabel('Name').fill('checkout service v2');
  await page.getByLabel('Tier').selectOption('free');
  await page.getByLabel('Window of limit 1').fill('1m');
  await page.getByLabel('Requests of limit 1').fill('7');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Changes saved');
  const key = (await app.call('GET', `/v1/keys/${createdId}`)).body;
  t.equal(key.name, 'checkout service v2');
  t.equal(key.tier, 'free');
  t.same(key.limits, [{ window: '1m', limit: 7 }]);
  const views = app.publisher.keyChanges(sha256Hex(createdSecret));
  t.same(views.at(-1)?.limits, [{ window: '1m', limit: 7 }], 'the change was published to the gateways');
  const audit = (await app.call('GET', `/v1/audit-log?resource_id=${createdId}`)).body.items[0];
  t.equal(audit.action, 'key.update');
  t.equal(audit.actor, ADMIN_USER, 'the audit row names the signed-in user');
  t.equal(audit.before.name, 'checkout service');
  t.equal(audit.after.name, 'checkout service v2');
});

t.test('an invalid edit is refused with the error next to its field and changes nothing', async (t) => {
  await page.getByLabel('Window of limit 1').fill('7x');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const error = page.locator('#window_0-error');
  t.match(await error.textContent(), 'must be a duration');
  t.equal(await page.getByLabel('Window of limit 1').getAttribute('aria-invalid'), 'true');
  t.same((await app.call('GET', `/v1/keys/${createdId}`)).body.limits, [{ window: '1m', limit: 7 }]);
  await screenshot(page, 'key-edit-error');
});

t.test('rotating asks first, then shows the new secret once and the old one is unpublished', async (t) => {
  await page.goto(url(`/admin/keys/${createdId}`));
  await page.getByRole('link', { name: 'Rotate secret…' }).click();
  await screenshot(page, 'key-rotate-confirm');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = ((await page.getByTestId('new-secret').textContent()) ?? '').trim();
  t.match(rotated, /^tg_/);
  t.not(rotated, createdSecret);
  t.equal((await app.call('GET', `/v1/keys/${createdId}`)).body.prefix, rotated.slice(0, 8), 'REST shows the new prefix');
  t.equal(app.publisher.keyChanges(sha256Hex(createdSecret)).at(-1), null, 'the old secret was withdrawn from the gateways');
  await screenshot(page, 'key-rotated');
  createdSecret = rotated;
  await page.reload();
  t.equal(await page.getByTestId('new-secret').count(), 0, 'the new secret is not shown again');
});

t.test('revoking asks for confirmation, then the key is revoked in REST and for the gateways', async (t) => {
  await page.getByRole('link', { name: 'Revoke key…' }).click();
  t.match(await page.getByRole('heading', { level: 1 }).textContent(), 'Revoke');
  await screenshot(page, 'key-revoke-confirm');
  await page.getByRole('button', { name: 'Revoke key' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Key revoked');
  t.equal(await page.locator('.page-head .badge').textContent(), 'revoked');
  const key = (await app.call('GET', `/v1/keys/${createdId}`)).body;
  t.equal(key.active, false);
  t.ok(key.revoked_at, 'REST reports it revoked');
  t.equal(app.publisher.keyChanges(sha256Hex(createdSecret)).at(-1), null, 'gateways are told to forget it');
  await screenshot(page, 'key-revoked');
});

t.test('the key list filters by tier and status and searches by name', async (t) => {
  await app.call('POST', '/v1/keys', { name: 'reporting job', tier: 'free' });
  await page.goto(url('/admin/keys'));
  await page.getByRole('link', { name: 'free', exact: true }).first().click();
  t.match(page.url(), /tier=free/);
  const names = await page.locator('td.name-cell a').allTextContents();
  t.ok(names.includes('reporting job') && names.includes('checkout service v2'), 'both keys of the tier are listed');
  t.notOk(names.some((name) => name.startsWith('<script>')), 'the gold key is not');
  await page.getByRole('link', { name: 'Inactive' }).click();
  t.same(await page.locator('td.name-cell a').allTextContents(), ['checkout service v2'], 'only the revoked (inactive) key');
  await page.goto(url('/admin/keys'));
  await page.getByLabel('Search').fill('report');
  await page.getByRole('button', { name: 'Search' }).click();
  t.same(await page.locator('td.name-cell a').allTextContents(), ['reporting job']);
  await screenshot(page, 'keys-filtered');
  await page.getByLabel('Search').fill('nothing like this');
  await page.getByRole('button', { name: 'Search' }).click();
  t.match(await page.locator('.empty').textContent(), 'No keys match');
  await screenshot(page, 'keys-no-match');
});

t.test('the key list pages through more keys than fit on one page', async (t) => {
  for (let index = 0; index < 26; index += 1) await app.call('POST', '/v1/keys', { name: `bulk ${index}`, tier: 'free' });
  await page.goto(url('/admin/keys?q=bulk'));
  t.equal(await page.locator('tbody tr').count(), 25);
  await page.getByRole('link', { name: 'Next page »' }).click();
  t.same(await page.locator('td.name-cell a').allTextContents(), ['bulk 0'], 'the oldest on the second page');
  t.ok(await page.getByRole('link', { name: '« First page' }).isVisible());
});

t.test('a tier is created and edited in the UI, and REST shows it', async (t) => {
  await page.goto(url('/admin/tiers'));
  await screenshot(page, 'tiers');
  await page.getByRole('link', { name: 'New tier' }).click();
  await screenshot(page, 'tier-new');
  await page.getByLabel('Tier name').fill('partner');
  await page.getByLabel('Description').fill('integration partners');
  await page.getByLabel('Window of limit 1').fill('1s');
  await page.getByLabel('Requests of limit 1').fill('10');
  await page.getByLabel('Window of limit 2').fill('1h');
  await page.getByLabel('Requests of limit 2').fill('2000');
  await page.getByRole('button', { name: 'Create tier' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Tier created');
  t.same((await app.call('GET', '/v1/tiers/partner')).body.limits, [{ window: '1s', limit: 10 }, { window: '1h', limit: 2000 }]);

  await page.getByLabel('Algorithm').selectOption('sliding_log');
  await page.getByLabel('Requests of limit 2').fill('3000');
  await page.getByRole('button', { name: 'Save changes' }).click();
  t.match(await page.getByRole('status').first().textContent(), 'Changes saved');
  const tier = (await app.call('GET', '/v1/tiers/partner')).body;
  t.equal(tier.algorithm, 'sliding_log');
  t.same(tier.limits, [{ window: '1s', limit: 10 }, { window: '1h', limit: 3000 }]);
  t.same(app.publisher.tierChanges('partner').at(-1)?.limits, tier.limits, 'published to the gateways');
  await screenshot(page, 'tier-edit');
});

t.test('a new tier with bad limits shows each problem beside its field', async (t) => {
  await page.goto(url('/admin/tiers/_new'));
  await page.getByLabel('Tier name').fill('Bad Name');
  await page.getByLabel('Window of limit 1').fill('1m');
  await page.getByLabel('Requests of limit 1').fill('ten');
  await page.getByLabel('Window of limit 2').fill('1m');
  await page.getByRole('button', { name: 'Create tier' }).click();
  t.match(await page.locator('#limit_0-error').textContent(), 'whole number');
  t.match(await page.locator('#limit_1-error').textContent(), 'whole number');
  await page.getByLabel('Requests of limit 1').fill('10');
  await page.getByLabel('Requests of limit 2').fill('20');
  await page.getByRole('button', { name: 'Create tier' }).click();
  t.match(await page.locator('#tier-name-error').textContent(), 'lowercase letters, digits');
  t.match(await page.locator('#window_1-error').textContent(), 'at most one limit per window');
  t.equal((await app.call('GET', '/v1/tiers/Bad Name')).status, 404, 'nothing was created');
  await screenshot(page, 'tier-new-errors');
});

t.test('deleting a tier that keys use is refused with a clear message; an unused one is deleted', async (t) => {
  await page.goto(url('/admin/tiers/free'));
  await page.getByRole('link', { name: 'Delete tier…' }).click();
  await screenshot(page, 'tier-delete-confirm');
  await page.getByRole('button', { name: 'Delete tier' }).click();
  t.match(await page.getByRole('alert').textContent(), 'cannot be deleted');
  t.match(await page.getByRole('alert').textContent(), 'is used by');
  t.equal((await app.call('GET', '/v1/tiers/free')).status, 200, 'the tier is still there');
  await screenshot(page, 'tier-delete-refused');

  await page.goto(url('/admin/tiers/partner'));
  await page.getByRole('link', { name: 'Delete tier…' }).click();
  await page.getByRole('button', { name: 'Delete tier' }).click();
  t.equal(new URL(page.url()).pathname, '/admin/tiers');
  t.equal((await app.call('GET', '/v1/tiers/partner')).status, 404);
});

t.test('request logs filter by key and status, drill down by day and chart requests and 429s', async (t) => {
  const now = Date.now();
  const dayMs = 86_400_000;
  const events = [];
  for (let index = 0; index < 40; index += 1) {
    events.push(
      makeEvent({
        timeMs: now - (index % 2) * dayMs - index * 60_000,
        keyId: index % 4 === 0 ? 'key_other' : createdId,
        tier: 'gold',
        route: 'orders',
        status: index % 5 === 0 ? 429 : 200,
        limited: index % 5 === 0,
        limitedBy: index % 5 === 0 ? '1m' : null,
        clientIp: '198.51.100.7',
      }),
    );
  }
  await insertRequestEvents(app.db, events);
  await page.goto(url('/admin/request-logs'));
  t.equal(await page.locator('tbody tr').count(), 40);
  t.ok(await page.locator('figure.chart svg').isVisible(), 'the chart is drawn');
  t.equal(await page.locator('tbody tr', { has: page.locator('td code', { hasText: /^1m$/ }) }).count(), 8, 'a refused request names the limit that refused it');
  t.equal(await page.locator('tbody td code', { hasText: '198.51.100.7' }).count(), 40, 'and every row its client address');
  await screenshot(page, 'request-logs');

  await page.getByLabel('Key id').fill(createdId);
  await page.getByLabel('Status').fill('429');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const statuses = await page.locator('tbody td .badge').allTextContents();
  t.ok(statuses.length > 0 && statuses.every((status) => status === '429'), 'only 429s of the key');
  t.equal(statuses.length, events.filter((event) => event.keyId === createdId && event.status === 429).length);

  const today = new Date(now).toISOString().slice(0, 10);
  await page.getByRole('link', { name: new RegExp(`^${today} \\(`) }).click();
  const times = await page.locator('tbody time').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('datetime') ?? ''));
  t.ok(times.length > 0 && times.every((time) => time.startsWith(today)), 'only rows of that day');
  t.match(await page.locator('figure.chart figcaption').textContent(), 'per hour');
  await screenshot(page, 'request-logs-day');

  await page.getByLabel('Status').fill('abc');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  t.match(await page.locator('#logs-status-error').textContent(), 'HTTP status code');
});

t.test('the audit log shows who changed what, with before and after', async (t) => {
  await page.goto(url('/admin/audit-log'));
  const rows = page.locator('tbody tr');
  t.ok((await rows.count()) >= 8);
  const tierDelete = rows.filter({ hasText: 'tier.delete' }).first();
  t.match(await tierDelete.textContent(), ADMIN_USER, 'UI changes are under the signed-in user');
  const restCreate = rows.filter({ hasText: 'tier.create' }).last();
  t.match(await restCreate.textContent(), 'admin', 'REST changes are under the token');
  const update = rows.filter({ hasText: 'key.update' }).first();
  t.ok(await update.locator('del', { hasText: 'checkout service' }).isVisible(), 'the value before');
  t.ok(await update.locator('ins', { hasText: 'checkout service v2' }).isVisible(), 'the value after');
  await screenshot(page, 'audit-log');
  await page.getByRole('link', { name: 'Tiers', exact: true }).last().click();
  const actions = await page.locator('tbody td code').allTextContents();
  t.ok(actions.length > 0 && actions.every((action) => action.startsWith('tier.')), 'filtered to tiers');
});

t.test('an unknown admin page answers a friendly 404 page', async (t) => {
  const response = await page.goto(url('/admin/no-such-page'));
  t.equal(response?.status(), 404);
  t.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Not found');
  await screenshot(page, 'not-found');
  const missingKey = await page.goto(url('/admin/keys/key_doesnotexist'));
  t.equal(missingKey?.status(), 404, 'a key that does not exist too');
});

t.test('signing out ends the session: its pages lead to the sign-in page again', async (t) => {
  await page.goto(url('/admin/keys'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  t.match(await page.getByRole('status').textContent(), 'signed out');
  await page.goto(url('/admin/keys'));
  t.equal(new URL(page.url()).pathname, '/admin/login');
});

t.test('an idle session expires and its next page says so on the sign-in page', async (t) => {
  await signIn(page, app.baseUrl, ADMIN_USER, ADMIN_PASSWORD);
  app.clock.advance(IDLE_MS + 1000);
  await page.goto(url('/admin/tiers'));
  t.equal(new URL(page.url()).pathname, '/admin/login');
  t.match(await page.getByRole('status').textContent(), 'session has expired');
  await screenshot(page, 'session-expired');
  await page.getByLabel('Username').fill(ADMIN_USER);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((address) => address.pathname !== '/admin/login');
  t.equal(new URL(page.url()).pathname, '/admin/tiers', 'signing in again returns to the page asked for');
});

// Last: it blocks this file's address from signing in for a minute.
t.test('the 11th failed sign-in within a minute shows the too-many-attempts page', async (t) => {
  const stranger = await browser.newPage();
  await stranger.goto(url('/admin/login'));
  let status = 0;
  for (let attempt = 0; attempt < 11; attempt += 1) {
    await stranger.getByLabel('Username').fill('someone');
    await stranger.getByLabel('Password').fill(`guess ${attempt}`);
    const answer = stranger.waitForResponse((response) => response.request().method() === 'POST');
    await stranger.getByRole('button', { name: 'Sign in' }).click();
    status = (await answer).status();
    await stranger.waitForLoadState();
  }
  t.equal(status, 429);
  t.match(await stranger.getByRole('alert').textContent(), 'Too many failed sign-ins');
  await screenshot(stranger, 'sign-in-blocked');
  await stranger.close();
});
