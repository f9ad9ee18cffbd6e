import t from 'tap';
import { startTestApp, uniqueName } from '../helpers/test-app.js';

const ctx = await startTestApp('tiers');
t.teardown(() => ctx.close());

const limits = [{ window: '1m', limit: 60 }];

async function createTier(name = uniqueName('tier'), extra: Record<string, unknown> = {}) {
  const response = await ctx.call('POST', '/v1/tiers', { name, limits, ...extra });
  if (response.status !== 201) throw new Error(`tier create failed: ${response.text}`);
  return response.body;
}

t.test('creating a tier returns 201 with the tier and publishes its view', async (t) => {
  const name = uniqueName('gold');
  const response = await ctx.call('POST', '/v1/tiers', {
    name,
    description: 'paying customers',
    limits: [
      { window: '1s', limit: 5 },
      { window: '31d', limit: 1000 },
    ],
    algorithm: 'sliding_log',
  });
  t.equal(response.status, 201);
  t.match(response.body, {
    name,
    description: 'paying customers',
    limits: [
      { window: '1s', limit: 5 },
      { window: '31d', limit: 1000 },
    ],
    algorithm: 'sliding_log',
  });
  t.ok(Date.parse(response.body.created_at));
  t.same(ctx.publisher.tierChanges(name), [
    { name, limits: response.body.limits, algorithm: 'sliding_log', timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null },
  ]);
});

t.test('a tier without an algorithm gets sliding_window and a null description', async (t) => {
  const tier = await createTier();
  t.equal(tier.algorithm, 'sliding_window');
  t.equal(tier.description, null);
});

t.test('creating a tier whose name exists answers 409', async (t) => {
  const tier = await createTier();
  const response = await ctx.call('POST', '/v1/tiers', { name: tier.name, limits });
  t.equal(response.status, 409);
  t.equal(response.headers.get('content-type'), 'application/problem+json');
  t.equal(response.body.type, 'https://tollgate.dev/problems/tier-exists');
});

t.test('two concurrent creations of one name give one 201 and one 409', async (t) => {
  const name = uniqueName('race');
  const statuses = await Promise.all(
    Array.from({ length: 2 }, () => ctx.call('POST', '/v1/tiers', { name, limits }).then((r) => r.status)),
  );
  t.same(statuses.sort(), [201, 409]);
});

t.test('invalid tier bodies answer 400 naming each bad field', async (t) => {
  const cases: [string, unknown, string][] = [
    ['a name with capitals', { name: 'Gold', limits }, 'name'],
    ['a name starting with a dash', { name: '-gold', limits }, 'name'],
    ['a name of 64 characters', { name: 'a'.repeat(64), limits }, 'name'],
    ['a missing name', { limits }, 'name'],
    ['missing limits', { name: 'ok' }, 'limits'],
    ['empty limits', { name: 'ok', limits: [] }, 'limits'],
    ['a zero limit', { name: 'ok', limits: [{ window: '1m', limit: 0 }] }, 'limits.0.limit'],
    ['a fractional limit', { name: 'ok', limits: [{ window: '1m', limit: 1.5 }] }, 'limits.0.limit'],
    ['a window of 0s', { name: 'ok', limits: [{ window: '0s', limit: 1 }] }, 'limits.0.window'],
    ['a window over 31 days', { name: 'ok', limits: [{ window: '32d', limit: 1 }] }, 'limits.0.window'],
    ['a window without a unit', { name: 'ok', limits: [{ window: '60', limit: 1 }] }, 'limits.0.window'],
    [
      'two limits on one window',
      { name: 'ok', limits: [{ window: '60s', limit: 1 }, { window: '1m', limit: 2 }] },
      'limits.1.window',
    ],
    ['an unknown field in a limit', { name: 'ok', limits: [{ window: '1m', limit: 1, burst: 2 }] }, 'limits.0.burst'],
    ['an unknown top-level field', { name: 'ok', limits, owner: 'me' }, 'owner'],
    ['an unknown algorithm', { name: 'ok', limits, algorithm: 'token_bucket' }, 'algorithm'],
    ['a description that is not text', { name: 'ok', limits, description: 5 }, 'description'],
  ];
  for (const [label, body, path] of cases) {
    const response = await ctx.call('POST', '/v1/tiers', body);
    t.equal(response.status, 400, label);
    t.equal(response.body.type, 'https://tollgate.dev/problems/validation-failed', label);
    t.ok(
      response.body.errors.some((error: { path: string }) => error.path === path),
      `${label}: ${JSON.stringify(response.body.errors)}`,
    );
  }
});

t.test('a body that is not a JSON object answers 400', async (t) => {
  const response = await ctx.call('POST', '/v1/tiers', '[1,2]');
  t.equal(response.status, 400);
});

t.test('listing tiers returns every tier sorted by name', async (t) => {
  const first = await createTier(uniqueName('aaa'));
  const second = await createTier(uniqueName('zzz'));
  const response = await ctx.call('GET', '/v1/tiers');
  t.equal(response.status, 200);
  const names = response.body.items.map((tier: { name: string }) => tier.name);
  t.ok(names.includes(first.name) && names.includes(second.name));
  t.same(names, [...names].sort());
});

t.test('getting a tier returns it, an unknown one answers 404', async (t) => {
  const tier = await createTier();
  const found = await ctx.call('GET', `/v1/tiers/${tier.name}`);
  t.equal(found.status, 200);
  t.same(found.body, tier);
  const missing = await ctx.call('GET', '/v1/tiers/nope-nope');
  t.equal(missing.status, 404);
  t.equal(missing.body.type, 'https://tollgate.dev/problems/not-found');
});

t.test('patching a tier changes its limits and publishes the new view', async (t) => {
  const tier = await createTier();
  const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, {
    limits: [{ window: '1h', limit: 100 }],
    description: 'changed',
  });
  t.equal(response.status, 200);
  t.same(response.body.limits, [{ window: '1h', limit: 100 }]);
  t.equal(response.body.description, 'changed');
  t.equal(response.body.created_at, tier.created_at);
  t.same(ctx.publisher.tierChanges(tier.name).at(-1), {
    name: tier.name,
    limits: [{ window: '1h', limit: 100 }],
    algorithm: 'sliding_window',
    timezone: 'UTC',
    mode: 'enforce',
    concurrency: null,
    route_limits: null,
  });
});

t.test('patching a tier with null clears its description', async (t) => {
  const tier = await createTier(uniqueName('desc'), { description: 'x' });
  const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { description: null });
  t.equal(response.status, 200);
  t.equal(response.body.description, null);
});

t.test('patching a tier rejects a new name, an empty body and bad limits with 400', async (t) => {
  const tier = await createTier();
  for (const body of [{ name: 'other' }, {}, { limits: [{ window: '1m', limit: -1 }] }]) {
    const response = await ctx.call('PATCH', `/v1/tiers/${tier.name}`, body);
    t.equal(response.status, 400, JSON.stringify(body));
    t.ok(response.body.errors.length > 0);
  }
});

t.test('patching an unknown tier answers 404', async (t) => {
  const response = await ctx.call('PATCH', '/v1/tiers/does-not-exist', { description: 'x' });
  t.equal(response.status, 404);
});

t.test('deleting an unused tier answers 204, publishes null and the tier is gone', async (t) => {
  const tier = await createTier();
  const response = await ctx.call('DELETE', `/v1/tiers/${tier.name}`);
  t.equal(response.status, 204);
  t.equal(response.text, '');
  t.equal(ctx.publisher.tierChanges(tier.name).at(-1), null);
  t.equal((await ctx.call('GET', `/v1/tiers/${tier.name}`)).status, 404);
  t.equal((await ctx.call('DELETE', `/v1/tiers/${tier.name}`)).status, 404);
});

t.test('deleting a tier that a key uses answers 409 and keeps the tier', async (t) => {
  const tier = await createTier();
  t.equal((await ctx.call('POST', '/v1/keys', { name: 'user', tier: tier.name })).status, 201);
  const response = await ctx.call('DELETE', `/v1/tiers/${tier.name}`);
  t.equal(response.status, 409);
  t.equal(response.body.type, 'https://tollgate.dev/problems/tier-in-use');
  t.equal((await ctx.call('GET', `/v1/tiers/${tier.name}`)).status, 200);
});

t.test('a failing publisher does not fail the change, which is logged', async (t) => {
  ctx.publisher.failing = true;
  t.teardown(() => {
    ctx.publisher.failing = false;
  });
  const name = uniqueName('offline');
  const response = await ctx.call('POST', '/v1/tiers', { name, limits });
  t.equal(response.status, 201);
  t.equal((await ctx.call('GET', `/v1/tiers/${name}`)).status, 200);
  t.ok(ctx.logs.lines.some((line) => line.includes('publish failed')));
});

t.test('a tier deleted and created again is published at a revision above its deletion', async (t) => {
  const tier = await createTier();
  await ctx.call('PATCH', `/v1/tiers/${tier.name}`, { description: 'changed' });
  t.equal((await ctx.call('DELETE', `/v1/tiers/${tier.name}`)).status, 204);
  await createTier(tier.name);
  const revisions = ctx.publisher.published.flatMap((entry) =>
    entry.kind === 'tier' && entry.name === tier.name ? [[entry.view === null ? 'deleted' : 'view', entry.revision] as const] : [],
  );
  t.same(
    revisions.map(([what]) => what),
    ['view', 'view', 'deleted', 'view'],
  );
  const numbers = revisions.map(([, revision]) => revision);
  t.ok(
    numbers.every((revision, index) => index === 0 || revision > (numbers[index - 1] ?? Infinity)),
    `revisions rise with every change: ${numbers.join(', ')}`,
  );
});

t.test('a deleted tier stays in what a rebuild loads, as retired at its deletion revision', async (t) => {
  const { createProjectionSource } = await import('../../src/projection-source.js');
  const tier = await createTier();
  t.equal((await ctx.call('DELETE', `/v1/tiers/${tier.name}`)).status, 204);
  const deletion = ctx.publisher.published.find((entry) => entry.kind === 'tier' && entry.name === tier.name && entry.view === null);
  const { tiers, retired } = await createProjectionSource(ctx.db).loadAll();
  t.notOk(tiers.some((entry) => entry.view.name === tier.name), 'not a tier any more');
  t.same(
    retired.filter((entry) => entry.field === `tier:${tier.name}`),
    [{ field: `tier:${tier.name}`, revision: deletion?.revision }],
  );
});
