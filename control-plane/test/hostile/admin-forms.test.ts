// The admin UI's forms and filters take the same hostile text as the REST API: a NUL in a field,
// in a filter or in a path, dates PostgreSQL cannot hold, LIKE metacharacters in the search. Each
// gets a 400 page that names what to change (never the 500 page), and nothing is stored.
import t, { type Test } from 'tap';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from '../admin-ui/helpers/admin-app.js';
import { cookiePair, csrfOf, get, post, signIn, type PageResponse } from '../admin-ui/helpers/form-client.js';
import { failuresLogged } from './helpers/expect-problem.js';

const app = await startAdminTestApp('hostile_admin');
t.teardown(() => app.close());
const base = app.baseUrl;
await app.call('POST', '/v1/tiers', { name: 'basic', limits: [{ window: '1m', limit: 10 }] });
await app.call('POST', '/v1/keys', { name: '100% off', tier: 'basic' });
await app.call('POST', '/v1/keys', { name: 'full price', tier: 'basic' });

const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, { 'x-forwarded-for': '203.0.113.1' });
const signedIn = { cookie: session };

/** A page the person can act on: 400, HTML, and the field's name in the text. */
function expectRefusedPage(t: Test, page: PageResponse, field: string, label: string): void {
  t.equal(page.status, 400, `${label}: 400`);
  t.match(page.headers.get('content-type'), /^text\/html/, `${label}: a page`);
  t.match(page.html, field, `${label}: names ${field}`);
  t.notMatch(page.html, /Something went wrong/, `${label}: not the failure page`);
}

async function postSignedIn(path: string, fields: Record<string, string>): Promise<PageResponse> {
  const form = await get(base, path === '/admin/keys' ? '/admin/keys' : '/admin/tiers/_new', signedIn);
  return post(base, path, { csrf: csrfOf(form.html), ...fields }, signedIn);
}

t.test('a NUL in the sign-in form answers a 400 page naming the field, and signs nobody in', async (t) => {
  for (const [field, fields] of [
    ['username', { username: `${ADMIN_USER}\u0000`, password: ADMIN_PASSWORD }],
    ['password', { username: ADMIN_USER, password: `${ADMIN_PASSWORD}\u0000` }],
  ] as const) {
    const page = await get(base, '/admin/login', { 'x-forwarded-for': '203.0.113.2' });
    const answer = await post(
      base,
      '/admin/login',
      { csrf: csrfOf(page.html), ...fields },
      { cookie: cookiePair(page, 'tollgate_sign_in'), 'x-forwarded-for': '203.0.113.2' },
    );
    expectRefusedPage(t, answer, field, field);
    t.equal(answer.headers.getSetCookie().filter((cookie) => cookie.startsWith('tollgate_session=')).length, 0, `${field}: no session`);
  }
});

t.test('a NUL in the new-key and new-tier forms answers a 400 page and stores nothing', async (t) => {
  const keysBefore = (await app.call('GET', '/v1/keys')).body.items.length;
  expectRefusedPage(t, await postSignedIn('/admin/keys', { name: 'a\u0000b', tier: 'basic', expires: '' }), 'name', 'key name');
  expectRefusedPage(t, await postSignedIn('/admin/keys', { name: 'ok', tier: 'basic\u0000', expires: '' }), 'tier', 'key tier');
  t.equal((await app.call('GET', '/v1/keys')).body.items.length, keysBefore, 'no key created');
  const tierForm = { name: 'nul-tier', description: 'x', algorithm: 'sliding_window', window_0: '1m', limit_0: '5' };
  expectRefusedPage(t, await postSignedIn('/admin/tiers', { ...tierForm, description: 'a\u0000' }), 'description', 'tier description');
  expectRefusedPage(t, await postSignedIn('/admin/tiers', { ...tierForm, window_0: '1m\u0000' }), 'window_0', 'tier window');
  t.equal((await app.call('GET', '/v1/tiers/nul-tier')).status, 404, 'no tier created');
});

t.test('a NUL in a filter or a page path answers a 400 page naming it', async (t) => {
  for (const [path, field] of [
    ['/admin/keys?q=%00', 'q'],
    ['/admin/keys?tier=basic%00', 'tier'],
    ['/admin/request-logs?key_id=%00', 'key_id'],
    ['/admin/request-logs?route=a%00', 'route'],
    ['/admin/request-logs?limited=true%00', 'limited'],
    ['/admin/audit-log?resource_id=%00', 'resource_id'],
    ['/admin/keys/key_%00', 'id'],
    ['/admin/tiers/%00', 'name'],
  ] as const) {
    expectRefusedPage(t, await get(base, path, signedIn), field, path);
  }
});

t.test('request-log dates PostgreSQL cannot hold are errors beside their fields', async (t) => {
  for (const [query, message] of [
    ['from=0000-01-01T00:00', 'between the years 0001 and 9999'],
    ['to=0000-06-01T00:00', 'between the years 0001 and 9999'],
    ['day=9999-12-31', 'The day must be a date such as'],
    ['day=0000-01-01', 'The day must be a date such as'],
  ] as const) {
    const page = await get(base, `/admin/request-logs?${query}`, signedIn);
    t.equal(page.status, 400, query);
    t.match(page.html, message, `${query}: says what is wrong`);
    t.notMatch(page.html, /Something went wrong/, `${query}: not the failure page`);
  }
});

t.test('a request-log outcome filter other than true or false is a 400 page saying which', async (t) => {
  for (const [query, message] of [
    ['limited=yes', 'The limited filter must be true or false.'],
    ['shadow_limited=1', 'The shadow-limited filter must be true or false.'],
  ] as const) {
    const page = await get(base, `/admin/request-logs?${query}`, signedIn);
    t.equal(page.status, 400, query);
    t.match(page.html, message, `${query}: says what is wrong`);
  }
});

t.test('an expiry PostgreSQL cannot hold is an error beside the field', async (t) => {
  const answer = await postSignedIn('/admin/keys', { name: 'ancient', tier: 'basic', expires: '0000-01-01T00:00' });
  t.equal(answer.status, 400);
  t.match(answer.html, 'between the years 0001 and 9999');
});

t.test('the key search treats % literally', async (t) => {
  const page = await get(base, '/admin/keys?q=%25', signedIn);
  t.equal(page.status, 200);
  t.match(page.html, '100% off');
  t.notMatch(page.html, 'full price');
});

t.test('nothing was logged as a failure', async (t) => {
  t.same(failuresLogged(app.logs.lines), []);
});
