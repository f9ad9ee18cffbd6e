// The admin UI's protections over plain HTTP: sessions and their expiry, CSRF tokens, the sign-in
// limit, cookie flags behind a TLS proxy, security and cache headers.
import t from 'tap';
import { hashPassword } from '../../src/admin-users/passwords.js';
import { insertAdminUser } from '../../src/admin-users/repository.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { cookiePair, csrfOf, get, post, setCookieHeader, signIn } from './helpers/form-client.js';

const IDLE_MS = 10 * 60_000;
const MAX_AGE_MS = 60 * 60_000;
// 127.0.0.1 plays the TLS-terminating proxy (nginx) in front of the control plane.
const app = await startAdminTestApp('admin_sessions', { idleMs: IDLE_MS, maxAgeMs: MAX_AGE_MS, trustedProxies: '127.0.0.1' });
t.teardown(() => app.close());
const base = app.baseUrl;
await app.call('POST', '/v1/tiers', { name: 'basic', limits: [{ window: '1m', limit: 10 }] });

/** Each test signs in from an address of its own, so the per-address sign-in limit stays apart. */
let addressCounter = 0;
function fromAddress(): Record<string, string> {
  addressCounter += 1;
  return { 'x-forwarded-for': `203.0.113.${addressCounter}` };
}

async function keyCount(): Promise<number> {
  return (await app.call('GET', '/v1/keys')).body.items.length;
}

t.test('a page without a session redirects to the sign-in page, keeping where it was going', async (t) => {
  const answer = await get(base, '/admin/tiers?x=1');
  t.equal(answer.status, 303);
  t.equal(answer.headers.get('location'), `/admin/login?next=${encodeURIComponent('/admin/tiers?x=1')}`);
});

t.test('a form posted without a session is not carried out', async (t) => {
  const before = await keyCount();
  const answer = await post(base, '/admin/keys', { name: 'sneaky', tier: 'basic', csrf: 'whatever' });
  t.equal(answer.status, 303);
  t.match(answer.headers.get('location'), /^\/admin\/login/);
  t.equal(await keyCount(), before);
});

t.test('signing in sets an HttpOnly, SameSite=Strict session cookie scoped to /admin', async (t) => {
  const page = await get(base, '/admin/login', fromAddress());
  const answer = await post(
    base,
    '/admin/login',
    { csrf: csrfOf(page.html), username: ADMIN_USER, password: ADMIN_PASSWORD, next: '/admin/audit-log' },
    { cookie: cookiePair(page, 'tollgate_sign_in'), ...fromAddress() },
  );
  t.equal(answer.status, 303);
  t.equal(answer.headers.get('location'), '/admin/audit-log', 'back to the page asked for');
  const cookie = setCookieHeader(answer, 'tollgate_session') ?? '';
  t.match(cookie, /; HttpOnly(;|$)/);
  t.match(cookie, /; SameSite=Strict(;|$)/);
  t.match(cookie, /; Path=\/admin(;|$)/);
  t.notMatch(cookie, /Secure/, 'no Secure flag over plain HTTP');
});

t.test('the session cookie is Secure when a trusted proxy says the request came over TLS', async (t) => {
  const headers = { 'x-forwarded-proto': 'https', ...fromAddress() };
  const page = await get(base, '/admin/login', headers);
  t.match(setCookieHeader(page, 'tollgate_sign_in'), /; Secure$/, 'the sign-in form cookie too');
  const answer = await post(
    base,
    '/admin/login',
    { csrf: csrfOf(page.html), username: ADMIN_USER, password: ADMIN_PASSWORD },
    { cookie: cookiePair(page, 'tollgate_sign_in'), ...headers },
  );
  t.match(setCookieHeader(answer, 'tollgate_session'), /; Secure$/);
});

t.test('X-Forwarded-Proto from an address that is not a trusted proxy is ignored', async (t) => {
  const untrusted = await startAdminTestApp('admin_untrusted', { trustedProxies: '10.0.0.0/8' });
  t.teardown(() => untrusted.close());
  const page = await get(untrusted.baseUrl, '/admin/login', { 'x-forwarded-proto': 'https' });
  t.notMatch(setCookieHeader(page, 'tollgate_sign_in'), /Secure/);
});

t.test('a wrong password answers 401 with the sign-in form and no session', async (t) => {
  const page = await get(base, '/admin/login');
  const answer = await post(
    base,
    '/admin/login',
    { csrf: csrfOf(page.html), username: ADMIN_USER, password: 'wrong' },
    { cookie: cookiePair(page, 'tollgate_sign_in'), ...fromAddress() },
  );
  t.equal(answer.status, 401);
  t.match(answer.html, 'Wrong username or password');
  t.equal(setCookieHeader(answer, 'tollgate_session'), undefined);
});

t.test('an unknown user is refused exactly like a wrong password', async (t) => {
  const answer = await post(base, '/admin/login', { username: 'nobody', password: 'whatever' }, fromAddress());
  t.equal(answer.status, 401);
  t.match(answer.html, 'Wrong username or password');
});

t.test('a form posted without its CSRF token is refused and changes nothing', async (t) => {
  const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  const before = await keyCount();
  const answer = await post(base, '/admin/keys', { name: 'no token', tier: 'basic' }, { cookie: session });
  t.equal(answer.status, 403);
  t.match(answer.html, 'security token');
  t.equal(await keyCount(), before);
});

t.test("a form posted with another session's CSRF token is refused and changes nothing", async (t) => {
  const mine = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  const theirs = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  const theirToken = csrfOf((await get(base, '/admin/keys', { cookie: theirs })).html);
  const before = await keyCount();
  const answer = await post(base, '/admin/keys', { name: 'wrong token', tier: 'basic', csrf: theirToken }, { cookie: mine });
  t.equal(answer.status, 403);
  t.equal(await keyCount(), before);
  const ok = await post(base, '/admin/keys', { name: 'right token', tier: 'basic', csrf: theirToken }, { cookie: theirs });
  t.equal(ok.status, 303, 'the token works in its own session');
});

t.test('the sign-in form is refused when posted from another site', async (t) => {
  const page = await get(base, '/admin/login');
  const cross = await post(
    base,
    '/admin/login',
    { username: ADMIN_USER, password: ADMIN_PASSWORD },
    { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site', ...fromAddress() },
  );
  t.equal(cross.status, 403, 'without a token, from a foreign origin');
  const forged = await post(
    base,
    '/admin/login',
    { username: ADMIN_USER, password: ADMIN_PASSWORD, csrf: 'forged' },
    { cookie: cookiePair(page, 'tollgate_sign_in'), ...fromAddress() },
  );
  t.equal(forged.status, 403, 'with a token that is not the form cookie’s');
});

t.test('the 11th failed sign-in for one user within a minute gets 429, even with the right password', async (t) => {
  // A user of this test's own: blocking the shared one would block the tests after this one.
  const user = 'limit-user';
  const password = 'the limit user password';
  await insertAdminUser(app.db, user, await hashPassword(password), new Date());
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 10; attempt += 1) {
    statuses.push((await post(base, '/admin/login', { username: user, password: `wrong ${attempt}` }, fromAddress())).status);
  }
  t.same(statuses, Array(10).fill(401), 'ten failures are told apart from a block');
  const eleventh = await post(base, '/admin/login', { username: user, password: 'wrong again' }, fromAddress());
  t.equal(eleventh.status, 429);
  t.ok(Number(eleventh.headers.get('retry-after')) >= 1, 'with Retry-After');
  t.match(eleventh.html, 'Too many failed sign-ins');
  const right = await post(base, '/admin/login', { username: user, password }, fromAddress());
  t.equal(right.status, 429, 'a blocked name is not checked at all, so a right guess is not revealed');
});

t.test('the 11th failed sign-in from one address within a minute gets 429 whatever the name', async (t) => {
  const limited = await startAdminTestApp('admin_address_limit');
  t.teardown(() => limited.close());
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 11; attempt += 1) {
    statuses.push((await post(limited.baseUrl, '/admin/login', { username: `name-${attempt}`, password: 'wrong' })).status);
  }
  t.same(statuses, [...Array(10).fill(401), 429]);
});

t.test('parallel wrong guesses cannot slip past the limit together', async (t) => {
  const limited = await startAdminTestApp('admin_parallel_limit');
  t.teardown(() => limited.close());
  const statuses = await Promise.all(
    Array.from({ length: 15 }, (_, attempt) => post(limited.baseUrl, '/admin/login', { username: 'target', password: `guess ${attempt}` }).then((answer) => answer.status)),
  );
  t.equal(statuses.filter((status) => status === 401).length, 10, 'exactly ten guesses were checked');
  t.equal(statuses.filter((status) => status === 429).length, 5);
});

t.test('an idle session ends: its next request goes to sign-in with the expired notice', async (t) => {
  const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  t.equal((await get(base, '/admin/keys', { cookie: session })).status, 200);
  app.clock.advance(IDLE_MS - 60_000);
  t.equal((await get(base, '/admin/keys', { cookie: session })).status, 200, 'activity keeps it alive');
  app.clock.advance(IDLE_MS + 1000);
  const expired = await get(base, '/admin/keys', { cookie: session });
  t.equal(expired.status, 303);
  t.match(expired.headers.get('location'), /expired=1/);
  t.match(setCookieHeader(expired, 'tollgate_session'), /Max-Age=0/, 'the dead cookie is dropped');
  const notice = await get(base, expired.headers.get('location') ?? '');
  t.match(notice.html, 'Your session has expired');
});

t.test('a session ends at its maximum age even while in use', async (t) => {
  const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  for (let elapsed = 0; elapsed < MAX_AGE_MS; elapsed += IDLE_MS / 2) {
    app.clock.advance(IDLE_MS / 2);
    const answer = await get(base, '/admin/keys', { cookie: session });
    if (elapsed + IDLE_MS / 2 < MAX_AGE_MS) t.equal(answer.status, 200);
    else t.equal(answer.status, 303, 'refused once the maximum age is reached');
  }
});

t.test('signing out ends the session on the server, not only in the browser', async (t) => {
  const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  const page = await get(base, '/admin/keys', { cookie: session });
  const out = await post(base, '/admin/logout', { csrf: csrfOf(page.html) }, { cookie: session });
  t.equal(out.status, 303);
  t.match(setCookieHeader(out, 'tollgate_session'), /Max-Age=0/);
  t.equal((await get(base, '/admin/keys', { cookie: session })).status, 303, 'the old cookie no longer works');
});

t.test('pages carry a CSP without inline script, frame-ancestors none, nosniff and no-store', async (t) => {
  for (const path of ['/admin/login', '/docs', '/admin/no-such-page']) {
    const answer = await get(base, path);
    const csp = answer.headers.get('content-security-policy') ?? '';
    t.match(csp, /script-src 'self'(;|$)/, `${path}: scripts only from this origin`);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${path}: nothing inline or evaluated`);
    t.match(csp, /frame-ancestors 'none'/, path);
    t.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
    t.equal(answer.headers.get('cache-control'), 'no-store', path);
    t.notMatch(answer.html, /<script>|<script [^>]*>[^<]/, `${path}: no inline script element`);
  }
});

t.test('static files are cached for long under their versioned URL and revalidate with 304', async (t) => {
  const page = await get(base, '/admin/login');
  const href = /href="(\/admin\/static\/admin\.css\?v=[^"]+)"/.exec(page.html)?.[1] ?? '';
  const css = await fetch(base + href, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(css.status, 200);
  t.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  t.equal(css.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.equal(css.headers.get('content-encoding'), 'gzip');
  t.match(await css.text(), ':root', 'fetch undoes the gzip: the stylesheet arrives whole');
  const etag = css.headers.get('etag') ?? '';
  const again = await fetch(base + href, { headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  const unversioned = await fetch(`${base}/admin/static/admin.css`);
  t.equal(unversioned.headers.get('cache-control'), 'public, max-age=300', 'a bare URL is cached briefly');
  t.equal((await fetch(`${base}/admin/static/../../package.json`)).status, 404, 'only the named files are served');
});

t.test('the admin UI pages are not in the OpenAPI document', async (t) => {
  const paths = Object.keys((await app.call('GET', '/openapi.json')).body.paths);
  t.ok(paths.includes('/v1/keys'));
  t.notOk(paths.some((path) => path.startsWith('/admin') || path.startsWith('/docs')));
});

t.test('a key made through the UI is audited under the signed-in user; REST keeps the token actor', async (t) => {
  const session = await signIn(base, ADMIN_USER, ADMIN_PASSWORD, fromAddress());
  const token = csrfOf((await get(base, '/admin/keys', { cookie: session })).html);
  await post(base, '/admin/keys', { name: 'audited', tier: 'basic', csrf: token }, { cookie: session });
  await app.call('POST', '/v1/keys', { name: 'by rest', tier: 'basic' });
  const entries = (await app.call('GET', '/v1/audit-log?resource_type=key')).body.items as { actor: string; after: { name: string } }[];
  t.equal(entries.find((entry) => entry.after.name === 'audited')?.actor, ADMIN_USER);
  t.equal(entries.find((entry) => entry.after.name === 'by rest')?.actor, 'admin');
});

t.test('after sign-in, a next= that leaves the admin UI or could split the header leads to the keys page', async (t) => {
  for (const next of ['https://evil.example/', '//evil.example/admin', '/admin\\\\evil', '/admin/keys\r\nSet-Cookie: x=1', '/administrator', '/admin/login']) {
    const answer = await post(base, '/admin/login', { username: ADMIN_USER, password: ADMIN_PASSWORD, next }, fromAddress());
    t.equal(answer.headers.get('location'), '/admin/keys', JSON.stringify(next));
  }
  const kept = await post(base, '/admin/login', { username: ADMIN_USER, password: ADMIN_PASSWORD, next: '/admin/tiers?x=1' }, fromAddress());
  t.equal(kept.headers.get('location'), '/admin/tiers?x=1', 'an admin page is kept');
});

t.test('with no admin user at all, the sign-in page says how to create the first one', async (t) => {
  const empty = await startAdminTestApp('admin_no_user', { firstUser: false });
  t.teardown(() => empty.close());
  t.match((await get(empty.baseUrl, '/admin/login')).html, 'No admin user exists yet. Set ADMIN_USER and ADMIN_PASSWORD');
  t.notMatch((await get(base, '/admin/login')).html, 'No admin user exists yet', 'not once one exists');
});
