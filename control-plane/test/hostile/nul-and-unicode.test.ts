// Text PostgreSQL cannot store — the NUL character, a lone UTF-16 surrogate — in every place a
// request carries text: query parameters, path parameters, JSON fields (values and names) and
// forged cursors. Each is refused with 400 validation-failed naming the field, before any query
// runs; nothing is stored and nothing is logged as a failure.
import { sql } from 'kysely';
import t from 'tap';
import { VALIDATION_MESSAGES } from '../../src/http/validation-messages.js';
import { startAdminTestApp } from '../admin-ui/helpers/admin-app.js';
import { expectFieldError, failuresLogged } from './helpers/expect-problem.js';

const app = await startAdminTestApp('hostile_nul', { restRoutes: true });
t.teardown(() => app.close());

const NUL = VALIDATION_MESSAGES.nulCharacter;
const SURROGATE = VALIDATION_MESSAGES.loneSurrogate;
const LIMITS = [{ window: '1m', limit: 5 }];

await app.call('POST', '/v1/tiers', { name: 'basic', limits: LIMITS });
const existing = await app.call('POST', '/v1/keys', { name: 'existing', tier: 'basic' });
const keyId: string = existing.body.id;

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of ['tiers', 'api_keys', 'audit_log'] as const) {
    const result = await sql<{ count: string }>`select count(*) as count from ${sql.table(table)}`.execute(app.db);
    counts[table] = Number(result.rows[0]?.count);
  }
  return counts;
}
const countsBefore = await rowCounts();

const QUERY_PARAMETERS: Record<string, readonly string[]> = {
  '/v1/keys': ['tier', 'active', 'q', 'limit', 'cursor'],
  '/v1/request-logs': ['key_id', 'status', 'route', 'from', 'to', 'limited', 'shadow_limited', 'limit', 'cursor'],
  '/v1/audit-log': ['resource_type', 'resource_id', 'limit', 'cursor'],
};

t.test('a NUL in any query parameter of a list answers 400 naming the parameter', async (t) => {
  for (const [path, names] of Object.entries(QUERY_PARAMETERS)) {
    for (const name of names) {
      const response = await app.call('GET', `${path}?${name}=a%00b`);
      expectFieldError(t, response, name, NUL, `${path}?${name}`);
    }
  }
});

t.test('a NUL in a query parameter name answers 400 naming it, escaped', async (t) => {
  const response = await app.call('GET', '/v1/keys?q%00x=1');
  expectFieldError(t, response, 'q\\u0000x', NUL);
});

t.test('a NUL in the key id or tier name of any path answers 400 naming the parameter', async (t) => {
  const calls: [string, string, unknown?][] = [
    ['GET', '/v1/keys/key_%00'],
    ['PATCH', '/v1/keys/key_%00', { name: 'x' }],
    ['POST', '/v1/keys/key_%00/rotate'],
    ['DELETE', '/v1/keys/key_%00'],
    ['GET', '/v1/keys/key_%00/usage'],
    ['GET', '/v1/tiers/%00'],
    ['PATCH', '/v1/tiers/%00', { description: 'x' }],
    ['DELETE', '/v1/tiers/%00'],
  ];
  for (const [method, path, body] of calls) {
    const response = await app.call(method, path, body);
    expectFieldError(t, response, path.startsWith('/v1/keys') ? 'id' : 'name', NUL, `${method} ${path}`);
  }
});

t.test('a NUL in any text field of a JSON body answers 400 naming the field', async (t) => {
  const calls: [string, string, unknown, string][] = [
    ['POST', '/v1/tiers', { name: 'n\u0000', limits: LIMITS }, 'name'],
    ['POST', '/v1/tiers', { name: 'nul-description', description: 'a\u0000b', limits: LIMITS }, 'description'],
    ['POST', '/v1/tiers', { name: 'nul-window', limits: [{ window: '1m\u0000', limit: 5 }] }, 'limits.0.window'],
    ['POST', '/v1/tiers', { name: 'nul-algorithm', limits: LIMITS, algorithm: 'sliding_log\u0000' }, 'algorithm'],
    ['PATCH', '/v1/tiers/basic', { description: '\u0000' }, 'description'],
    ['POST', '/v1/keys', { name: 'a\u0000b', tier: 'basic' }, 'name'],
    ['POST', '/v1/keys', { name: 'nul-tier', tier: 'basic\u0000' }, 'tier'],
    ['POST', '/v1/keys', { name: 'nul-expiry', tier: 'basic', expires_at: '2099-01-01T00:00:00Z\u0000' }, 'expires_at'],
    ['PATCH', `/v1/keys/${keyId}`, { name: 'renamed\u0000' }, 'name'],
    ['PATCH', `/v1/keys/${keyId}`, { limits: [{ window: '\u00001m', limit: 1 }] }, 'limits.0.window'],
  ];
  for (const [method, path, body, field] of calls) {
    const response = await app.call(method, path, body);
    expectFieldError(t, response, field, NUL, `${method} ${path} ${field}`);
  }
});

t.test('a NUL in a JSON field name answers 400 naming it, escaped', async (t) => {
  const response = await app.call('POST', '/v1/tiers', { name: 'nul-key', limits: LIMITS, 'col\u0000our': 'red' });
  expectFieldError(t, response, 'col\\u0000our', NUL);
});

t.test('a lone surrogate in a JSON field answers 400 instead of being stored as U+FFFD', async (t) => {
  const escaped = await app.call('POST', '/v1/tiers', '{"name":"lone","description":"a\\ud800b","limits":[{"window":"1m","limit":5}]}');
  expectFieldError(t, escaped, 'description', SURROGATE, 'an escaped high surrogate');
  const low = await app.call('POST', '/v1/keys', '{"name":"\\udc00x","tier":"basic"}');
  expectFieldError(t, low, 'name', SURROGATE, 'an escaped low surrogate');
  const paired = await app.call('POST', '/v1/keys', '{"name":"\\ud83d\\ude00 smile","tier":"basic"}');
  t.equal(paired.status, 201, 'a surrogate pair (an emoji) is ordinary text');
  t.equal(paired.body.name, '😀 smile');
});

t.test('a forged cursor holding a NUL answers 400 naming the cursor', async (t) => {
  const forged = (position: unknown) => Buffer.from(JSON.stringify(position)).toString('base64url');
  const keys = await app.call('GET', `/v1/keys?cursor=${forged(['2026-01-01T00:00:00.000Z', 'key_\u0000'])}`);
  expectFieldError(t, keys, 'cursor', 'is not a cursor returned by this list', 'keys');
  const logs = await app.call('GET', `/v1/request-logs?cursor=${forged(['2026-01-01T00:00:00.000Z', '\u0000'])}`);
  expectFieldError(t, logs, 'cursor', 'is not a cursor returned by this list', 'request logs');
});

t.test('none of the refused requests stored anything or was logged as a failure', async (t) => {
  const after = await rowCounts();
  // The one key with an emoji name above is the only change.
  t.same(after, { ...countsBefore, api_keys: countsBefore.api_keys! + 1, audit_log: countsBefore.audit_log! + 1 });
  t.same(failuresLogged(app.logs.lines), [], 'no error-level log line');
});
