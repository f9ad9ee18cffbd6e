// SQL metacharacters in every filter and every path parameter: each is a value like any other
// (bound, never spliced into SQL), so an injection attempt finds nothing and changes nothing, and
// the `q` search treats LIKE's `%`, `_` and `\` as the characters they are.
import t from 'tap';
import { insertRequestEvents } from '../../src/request-logs/repository.js';
import { startAdminTestApp } from '../admin-ui/helpers/admin-app.js';
import { makeEvent } from '../log-writer/support.js';
import { expectProblem, failuresLogged } from './helpers/expect-problem.js';

const app = await startAdminTestApp('hostile_sql', { restRoutes: true });
t.teardown(() => app.close());

const PAYLOADS = [
  "' OR 1=1 --",
  "'; DROP TABLE api_keys; --",
  "1' UNION SELECT secret_hash FROM api_keys --",
  ') OR (1=1',
  '" OR ""="',
  '%',
  '_',
  '\\',
  '%%',
  '\\%',
  '*/ --',
  '$1',
  'key_%',
];

await app.call('POST', '/v1/tiers', { name: 'basic', limits: [{ window: '1m', limit: 5 }] });
const NAMES = ['100% off', 'a_b', 'axb', 'back\\slash', "quote's", 'plain'];
const ids: string[] = [];
for (const name of NAMES) ids.push((await app.call('POST', '/v1/keys', { name, tier: 'basic' })).body.id);
const now = Date.now();
await insertRequestEvents(app.db, [
  makeEvent({ timeMs: now - 1000, keyId: ids[0] ?? null, route: 'a_b' }),
  makeEvent({ timeMs: now - 2000, keyId: ids[1] ?? null, route: 'axb' }),
  makeEvent({ timeMs: now - 3000, keyId: ids[2] ?? null, route: '100%' }),
]);

async function namesFound(q: string): Promise<string[]> {
  const response = await app.call('GET', `/v1/keys?q=${encodeURIComponent(q)}`);
  if (response.status !== 200) throw new Error(`q=${q} answered ${response.status}: ${response.text}`);
  return (response.body.items as { name: string }[]).map((item) => item.name).sort();
}

t.test('q matches %, _ and \\ literally, in names and prefixes', async (t) => {
  t.same(await namesFound('%'), ['100% off']);
  t.same(await namesFound('_'), ['a_b']);
  t.same(await namesFound('a_b'), ['a_b'], 'a_b does not also find axb');
  t.same(await namesFound('\\'), ['back\\slash']);
  t.same(await namesFound("'"), ["quote's"]);
  t.same(await namesFound('%%'), []);
  t.same(await namesFound("' OR 1=1 --"), []);
  t.same(await namesFound('PLAIN'), ['plain'], 'the name search ignores case');
});

const FILTERS: Record<string, readonly string[]> = {
  '/v1/keys': ['tier', 'active', 'q', 'limit', 'cursor'],
  '/v1/request-logs': ['key_id', 'status', 'route', 'from', 'to', 'limited', 'shadow_limited', 'limit', 'cursor'],
  '/v1/audit-log': ['resource_type', 'resource_id', 'limit', 'cursor'],
};
// Text filters compared for equality: a metacharacter value exists nowhere, so nothing matches.
const FREE_TEXT = new Set(['q', 'key_id', 'route', 'resource_id']);

t.test('every list filter takes every payload as a plain value: no rows, or 400 naming the filter', async (t) => {
  for (const [path, names] of Object.entries(FILTERS)) {
    for (const name of names) {
      for (const payload of PAYLOADS) {
        const response = await app.call('GET', `${path}?${name}=${encodeURIComponent(payload)}`);
        const label = `${path}?${name}=${payload}`;
        if (FREE_TEXT.has(name)) {
          t.equal(response.status, 200, label);
          // q=% and q=_ legitimately find the keys whose names hold them.
          const expected = name === 'q' ? NAMES.filter((keyName) => keyName.includes(payload)).length : 0;
          t.equal(response.body.items.length, expected, `${label}: rows found`);
        } else {
          expectProblem(t, response, 400, 'validation-failed', label);
          t.same(
            response.body.errors.map((error: { path: string }) => error.path),
            [name],
            `${label}: names the filter`,
          );
        }
      }
    }
  }
});

t.test('a route filter of a_b finds only route a_b, not axb', async (t) => {
  const response = await app.call('GET', '/v1/request-logs?route=a_b');
  t.same(
    response.body.items.map((item: { route: string }) => item.route),
    ['a_b'],
  );
});

t.test('every path parameter takes every payload as a plain value: 404, never a change', async (t) => {
  for (const payload of PAYLOADS) {
    const segment = encodeURIComponent(payload);
    const calls: [string, string, unknown?][] = [
      ['GET', `/v1/keys/${segment}`],
      ['PATCH', `/v1/keys/${segment}`, { active: false }],
      ['POST', `/v1/keys/${segment}/rotate`],
      ['DELETE', `/v1/keys/${segment}`],
      ['GET', `/v1/keys/${segment}/usage`],
      ['GET', `/v1/tiers/${segment}`],
      ['PATCH', `/v1/tiers/${segment}`, { description: 'x' }],
      ['DELETE', `/v1/tiers/${segment}`],
    ];
    for (const [method, path, body] of calls) {
      const response = await app.call(method, path, body);
      expectProblem(t, response, 404, 'not-found', `${method} ${payload}`, payload);
    }
  }
});

t.test('after every attempt, every key is still there, active and unrotated, and the tier too', async (t) => {
  const keys = await app.call('GET', '/v1/keys?limit=500');
  t.equal(keys.body.items.length, NAMES.length);
  t.ok(
    keys.body.items.every((key: { active: boolean; revoked_at: string | null }) => key.active && key.revoked_at === null),
    'none revoked or deactivated',
  );
  const audit = await app.call('GET', '/v1/audit-log?limit=500');
  t.same(
    [...new Set(audit.body.items.map((entry: { action: string }) => entry.action))].sort(),
    ['key.create', 'tier.create'],
    'the audit log records only the set-up',
  );
  t.equal((await app.call('GET', '/v1/tiers/basic')).status, 200);
});

t.test('no attempt was logged as a failure', async (t) => {
  t.same(failuresLogged(app.logs.lines), []);
});
