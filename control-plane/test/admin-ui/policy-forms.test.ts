// The tier and key forms' policy fields over plain HTTP, as a browser without scripts (or a
// script) posts them: every field stored as typed, errors on the row and field they belong to
// (route names with dots included), the 422 status of a refused policy, escaping of what was
// typed, and the CSRF token still required.
import t from 'tap';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { csrfOf, get, post, signIn, type PageResponse } from './helpers/form-client.js';

const app = await startAdminTestApp('admin_policy_forms');
t.teardown(() => app.close());
const base = app.baseUrl;
await app.call('POST', '/v1/tiers', { name: 'basic', limits: [{ window: '1m', limit: 10 }] });
const signedIn = { cookie: await signIn(base, ADMIN_USER, ADMIN_PASSWORD) };

/** Posts a form the way its page does: with the CSRF token of the page it came from. */
async function postForm(pagePath: string, action: string, fields: Record<string, string>): Promise<PageResponse> {
  const page = await get(base, pagePath, signedIn);
  return post(base, action, { csrf: csrfOf(page.html), ...fields }, signedIn);
}

/** The text of the error shown beside the input with this id, or null. */
function errorBeside(html: string, id: string): string | null {
  return new RegExp(`<p class="field-error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1] ?? null;
}

const GCRA_TIER = {
  name: 'reports',
  description: '',
  algorithm: 'gcra',
  mode: 'shadow',
  timezone: 'Asia/Tokyo',
  concurrency: '3',
  window_0: '1m',
  limit_0: '60',
  burst_0: '10',
  window_1: 'day',
  limit_1: '5000',
  burst_1: '',
  route_0: 'api',
  route_window_0: '1m',
  route_limit_0: '20',
  route_burst_0: '5',
  route_1: 'api.v2',
  route_window_1: '1m',
  route_limit_1: '30',
  route_burst_1: '6',
  route_2: 'api',
  route_window_2: '1h',
  route_limit_2: '300',
  route_burst_2: '',
};

t.test('a tier form posted without a script stores every policy field as typed', async (t) => {
  const answer = await postForm('/admin/tiers/_new', '/admin/tiers', GCRA_TIER);
  t.equal(answer.status, 303);
  const tier = (await app.call('GET', '/v1/tiers/reports')).body;
  t.equal(tier.algorithm, 'gcra');
  t.equal(tier.mode, 'shadow');
  t.equal(tier.timezone, 'Asia/Tokyo');
  t.equal(tier.concurrency, 3);
  t.same(tier.limits, [{ window: '1m', limit: 60, burst: 10 }, { window: 'day', limit: 5000 }]);
  t.same(tier.route_limits, {
    api: [{ window: '1m', limit: 20, burst: 5 }, { window: '1h', limit: 300 }],
    'api.v2': [{ window: '1m', limit: 30, burst: 6 }],
  }, 'rows of one route are grouped, in the order typed');
});

t.test('the tier page shows the stored policy in its form again', async (t) => {
  const page = await get(base, '/admin/tiers/reports', signedIn);
  t.match(page.html, /<option value="gcra" selected/);
  t.match(page.html, /<option value="shadow" selected/);
  t.match(page.html, /id="tier-timezone"[^>]*value="Asia\/Tokyo"/);
  t.match(page.html, /id="burst_0"[^>]*value="10"/);
  t.match(page.html, /id="route_1"[^>]*value="api"/, 'route rows in the order stored');
  t.match(page.html, /id="route_2"[^>]*value="api.v2"/);
});

t.test('a policy the tier cannot hold answers 422 with each burst error on its own row, dotted route names apart', async (t) => {
  const answer = await postForm('/admin/tiers/reports', '/admin/tiers/reports', { ...GCRA_TIER, algorithm: 'sliding_window' });
  t.equal(answer.status, 422);
  t.match(errorBeside(answer.html, 'burst_0'), 'burst applies only to gcra tiers');
  t.match(errorBeside(answer.html, 'route_burst_0'), 'burst applies only to gcra tiers', 'route api, its first row');
  t.match(errorBeside(answer.html, 'route_burst_1'), 'burst applies only to gcra tiers', 'route api.v2, not api');
  t.equal(errorBeside(answer.html, 'route_burst_2'), null, 'the row without a burst has no error');
  t.equal((await app.call('GET', '/v1/tiers/reports')).body.algorithm, 'gcra', 'nothing changed');
});

t.test('what a form alone can tell is wrong is named on every row and field at once', async (t) => {
  const answer = await postForm('/admin/tiers/_new', '/admin/tiers', {
    ...GCRA_TIER,
    name: 'half-filled',
    concurrency: 'many',
    burst_0: 'lots',
    route_0: '',
  });
  t.equal(answer.status, 400);
  t.match(errorBeside(answer.html, 'tier-concurrency'), 'whole number');
  t.match(errorBeside(answer.html, 'burst_0'), 'whole number');
  t.match(errorBeside(answer.html, 'route_0'), 'is required for a route limit');
  t.equal((await app.call('GET', '/v1/tiers/half-filled')).status, 404);
});

t.test('a route name typed into a refused form is shown again as text, escaped', async (t) => {
  const route = '<img src=x onerror=alert(1)>';
  const answer = await postForm('/admin/tiers/_new', '/admin/tiers', { ...GCRA_TIER, name: 'escaped', route_0: route });
  t.equal(answer.status, 400);
  t.notMatch(answer.html, route, 'never as markup');
  t.match(answer.html, 'value="&lt;img src=x onerror=alert(1)>"', 'as the input’s value');
  t.match(errorBeside(answer.html, 'route_0'), 'not a valid name');
});

t.test("a key's mode override is saved from its form, and an empty choice returns it to its tier's", async (t) => {
  const key = (await app.call('POST', '/v1/keys', { name: 'batch', tier: 'basic' })).body;
  const keyForm = { name: 'batch', tier: 'basic', active: 'on', expires: '', window_0: '', limit_0: '', burst_0: '' };
  const saved = await postForm(`/admin/keys/${key.id}`, `/admin/keys/${key.id}`, { ...keyForm, mode: 'shadow' });
  t.equal(saved.status, 303);
  t.equal((await app.call('GET', `/v1/keys/${key.id}`)).body.mode, 'shadow');
  const page = await get(base, `/admin/keys/${key.id}`, signedIn);
  t.match(page.html, /<option value="shadow" selected/, 'the form shows the override');
  await postForm(`/admin/keys/${key.id}`, `/admin/keys/${key.id}`, { ...keyForm, mode: '' });
  t.equal((await app.call('GET', `/v1/keys/${key.id}`)).body.mode, null);
});

t.test("a key's mode posted without the session's CSRF token is refused and changes nothing", async (t) => {
  const key = (await app.call('POST', '/v1/keys', { name: 'forged', tier: 'basic' })).body;
  const answer = await post(base, `/admin/keys/${key.id}`, { csrf: 'forged', name: 'forged', tier: 'basic', active: 'on', mode: 'shadow' }, signedIn);
  t.equal(answer.status, 403);
  t.equal((await app.call('GET', `/v1/keys/${key.id}`)).body.mode, null);
});

t.test('a new key posted with mode shadow is created in shadow mode', async (t) => {
  const answer = await postForm('/admin/keys', '/admin/keys', { name: 'trial client', tier: 'basic', mode: 'shadow', expires: '' });
  t.equal(answer.status, 303);
  const listed = (await app.call('GET', '/v1/keys?q=trial')).body.items;
  t.same(listed.map((key: { name: string; mode: string | null }) => [key.name, key.mode]), [['trial client', 'shadow']]);
});

t.test('a new key posted with an empty mode inherits its tier’s', async (t) => {
  await postForm('/admin/keys', '/admin/keys', { name: 'plain client', tier: 'basic', mode: '', expires: '' });
  const listed = (await app.call('GET', '/v1/keys?q=plain')).body.items;
  t.same(listed.map((key: { mode: string | null }) => key.mode), [null]);
});

t.test('a new key with a mode that does not exist is refused beside the mode, the name kept, nothing created', async (t) => {
  const answer = await postForm('/admin/keys', '/admin/keys', { name: 'loud client', tier: 'basic', mode: 'loud', expires: '' });
  t.equal(answer.status, 400);
  t.match(errorBeside(answer.html, 'new-key-mode'), /enforce.*shadow/, 'beside the mode, naming the choices');
  t.match(answer.html, /id="new-key-name"[^>]*value="loud client"/, 'the name typed is kept');
  t.same((await app.call('GET', '/v1/keys?q=loud')).body.items, []);
});
