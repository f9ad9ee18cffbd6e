import t from 'tap';
import { startTestApp, uniqueName } from '../helpers/test-app.js';

const ctx = await startTestApp('audit');
t.teardown(() => ctx.close());

const limits = [{ window: '1m', limit: 60 }];

t.test('every tier change is audited with before and after, newest first', async (t) => {
  const name = uniqueName('audited');
  await ctx.call('POST', '/v1/tiers', { name, limits });
  await ctx.call('PATCH', `/v1/tiers/${name}`, { description: 'v2' });
  await ctx.call('DELETE', `/v1/tiers/${name}`);
  const response = await ctx.call('GET', `/v1/audit-log?resource_type=tier&resource_id=${name}`);
  t.equal(response.status, 200);
  const items = response.body.items;
  t.same(
    items.map((item: { action: string }) => item.action),
    ['tier.delete', 'tier.update', 'tier.create'],
  );
  const [deleted, updated, created] = items;
  t.equal(created.actor, 'admin');
  t.equal(created.before, null);
  t.match(created.after, { name, description: null, limits });
  t.equal(updated.before.description, null);
  t.equal(updated.after.description, 'v2');
  t.match(deleted.before, { name, description: 'v2' });
  t.equal(deleted.after, null);
  t.ok(Date.parse(created.at));
});

t.test('key changes are audited without the secret or its hash', async (t) => {
  const tier = uniqueName('keyaudit');
  await ctx.call('POST', '/v1/tiers', { name: tier, limits });
  const key = (await ctx.call('POST', '/v1/keys', { name: 'k', tier })).body;
  const rotated = (await ctx.call('POST', `/v1/keys/${key.id}/rotate`)).body;
  await ctx.call('PATCH', `/v1/keys/${key.id}`, { name: 'k2' });
  await ctx.call('DELETE', `/v1/keys/${key.id}`);
  const response = await ctx.call('GET', `/v1/audit-log?resource_type=key&resource_id=${key.id}`);
  const items = response.body.items;
  t.same(
    items.map((item: { action: string }) => item.action),
    ['key.revoke', 'key.update', 'key.rotate', 'key.create'],
  );
  const rotation = items[2];
  t.equal(rotation.before.prefix, key.prefix);
  t.equal(rotation.after.prefix, rotated.prefix);
  t.equal(items[0].after.active, false);
  t.ok(items[0].after.revoked_at);
  const text = response.text;
  t.notOk(text.includes(key.secret), 'no first secret');
  t.notOk(text.includes(rotated.secret), 'no rotated secret');
  t.notOk(/secret/.test(text), 'no secret or secret_hash field at all');
});

t.test('a change that fails writes no audit row', async (t) => {
  const name = uniqueName('dup');
  await ctx.call('POST', '/v1/tiers', { name, limits });
  t.equal((await ctx.call('POST', '/v1/tiers', { name, limits })).status, 409);
  const response = await ctx.call('GET', `/v1/audit-log?resource_type=tier&resource_id=${name}`);
  t.equal(response.body.items.length, 1);
});

t.test('the audit log pages with a cursor and filters by resource type', async (t) => {
  for (let index = 0; index < 5; index += 1) {
    await ctx.call('POST', '/v1/tiers', { name: uniqueName('page'), limits });
  }
  const first = await ctx.call('GET', '/v1/audit-log?limit=2');
  t.equal(first.body.items.length, 2);
  t.type(first.body.next_cursor, 'string');
  const second = await ctx.call('GET', `/v1/audit-log?limit=2&cursor=${first.body.next_cursor}`);
  t.equal(second.body.items.length, 2);
  const ids = [...first.body.items, ...second.body.items].map((item: { id: string }) => Number(item.id));
  t.same(ids, [...ids].sort((a, b) => b - a), 'newest first');
  t.equal(new Set(ids).size, 4, 'no entry twice');
  const keysOnly = await ctx.call('GET', '/v1/audit-log?resource_type=key&limit=500');
  t.ok(keysOnly.body.items.every((item: { resource_type: string }) => item.resource_type === 'key'));
  const all = await ctx.call('GET', '/v1/audit-log?limit=500');
  t.equal(all.body.next_cursor, null);
});

t.test('bad audit log parameters answer 400', async (t) => {
  for (const query of ['resource_type=user', 'limit=0', 'cursor=abc', 'since=yesterday']) {
    t.equal((await ctx.call('GET', `/v1/audit-log?${query}`)).status, 400, query);
  }
});
