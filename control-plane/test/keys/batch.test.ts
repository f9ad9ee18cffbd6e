import t from 'tap';
import { sha256Hex } from '../../src/keys/secret.js';
import { MAX_KEYS_PER_BATCH } from '../../src/keys/schema.js';
import { startTestApp, uniqueName } from '../helpers/test-app.js';

const ctx = await startTestApp('key-batch');
t.teardown(() => ctx.close());

const tier = uniqueName('bulk');
const gcraTier = uniqueName('smooth');
for (const body of [
  { name: tier, limits: [{ window: '1m', limit: 60 }] },
  { name: gcraTier, limits: [{ window: '1m', limit: 60 }], algorithm: 'gcra' },
]) {
  const response = await ctx.call('POST', '/v1/tiers', body);
  if (response.status !== 201) throw new Error(response.text);
}

async function keyCount(): Promise<number> {
  const row = await ctx.db.selectFrom('api_keys').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

async function auditCount(): Promise<number> {
  const row = await ctx.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Sends a batch that must be refused and checks that nothing was created, audited or published. */
async function refused(body: unknown) {
  const [keys, audits, published] = [await keyCount(), await auditCount(), ctx.publisher.published.length];
  const response = await ctx.call('POST', '/v1/keys/batch', body);
  return {
    response,
    unchanged: (await keyCount()) === keys && (await auditCount()) === audits && ctx.publisher.published.length === published,
  };
}

t.test('a batch creates every key and answers 201 with each secret once, in the order asked', async (t) => {
  const items = Array.from({ length: 25 }, (_, index) => ({ name: `worker ${index}`, tier }));
  items[3] = { name: 'with override', tier, limits: [{ window: '1s', limit: 2 }], expires_at: '2099-01-01T00:00:00Z' } as (typeof items)[number];
  const response = await ctx.call('POST', '/v1/keys/batch', { items });
  t.equal(response.status, 201);
  const created = response.body.items as { id: string; name: string; secret: string; prefix: string; limits: unknown; expires_at: string | null }[];
  t.same(
    created.map((key) => key.name),
    items.map((item) => item.name),
  );
  t.equal(new Set(created.map((key) => key.secret)).size, 25, 'every secret is its own');
  for (const key of created) {
    t.match(key.secret, /^tg_[0-9A-Za-z]{43}$/);
    t.equal(key.prefix, key.secret.slice(0, 8));
  }
  t.same(created[3]?.limits, [{ window: '1s', limit: 2 }]);
  t.equal(created[3]?.expires_at, '2099-01-01T00:00:00.000Z');
  const fetched = await ctx.call('GET', `/v1/keys/${created[0]?.id}`);
  t.equal(fetched.status, 200);
  t.notOk('secret' in fetched.body, 'reading a key never shows the secret');
});

t.test('every key of a batch is published to the change feed', async (t) => {
  const response = await ctx.call('POST', '/v1/keys/batch', { items: [{ name: 'a', tier }, { name: 'b', tier, mode: 'shadow' }] });
  t.equal(response.status, 201);
  for (const key of response.body.items as { id: string; secret: string; mode: string | null }[]) {
    t.same(ctx.publisher.keyChanges(sha256Hex(key.secret)), [
      { id: key.id, tier, limits: null, active: true, expires_at: null, mode: key.mode },
    ]);
  }
});

t.test('every key of a batch gets its own audit entry', async (t) => {
  const response = await ctx.call('POST', '/v1/keys/batch', { items: [{ name: 'x', tier }, { name: 'y', tier }] });
  for (const key of response.body.items as { id: string; secret: string }[]) {
    const audit = await ctx.call('GET', `/v1/audit-log?resource_id=${key.id}`);
    t.equal(audit.status, 200);
    t.match(audit.body.items, [{ action: 'key.create', actor: 'admin', before: null, after: { id: key.id, tier } }]);
    t.notOk(JSON.stringify(audit.body).includes(key.secret), 'the audit entry holds no secret');
  }
});

t.test('an invalid item answers 400 naming its index and creates nothing', async (t) => {
  const { response, unchanged } = await refused({ items: [{ name: 'fine', tier }, { name: 'fine too', tier }, { name: '', tier, limits: [{ window: '1m', limit: 0 }] }] });
  t.equal(response.status, 400);
  t.equal(response.headers.get('content-type'), 'application/problem+json');
  t.same(response.body.errors.map((error: { path: string }) => error.path).sort(), ['items.2.limits.0.limit', 'items.2.name']);
  t.ok(unchanged, 'no key, audit entry or change was made');
});

t.test('an unknown tier in one item answers 422 naming that item and creates nothing', async (t) => {
  const { response, unchanged } = await refused({ items: [{ name: 'a', tier }, { name: 'b', tier: 'no-such-tier' }] });
  t.equal(response.status, 422);
  t.equal(response.body.type, 'https://tollgate.dev/problems/unknown-tier');
  t.same(response.body.errors, [{ path: 'items.1.tier', message: 'tier no-such-tier does not exist' }]);
  t.ok(unchanged, 'no key, audit entry or change was made');
});

t.test('an expiry in the past answers 400 naming the item and creates nothing', async (t) => {
  const { response, unchanged } = await refused({ items: [{ name: 'a', tier, expires_at: '2001-01-01T00:00:00Z' }, { name: 'b', tier }] });
  t.equal(response.status, 400);
  t.same(response.body.errors, [{ path: 'items.0.expires_at', message: 'must be in the future' }]);
  t.ok(unchanged);
});

t.test('limits that do not fit the tier answer 422 naming the item and create nothing', async (t) => {
  const burst = [{ window: '1m', limit: 10, burst: 5 }];
  const { response, unchanged } = await refused({ items: [{ name: 'smooth', tier: gcraTier, limits: burst }, { name: 'plain', tier, limits: burst }] });
  t.equal(response.status, 422);
  t.equal(response.body.type, 'https://tollgate.dev/problems/invalid-policy');
  t.same(response.body.errors.map((error: { path: string }) => error.path), ['items.1.limits.0.burst']);
  t.ok(unchanged);
});

t.test(`a batch must hold between one and ${MAX_KEYS_PER_BATCH} keys`, async (t) => {
  const empty = await refused({ items: [] });
  t.equal(empty.response.status, 400);
  t.same(empty.response.body.errors.map((error: { path: string }) => error.path), ['items']);
  const tooMany = await refused({ items: Array.from({ length: MAX_KEYS_PER_BATCH + 1 }, (_, index) => ({ name: `k${index}`, tier })) });
  t.equal(tooMany.response.status, 400);
  t.same(tooMany.response.body.errors.map((error: { path: string }) => error.path), ['items']);
  t.ok(empty.unchanged && tooMany.unchanged);
});

t.test(`a batch of ${MAX_KEYS_PER_BATCH} keys is created in one call`, async (t) => {
  const before = await keyCount();
  const response = await ctx.call('POST', '/v1/keys/batch', { items: Array.from({ length: MAX_KEYS_PER_BATCH }, (_, index) => ({ name: `bulk ${index}`, tier })) });
  t.equal(response.status, 201);
  t.equal(response.body.items.length, MAX_KEYS_PER_BATCH);
  t.equal(await keyCount(), before + MAX_KEYS_PER_BATCH);
});

t.test('a batch needs the admin token', async (t) => {
  const response = await ctx.call('POST', '/v1/keys/batch', { items: [{ name: 'a', tier }] }, { authorization: '' });
  t.equal(response.status, 401);
});

t.test('the batch is in the OpenAPI document with its request and response shapes', async (t) => {
  const document = JSON.parse((await ctx.call('GET', '/openapi.json')).text);
  const operation = document.paths['/v1/keys/batch'].post;
  t.same(operation.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/KeyBatchCreate' });
  t.same(operation.responses['201'].content['application/json'].schema, { $ref: '#/components/schemas/KeyBatch' });
  t.equal(document.components.schemas.KeyBatchCreate.properties.items.maxItems, MAX_KEYS_PER_BATCH);
});
