// The policy fields of tiers and keys over REST: GCRA bursts, calendar windows and their time zone,
// shadow mode, concurrency caps and per-route limits. Each is validated with a clear error, stored,
// audited and published to gateways.
import t from 'tap';
import { startTestApp, uniqueName } from '../helpers/test-app.js';

const ctx = await startTestApp('tier_policies');
t.teardown(() => ctx.close());

const policy = {
  limits: [
    { window: '1m', limit: 60, burst: 10 },
    { window: 'month', limit: 100_000 },
  ],
  algorithm: 'gcra',
  timezone: 'Europe/Paris',
  mode: 'shadow',
  concurrency: 4,
  route_limits: { '/reports': [{ window: '1m', limit: 10 }] },
};

async function createTier(extra: Record<string, unknown> = {}): Promise<{ name: string } & Record<string, unknown>> {
  const response = await ctx.call('POST', '/v1/tiers', { name: uniqueName('policy'), limits: [{ window: '1m', limit: 60 }], ...extra });
  if (response.status !== 201) throw new Error(`tier create failed: ${response.text}`);
  return response.body;
}

t.test('a tier with every policy field is stored, answered and published as given', async (t) => {
  const name = uniqueName('policy');
  const response = await ctx.call('POST', '/v1/tiers', { name, ...policy });
  t.equal(response.status, 201, response.text);
  t.match(response.body, { name, ...policy });
  t.same((await ctx.call('GET', `/v1/tiers/${name}`)).body.route_limits, policy.route_limits);
  t.same(ctx.publisher.tierChanges(name), [{ name, ...policy }]);
});

t.test('a new tier enforces, in UTC, with no cap and no route limits', async (t) => {
  const tier = await createTier();
  t.match(tier, { timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null });
});

t.test('every policy change is in the audit log with before and after', async (t) => {
  const tier = await createTier();
  await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { mode: 'shadow', concurrency: 2 });
  const audit = await ctx.call('GET', `/v1/audit-log?resource_type=tier&resource_id=${tier.name}`);
  const update = audit.body.items.find((item: { action: string }) => item.action === 'tier.update');
  t.match(update, { before: { mode: 'enforce', concurrency: null }, after: { mode: 'shadow', concurrency: 2 } });
});

t.test('switching a tier from shadow to enforce is one PATCH, published at once', async (t) => {
  const tier = await createTier({ mode: 'shadow' });
  const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { mode: 'enforce' });
  t.equal(response.status, 200);
  t.equal(response.body.mode, 'enforce');
  t.equal(ctx.publisher.tierChanges(tier.name).at(-1)?.mode, 'enforce');
});

t.test('null removes a concurrency cap and route limits', async (t) => {
  const tier = await createTier({ concurrency: 3, route_limits: { reports: [{ window: '1h', limit: 5 }] } });
  const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { concurrency: null, route_limits: null });
  t.equal(response.status, 200);
  t.match(response.body, { concurrency: null, route_limits: null });
});

const invalidBodies: [string, Record<string, unknown>, string, string][] = [
  ['a burst on a sliding-window tier', { limits: [{ window: '1m', limit: 60, burst: 10 }] }, 'limits.0.burst', 'burst applies only to gcra tiers'],
  ['a burst on a month window', { algorithm: 'gcra', limits: [{ window: 'month', limit: 60, burst: 10 }] }, 'limits.0.burst', 'burst applies only to duration windows, not day or month'],
  ['a burst of 0', { algorithm: 'gcra', limits: [{ window: '1m', limit: 60, burst: 0 }] }, 'limits.0.burst', 'must be at least 1'],
  ['an unknown time zone', { timezone: 'Mars/Olympus' }, 'timezone', 'must be an IANA time zone such as UTC or Europe/Paris'],
  ['an unknown mode', { mode: 'dry-run' }, 'mode', 'must be one of enforce, shadow'],
  ['a concurrency of 0', { concurrency: 0 }, 'concurrency', 'must be at least 1'],
  ['a fractional concurrency', { concurrency: 1.5 }, 'concurrency', 'must be a whole number'],
  ['a route name with a space', { route_limits: { 'my route': [{ window: '1m', limit: 1 }] } }, 'route_limits.my route', 'must be 1 to 64 letters, digits or _ . / -'],
  ['an empty route limit list', { route_limits: { reports: [] } }, 'route_limits.reports', 'must list at least one item'],
];

for (const [what, body, path, message] of invalidBodies) {
  t.test(`${what} is refused: 400 naming the field`, async (t) => {
    const response = await ctx.call('POST', '/v1/tiers', { name: uniqueName('bad'), limits: [{ window: '1m', limit: 60 }], ...body });
    t.equal(response.status, 400, response.text);
    t.equal(response.headers.get('content-type'), 'application/problem+json');
    t.has(response.body.errors, [{ path }]);
    t.match(response.body.errors[0].message, message);
  });
}

t.test('leaving GCRA while limits carry a burst: 422 naming the burst, nothing changed', async (t) => {
  const tier = await createTier({ algorithm: 'gcra', limits: [{ window: '1m', limit: 60, burst: 5 }] });
  const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { algorithm: 'sliding_log' });
  t.equal(response.status, 422);
  t.equal(response.body.type, 'https://tollgate.dev/problems/invalid-policy');
  t.same(response.body.errors, [{ path: 'limits.0.burst', message: 'burst applies only to gcra tiers' }]);
  t.equal((await ctx.call('GET', `/v1/tiers/${tier.name}`)).body.algorithm, 'gcra');
  const fixed = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { algorithm: 'sliding_log', limits: [{ window: '1m', limit: 60 }] });
  t.equal(fixed.status, 200, 'limits and algorithm changed together are fine');
});

t.test("a key's mode overrides its tier's, and null returns it to the tier's", async (t) => {
  const tier = await createTier();
  const created = await ctx.call('POST', '/v1/keys', { name: 'shadowed', tier: tier.name, mode: 'shadow' });
  t.equal(created.status, 201);
  t.equal(created.body.mode, 'shadow');
  const patched = await ctx.call('PATCH', `/v1/keys/${created.body.id}`, { mode: null });
  t.equal(patched.body.mode, null);
  const published = ctx.publisher.published.filter((entry) => entry.kind === 'key' && entry.view?.id === created.body.id);
  t.same(
    published.map((entry) => (entry.kind === 'key' ? entry.view?.mode : undefined)),
    ['shadow', null],
  );
});

t.test("a key's own limits with a burst need a GCRA tier: 422 otherwise", async (t) => {
  const window = await createTier();
  const refused = await ctx.call('POST', '/v1/keys', { name: 'k', tier: window.name, limits: [{ window: '1m', limit: 5, burst: 2 }] });
  t.equal(refused.status, 422);
  t.equal(refused.body.type, 'https://tollgate.dev/problems/invalid-policy');
  t.same(refused.body.errors, [{ path: 'limits.0.burst', message: 'burst applies only to gcra tiers' }]);
  const gcra = await createTier({ algorithm: 'gcra' });
  const created = await ctx.call('POST', '/v1/keys', { name: 'k', tier: gcra.name, limits: [{ window: '1m', limit: 5, burst: 2 }] });
  t.equal(created.status, 201);
  t.same(created.body.limits, [{ window: '1m', limit: 5, burst: 2 }]);
  const moved = await ctx.call('PATCH', `/v1/keys/${created.body.id}`, { tier: window.name });
  t.equal(moved.status, 422, 'moving it to a tier that is not GCRA is refused too');
});

t.test('the OpenAPI document describes every policy field', async (t) => {
  const document = (await ctx.call('GET', '/openapi.json')).body;
  const schemas = document.components.schemas;
  for (const field of ['algorithm', 'timezone', 'mode', 'concurrency', 'route_limits']) t.ok(schemas.Tier.properties[field], `Tier.${field}`);
  for (const field of ['timezone', 'mode', 'concurrency', 'route_limits']) t.ok(schemas.TierCreate.properties[field], `TierCreate.${field}`);
  t.ok(schemas.Key.properties.mode, 'Key.mode');
  t.same(schemas.Tier.properties.algorithm.enum, ['sliding_window', 'sliding_log', 'gcra']);
});
