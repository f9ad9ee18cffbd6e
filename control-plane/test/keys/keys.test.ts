import t from 'tap';
import { sha256Hex } from '../../src/keys/secret.js';
import { startTestApp, uniqueName } from '../helpers/test-app.js';

const ctx = await startTestApp('keys');
t.teardown(() => ctx.close());

const tierLimits = [{ window: '1m', limit: 60 }];
const tier = uniqueName('basic');
const otherTier = uniqueName('other');
for (const name of [tier, otherTier]) {
  const response = await ctx.call('POST', '/v1/tiers', { name, limits: tierLimits });
  if (response.status !== 201) throw new Error(response.text);
}

async function createKey(body: Record<string, unknown> = {}) {
  const response = await ctx.call('POST', '/v1/keys', { name: 'service', tier, ...body });
  if (response.status !== 201) throw new Error(`key create failed: ${response.text}`);
  return response.body;
}

async function storedHashes(): Promise<string[]> {
  const rows = await ctx.db.selectFrom('api_keys').select('secret_hash').execute();
  return rows.map((row) => row.secret_hash);
}

t.test('creating a key returns 201 with a tg_ secret shown once and publishes its view', async (t) => {
  const response = await ctx.call('POST', '/v1/keys', {
    name: 'billing service',
    tier,
    limits: [{ window: '1s', limit: 2 }],
    expires_at: '2099-01-01T00:00:00Z',
  });
  t.equal(response.status, 201);
  const key = response.body;
  t.match(key.id, /^key_[0-9A-Za-z]{22}$/);
  t.match(key.secret, /^tg_[0-9A-Za-z]{43}$/);
  t.equal(key.prefix, key.secret.slice(0, 8));
  t.match(key, {
    name: 'billing service',
    tier,
    limits: [{ window: '1s', limit: 2 }],
    active: true,
    expires_at: '2099-01-01T00:00:00.000Z',
    last_used_at: null,
    revoked_at: null,
  });
  t.ok((await storedHashes()).includes(sha256Hex(key.secret)), 'the SHA-256 of the secret is stored');
  t.same(ctx.publisher.keyChanges(sha256Hex(key.secret)), [
    { id: key.id, tier, limits: [{ window: '1s', limit: 2 }], active: true, expires_at: '2099-01-01T00:00:00.000Z', mode: null },
  ]);
  const fetched = await ctx.call('GET', `/v1/keys/${key.id}`);
  t.equal(fetched.status, 200);
  t.notOk('secret' in fetched.body, 'reading a key never shows the secret');
});

t.test('creating a key for an unknown tier answers 422', async (t) => {
  const response = await ctx.call('POST', '/v1/keys', { name: 'x', tier: 'no-such-tier' });
  t.equal(response.status, 422);
  t.equal(response.body.type, 'https://tollgate.dev/problems/unknown-tier');
});

t.test('invalid key bodies answer 400 naming each bad field', async (t) => {
  const cases: [string, unknown, string][] = [
    ['a missing name', { tier }, 'name'],
    ['an empty name', { name: '  ', tier }, 'name'],
    ['a missing tier', { name: 'x' }, 'tier'],
    ['a malformed tier name', { name: 'x', tier: 'Not Valid' }, 'tier'],
    ['a limit of 0', { name: 'x', tier, limits: [{ window: '1m', limit: 0 }] }, 'limits.0.limit'],
    ['a window of 40d', { name: 'x', tier, limits: [{ window: '40d', limit: 1 }] }, 'limits.0.window'],
    ['an expiry that is not a date', { name: 'x', tier, expires_at: 'tomorrow' }, 'expires_at'],
    ['an expiry in the past', { name: 'x', tier, expires_at: '2001-01-01T00:00:00Z' }, 'expires_at'],
    ['an unknown field', { name: 'x', tier, secret: 'tg_mine' }, 'secret'],
    ['active on create', { name: 'x', tier, active: false }, 'active'],
  ];
  for (const [label, body, path] of cases) {
    const response = await ctx.call('POST', '/v1/keys', body);
    t.equal(response.status, 400, label);
    t.ok(
      response.body.errors.some((error: { path: string }) => error.path === path),
      `${label}: ${JSON.stringify(response.body.errors)}`,
    );
  }
});

t.test('getting an unknown key answers 404', async (t) => {
  const response = await ctx.call('GET', '/v1/keys/key_doesnotexist');
  t.equal(response.status, 404);
});

t.test('patching a key changes its fields and publishes the new view', async (t) => {
  const key = await createKey();
  const response = await ctx.call('PATCH', `/v1/keys/${key.id}`, {
    name: 'renamed',
    tier: otherTier,
    limits: [{ window: '1h', limit: 10 }],
    active: false,
    expires_at: '2098-06-01T12:00:00+02:00',
  });
  t.equal(response.status, 200);
  t.match(response.body, {
    name: 'renamed',
    tier: otherTier,
    limits: [{ window: '1h', limit: 10 }],
    active: false,
    expires_at: '2098-06-01T10:00:00.000Z',
    prefix: key.prefix,
  });
  t.same(ctx.publisher.keyChanges(sha256Hex(key.secret)).at(-1), {
    id: key.id,
    tier: otherTier,
    limits: [{ window: '1h', limit: 10 }],
    active: false,
    expires_at: '2098-06-01T10:00:00.000Z',
    mode: null,
  });
});

t.test('patching limits or expires_at with null clears them', async (t) => {
  const key = await createKey({ limits: [{ window: '1m', limit: 1 }], expires_at: '2099-01-01T00:00:00Z' });
  const response = await ctx.call('PATCH', `/v1/keys/${key.id}`, { limits: null, expires_at: null });
  t.equal(response.status, 200);
  t.equal(response.body.limits, null);
  t.equal(response.body.expires_at, null);
});

t.test('patching a key to an unknown tier answers 422 and changes nothing', async (t) => {
  const key = await createKey();
  const response = await ctx.call('PATCH', `/v1/keys/${key.id}`, { tier: 'ghost-tier' });
  t.equal(response.status, 422);
  t.equal((await ctx.call('GET', `/v1/keys/${key.id}`)).body.tier, tier);
});

t.test('patching a key rejects unknown fields, an empty body and bad values with 400', async (t) => {
  const key = await createKey();
  for (const body of [{ prefix: 'tg_aaaaa' }, {}, { active: 'yes' }, { limits: [] }, { name: '' }]) {
    const response = await ctx.call('PATCH', `/v1/keys/${key.id}`, body);
    t.equal(response.status, 400, JSON.stringify(body));
  }
});

t.test('patching an unknown key answers 404', async (t) => {
  const response = await ctx.call('PATCH', '/v1/keys/key_nope', { name: 'x' });
  t.equal(response.status, 404);
});

t.test('rotating a key returns a new secret, drops the old hash and publishes null for it', async (t) => {
  const key = await createKey();
  const oldHash = sha256Hex(key.secret);
  const response = await ctx.call('POST', `/v1/keys/${key.id}/rotate`);
  t.equal(response.status, 200);
  const rotated = response.body;
  t.equal(rotated.id, key.id);
  t.match(rotated.secret, /^tg_[0-9A-Za-z]{43}$/);
  t.not(rotated.secret, key.secret);
  t.equal(rotated.prefix, rotated.secret.slice(0, 8));
  const hashes = await storedHashes();
  t.notOk(hashes.includes(oldHash), 'the old hash is gone from api_keys');
  t.ok(hashes.includes(sha256Hex(rotated.secret)), 'the new hash is stored');
  t.same(ctx.publisher.keyChanges(oldHash).at(-1), null);
  t.same(ctx.publisher.keyChanges(sha256Hex(rotated.secret)), [
    { id: key.id, tier, limits: null, active: true, expires_at: null, mode: null },
  ]);
});

t.test('rotating an unknown key answers 404', async (t) => {
  t.equal((await ctx.call('POST', '/v1/keys/key_nope/rotate')).status, 404);
});

t.test('revoking a key answers 204, publishes null and leaves it readable as revoked', async (t) => {
  const key = await createKey();
  const response = await ctx.call('DELETE', `/v1/keys/${key.id}`);
  t.equal(response.status, 204);
  t.same(ctx.publisher.keyChanges(sha256Hex(key.secret)).at(-1), null);
  const fetched = await ctx.call('GET', `/v1/keys/${key.id}`);
  t.equal(fetched.status, 200);
  t.equal(fetched.body.active, false);
  t.ok(Date.parse(fetched.body.revoked_at));
  t.equal((await ctx.call('DELETE', `/v1/keys/${key.id}`)).status, 204, 'revoking again is a no-op');
});

t.test('a revoked key cannot be patched or rotated (409)', async (t) => {
  const key = await createKey();
  await ctx.call('DELETE', `/v1/keys/${key.id}`);
  const patched = await ctx.call('PATCH', `/v1/keys/${key.id}`, { active: true });
  t.equal(patched.status, 409);
  t.equal(patched.body.type, 'https://tollgate.dev/problems/key-revoked');
  t.equal((await ctx.call('POST', `/v1/keys/${key.id}/rotate`)).status, 409);
});

t.test('revoking an unknown key answers 404', async (t) => {
  t.equal((await ctx.call('DELETE', '/v1/keys/key_nope')).status, 404);
});

t.test('the key list pages newest first with a cursor until next_cursor is null', async (t) => {
  const listTier = uniqueName('paged');
  await ctx.call('POST', '/v1/tiers', { name: listTier, limits: tierLimits });
  const created: string[] = [];
  for (let index = 0; index < 7; index += 1) created.push((await createKey({ tier: listTier })).id);
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = `/v1/keys?tier=${listTier}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
    const page = await ctx.call('GET', query);
    t.equal(page.status, 200);
    t.ok(page.body.items.length <= 3);
    seen.push(...page.body.items.map((key: { id: string }) => key.id));
    cursor = page.body.next_cursor;
    pages += 1;
  } while (cursor !== null && pages < 10);
  t.equal(pages, 3);
  // Keys made in the same millisecond order by id, so compare with one big page, not creation order.
  const all = await ctx.call('GET', `/v1/keys?tier=${listTier}&limit=500`);
  t.same(seen, all.body.items.map((key: { id: string }) => key.id));
  t.same([...seen].sort(), [...created].sort());
  t.equal(all.body.next_cursor, null);
});

t.test('the key list filters by active and by q on name or prefix', async (t) => {
  const filterTier = uniqueName('filter');
  await ctx.call('POST', '/v1/tiers', { name: filterTier, limits: tierLimits });
  const alpha = await createKey({ tier: filterTier, name: 'Alpha 100%_done' });
  const beta = await createKey({ tier: filterTier, name: 'beta' });
  await ctx.call('PATCH', `/v1/keys/${beta.id}`, { active: false });
  const ids = async (query: string) =>
    (await ctx.call('GET', `/v1/keys?tier=${filterTier}&${query}`)).body.items.map((key: { id: string }) => key.id);
  t.same(await ids('active=true'), [alpha.id]);
  t.same(await ids('active=false'), [beta.id]);
  t.same(await ids('q=alpha'), [alpha.id], 'name search ignores case');
  t.same(await ids(`q=${encodeURIComponent('100%_')}`), [alpha.id], '% and _ match themselves');
  t.same(await ids('q=%25'), [alpha.id]);
  t.same(await ids(`q=${beta.prefix}`), [beta.id], 'the prefix finds its key');
  t.same(await ids('q=nothing-like-this'), []);
});

t.test('bad list parameters answer 400', async (t) => {
  for (const query of ['limit=0', 'limit=501', 'limit=ten', 'active=maybe', 'cursor=not-a-cursor', 'colour=red']) {
    const response = await ctx.call('GET', `/v1/keys?${query}`);
    t.equal(response.status, 400, query);
    t.ok(response.body.errors.length > 0, query);
  }
});

t.test('ProjectionSource.loadAll returns every unrevoked key by hash and every tier', async (t) => {
  const { createProjectionSource } = await import('../../src/projection-source.js');
  const live = await createKey();
  const revoked = await createKey();
  await ctx.call('DELETE', `/v1/keys/${revoked.id}`);
  const { keys, tiers } = await createProjectionSource(ctx.db).loadAll();
  const byHash = new Map(keys.map((entry) => [entry.hash, entry.view]));
  t.same(byHash.get(sha256Hex(live.secret)), { id: live.id, tier, limits: null, active: true, expires_at: null, mode: null });
  t.notOk(byHash.has(sha256Hex(revoked.secret)));
  t.same(
    tiers.find((entry) => entry.view.name === tier)?.view,
    { name: tier, limits: tierLimits, algorithm: 'sliding_window', timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null },
  );
});

t.test('ProjectionSource.loadAll lists revoked keys and rotated-away hashes as retired, at their last revisions', async (t) => {
  const { createProjectionSource } = await import('../../src/projection-source.js');
  const revoked = await createKey();
  await ctx.call('DELETE', `/v1/keys/${revoked.id}`);
  const rotated = await createKey();
  const rotation = (await ctx.call('POST', `/v1/keys/${rotated.id}/rotate`)).body;
  const published = (hash: string) => ctx.publisher.published.filter((entry) => entry.kind === 'key' && entry.hash === hash).at(-1)?.revision;
  const { keys, retired } = await createProjectionSource(ctx.db).loadAll();
  const retiredAt = new Map(retired.map((entry) => [entry.field, entry.revision]));
  const oldHash = sha256Hex(rotated.secret);
  t.equal(retiredAt.get(`key:${sha256Hex(revoked.secret)}`), published(sha256Hex(revoked.secret)), 'the revoked key, at its revocation');
  t.equal(retiredAt.get(`key:${oldHash}`), published(oldHash), 'the old hash, at the rotation');
  t.ok(keys.some((entry) => entry.hash === sha256Hex(rotation.secret)), 'the new hash is a live key');
  t.notOk(retiredAt.has(`key:${sha256Hex(rotation.secret)}`));
});

t.test('every change of a key is published at a higher revision; a rotation retires the old hash at the new one', async (t) => {
  const key = await createKey();
  const firstHash = sha256Hex(key.secret);
  await ctx.call('PATCH', `/v1/keys/${key.id}`, { active: false });
  await ctx.call('PATCH', `/v1/keys/${key.id}`, { active: true });
  const rotated = (await ctx.call('POST', `/v1/keys/${key.id}/rotate`)).body;
  const secondHash = sha256Hex(rotated.secret);
  await ctx.call('DELETE', `/v1/keys/${key.id}`);
  const changes = ctx.publisher.published.flatMap((entry) =>
    entry.kind === 'key' && (entry.hash === firstHash || entry.hash === secondHash)
      ? [{ hash: entry.hash === firstHash ? 'first' : 'second', removed: entry.view === null, revision: entry.revision }]
      : [],
  );
  t.same(
    changes.map(({ hash, removed }) => `${hash}${removed ? ' removed' : ''}`),
    ['first', 'first', 'first', 'first removed', 'second', 'second removed'],
  );
  const [created, deactivated, activated, retired, replacement, revoked] = changes.map((change) => change.revision);
  t.ok((created ?? 0) < (deactivated ?? 0) && (deactivated ?? 0) < (activated ?? 0) && (activated ?? 0) < (retired ?? 0));
  t.equal(retired, replacement, 'the old hash goes at the revision the new one comes in');
  t.ok((replacement ?? 0) < (revoked ?? 0));
});
