// The gateways page over plain HTTP, for what a browser test shows poorly: the sign-in it needs,
// a Forget posted without the session's CSRF token, an id too long to be one, and what a
// heartbeat says (host, version) rendered as text, never as markup.
import t from 'tap';
import { redisGatewayRegistry, type GatewayBeat } from '../../../contracts/gateway-registry.js';
import { ADMIN_PASSWORD, ADMIN_USER, startAdminTestApp } from './helpers/admin-app.js';
import { csrfOf, get, post, signIn } from './helpers/form-client.js';

const app = await startAdminTestApp('admin_gateways_http');
t.teardown(() => app.close());
const base = app.baseUrl;
const registry = redisGatewayRegistry(app.redis, app.prefix);
const signedIn = { cookie: await signIn(base, ADMIN_USER, ADMIN_PASSWORD) };

function staleBeat(id: string, extra: Partial<GatewayBeat> = {}): GatewayBeat {
  const now = app.clock.now().getTime();
  return { id, host: 'edge', version: '0.1.0', started_at: new Date(now - 3_600_000).toISOString(), workers: 1, epoch: 'e', applied_revision: 0, seen_at_ms: now - 60_000, ...extra };
}

t.test('the gateways page without a session leads to sign-in and back', async (t) => {
  const answer = await get(base, '/admin/gateways');
  t.equal(answer.status, 303);
  t.equal(answer.headers.get('location'), `/admin/login?next=${encodeURIComponent('/admin/gateways')}`);
});

t.test('a Forget posted without the session’s CSRF token is refused with 403 and forgets nothing', async (t) => {
  await registry.beat(staleBeat('gw_forged'));
  const answer = await post(base, '/admin/gateways/gw_forged/forget', { csrf: 'forged' }, signedIn);
  t.equal(answer.status, 403);
  t.ok((await registry.list()).some((entry) => entry.id === 'gw_forged'), 'still listed');
});

t.test('a Forget with the page’s token answers 303 back to the list', async (t) => {
  await registry.beat(staleBeat('gw_real'));
  const page = await get(base, '/admin/gateways', signedIn);
  const answer = await post(base, '/admin/gateways/gw_real/forget', { csrf: csrfOf(page.html) }, signedIn);
  t.equal(answer.status, 303);
  t.equal(answer.headers.get('location'), '/admin/gateways?done=forgotten');
  t.notOk((await registry.list()).some((entry) => entry.id === 'gw_real'));
});

t.test('a gateway id longer than any gateway’s is a 400 page naming the id', async (t) => {
  const page = await get(base, '/admin/gateways', signedIn);
  const answer = await post(base, `/admin/gateways/gw_${'x'.repeat(200)}/forget`, { csrf: csrfOf(page.html) }, signedIn);
  t.equal(answer.status, 400);
  t.match(answer.html, /could not be understood: id /);
});

t.test('a host and version with markup in a heartbeat are shown as text', async (t) => {
  const markup = '<img src=x onerror=alert(1)>';
  await registry.beat(staleBeat('gw_markup', { host: markup, version: `<b>${markup}</b>` }));
  const page = await get(base, '/admin/gateways', signedIn);
  t.equal(page.status, 200);
  t.notMatch(page.html, markup, 'never as markup');
  t.match(page.html, '&lt;img src=x onerror=alert(1)>', 'as text');
});
