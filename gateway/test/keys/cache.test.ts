import t from 'tap';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { toWindowLimits } from '../../../contracts/limits.js';
import { applyKeyChanges, buildKeyTable, emptyKeyTable } from '../../src/keys/cache.js';
import { tierView, keyView } from '../../../test-support/views.js';

const free: TierView = tierView({ name: 'free', limits: [{ window: '1h', limit: 100 }, { window: '1m', limit: 5 }], algorithm: 'sliding_window' });
const exact: TierView = tierView({ name: 'exact', limits: [{ window: '1s', limit: 3 }], algorithm: 'sliding_log' });

function key(id: string, tier: string, extra: Partial<KeyView> = {}): KeyView {
  return keyView({ id, tier, ...extra });
}

function table(keys: Record<string, KeyView>, tiers: TierView[] = [free, exact]) {
  return buildKeyTable({
    keys: new Map(Object.entries(keys)),
    tiers: new Map(tiers.map((tier) => [tier.name, tier])),
    version: 7,
    epoch: 'e1',
  });
}

t.test('a key without an override gets its tier limits sorted by window and the tier algorithm', async (t) => {
  const record = table({ h1: key('key_1', 'free') }).get('h1');
  t.same(record?.limits, toWindowLimits(free.limits));
  t.equal(record?.limits[0]?.window, '1m');
  t.equal(record?.tier.algorithm, 'sliding_window');
});

t.test('a key override replaces the tier limits but keeps the tier algorithm', async (t) => {
  const record = table({ h1: key('key_1', 'exact', { limits: [{ window: '1d', limit: 9 }] }) }).get('h1');
  t.same(record?.limits, toWindowLimits([{ window: '1d', limit: 9 }]));
  t.equal(record?.tier.algorithm, 'sliding_log');
});

t.test('expiry is read as epoch milliseconds and null means never', async (t) => {
  const built = table({ h1: key('key_1', 'free', { expires_at: '2030-01-02T03:04:05.000Z' }), h2: key('key_2', 'free') });
  t.equal(built.get('h1')?.expiresAtMs, Date.parse('2030-01-02T03:04:05.000Z'));
  t.equal(built.get('h2')?.expiresAtMs, null);
});

t.test('keys of an unknown tier are left out and counted', async (t) => {
  const built = table({ h1: key('key_1', 'free'), h2: key('key_2', 'gone') });
  t.equal(built.size, 1);
  t.equal(built.get('h2'), undefined);
  t.equal(built.skippedKeys, 1);
});

t.test('active keys are counted per tier and inactive keys are kept but not counted', async (t) => {
  const built = table({ h1: key('key_1', 'free'), h2: key('key_2', 'free', { active: false }), h3: key('key_3', 'exact') });
  t.equal(built.size, 3);
  t.equal(built.get('h2')?.active, false);
  t.same(Object.fromEntries(built.activeKeysByTier), { free: 1, exact: 1 });
  t.equal(built.version, 7);
  t.equal(built.epoch, 'e1');
  t.equal(built.loaded, true);
});

t.test('the table before the first load knows no key and is not loaded', async (t) => {
  const empty = emptyKeyTable();
  t.equal(empty.loaded, false);
  t.equal(empty.size, 0);
  t.equal(empty.get('anything'), undefined);
});

t.test('keys on their tier limits share one frozen limits list', async (t) => {
  const built = table({ h1: key('key_1', 'free'), h2: key('key_2', 'free') });
  t.equal(built.get('h1')?.limits, built.get('h2')?.limits);
  t.ok(Object.isFrozen(built.get('h1')?.limits));
  t.ok(Object.isFrozen(built.get('h1')?.limits[0]));
});

t.test('changing some keys rebuilds only those records and keeps the counts right', async (t) => {
  const base = table({ h1: key('key_1', 'free'), h2: key('key_2', 'gone'), h3: key('key_3', 'exact') });
  const keys = new Map(base.keyViews);
  keys.set('h1', key('key_1', 'exact'));
  keys.delete('h2');
  keys.set('h4', key('key_4', 'nowhere'));
  const next = applyKeyChanges(base, { keys, changedHashes: ['h1', 'h2', 'h4'], version: 8 });
  t.equal(next.get('h1')?.tier.name, 'exact');
  t.equal(next.get('h3'), base.get('h3'), 'untouched records are shared');
  t.equal(next.skippedKeys, 1, 'one skipped key removed, one added');
  t.same(Object.fromEntries(next.activeKeysByTier), { free: 0, exact: 2 });
  t.equal(next.version, 8);
  t.equal(base.get('h1')?.tier.name, 'free', 'the base table is unchanged');
});

t.test('a tier change rebuilds the keys of that tier only', async (t) => {
  const base = table({ h1: key('key_1', 'free'), h2: key('key_2', 'free', { limits: [{ window: '1d', limit: 9 }] }), h3: key('key_3', 'exact') });
  const tiers = new Map(base.tierViews);
  tiers.set('free', { ...free, limits: [{ window: '1s', limit: 1 }], algorithm: 'sliding_log' });
  const next = applyKeyChanges(base, { keys: base.keyViews, changedHashes: [], tiers, changedTiers: new Set(['free']), version: 8 });
  t.same(next.get('h1')?.limits, toWindowLimits([{ window: '1s', limit: 1 }]));
  t.equal(next.get('h1')?.tier.algorithm, 'sliding_log');
  t.equal(next.get('h2')?.limits[0]?.window, '1d', 'an override still wins');
  t.equal(next.get('h2')?.tier.algorithm, 'sliding_log', 'the algorithm still comes from the tier');
  t.equal(next.get('h3'), base.get('h3'), 'keys of other tiers are shared');
  t.same(Object.fromEntries(next.activeKeysByTier), { free: 2, exact: 1 });
});

t.test('removing a tier leaves its keys out and creating it brings them back', async (t) => {
  const base = table({ h1: key('key_1', 'free'), h2: key('key_2', 'exact') });
  const without = new Map(base.tierViews);
  without.delete('free');
  const removed = applyKeyChanges(base, { keys: base.keyViews, changedHashes: [], tiers: without, changedTiers: new Set(['free']), version: 8 });
  t.equal(removed.get('h1'), undefined);
  t.equal(removed.skippedKeys, 1);
  t.same(Object.fromEntries(removed.activeKeysByTier), { exact: 1 });
  const restored = applyKeyChanges(removed, { keys: removed.keyViews, changedHashes: [], tiers: base.tierViews, changedTiers: new Set(['free']), version: 9 });
  t.equal(restored.get('h1')?.id, 'key_1');
  t.equal(restored.skippedKeys, 0);
  t.same(Object.fromEntries(restored.activeKeysByTier), { exact: 1, free: 1 });
});
