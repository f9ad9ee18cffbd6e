import t from 'tap';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { toWindowLimits } from '../../../contracts/limits.js';
import { KeyTableLoader, applyKeyChanges, buildKeyTable, emptyKeyTable } from '../../src/keys/cache.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
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
  const keys = new Map<string, KeyView | null>([
    ['h1', key('key_1', 'exact')],
    ['h2', null],
    ['h4', key('key_4', 'nowhere')],
  ]);
  const next = applyKeyChanges(base, { keys, tiers: new Map(), version: 8 });
  t.equal(next.get('h1')?.tier.name, 'exact');
  t.equal(next.get('h3'), base.get('h3'), 'untouched records are shared');
  t.equal(next.skippedKeys, 1, 'one skipped key removed, one added');
  t.same(Object.fromEntries(next.activeKeysByTier), { free: 0, exact: 2 });
  t.equal(next.version, 8);
  t.equal(next.epoch, 'e1');
});

t.test('a table keeps answering as it did after newer versions were made from it', async (t) => {
  const first = table({ h1: key('key_1', 'free'), h2: key('key_2', 'free') });
  const second = applyKeyChanges(first, { keys: new Map([['h1', null], ['h3', key('key_3', 'free')]]), tiers: new Map(), version: 8 });
  const third = applyKeyChanges(second, { keys: new Map([['h2', key('key_2', 'exact')], ['h3', null]]), tiers: new Map(), version: 9 });
  t.same([first.get('h1')?.id, first.get('h2')?.tier.name, first.get('h3')], ['key_1', 'free', undefined]);
  t.same([second.get('h1'), second.get('h2')?.tier.name, second.get('h3')?.id], [undefined, 'free', 'key_3']);
  t.same([third.get('h1'), third.get('h2')?.tier.name, third.get('h3')], [undefined, 'exact', undefined]);
  t.same([first.size, second.size, third.size], [2, 2, 1]);
  t.same(first.hashes().sort(), ['h1', 'h2']);
  t.same(second.hashes().sort(), ['h2', 'h3']);
  t.same(third.hashes(), ['h2']);
});

t.test('only the newest version of a table can be changed', async (t) => {
  const base = table({ h1: key('key_1', 'free') });
  applyKeyChanges(base, { keys: new Map([['h1', null]]), tiers: new Map(), version: 8 });
  t.throws(() => applyKeyChanges(base, { keys: new Map([['h2', key('key_2', 'free')]]), tiers: new Map(), version: 8 }), {
    code: 'KEY_TABLE_STALE',
  });
  t.equal(base.get('h2'), undefined);
});

t.test('every version is a new generation', async (t) => {
  const base = table({ h1: key('key_1', 'free') });
  const next = applyKeyChanges(base, { keys: new Map([['h1', key('key_1', 'exact')]]), tiers: new Map(), version: 8 });
  t.not(next.generation, base.generation);
  t.not(table({}).generation, base.generation);
});

t.test('a tier change rebuilds the keys of that tier only', async (t) => {
  const base = table({
    h1: key('key_1', 'free'),
    h2: key('key_2', 'free', { limits: [{ window: '1d', limit: 9 }] }),
    h3: key('key_3', 'exact'),
    h4: key('key_4', 'free', { mode: 'shadow' }),
  });
  const tiers = new Map([['free', { ...free, limits: [{ window: '1s', limit: 1 }], algorithm: 'sliding_log' as const, mode: 'shadow' as const }]]);
  const next = applyKeyChanges(base, { keys: new Map(), tiers, version: 8 });
  t.same(next.get('h1')?.limits, toWindowLimits([{ window: '1s', limit: 1 }]));
  t.equal(next.get('h1')?.tier.algorithm, 'sliding_log');
  t.equal(next.get('h1')?.mode, 'shadow', 'the mode comes from the new tier');
  t.equal(next.get('h2')?.limits[0]?.window, '1d', 'an override still wins');
  t.equal(next.get('h2')?.tier.algorithm, 'sliding_log', 'the algorithm still comes from the tier');
  t.equal(next.get('h3'), base.get('h3'), 'keys of other tiers are shared');
  t.same(Object.fromEntries(next.activeKeysByTier), { free: 3, exact: 1 });
  t.equal(base.get('h1')?.tier.algorithm, 'sliding_window', 'the base still answers with the old tier');
  const back = applyKeyChanges(next, { keys: new Map(), tiers: new Map([['free', free]]), version: 9 });
  t.equal(back.get('h4')?.mode, 'shadow', "a key's own mode outlives its tier's changes");
  t.equal(back.get('h1')?.mode, 'enforce');
});

t.test('removing a tier leaves its keys out and creating it brings them back', async (t) => {
  const base = table({ h1: key('key_1', 'free', { limits: [{ window: '1d', limit: 9 }] }), h2: key('key_2', 'exact') });
  const removed = applyKeyChanges(base, { keys: new Map(), tiers: new Map([['free', null]]), version: 8 });
  t.equal(removed.get('h1'), undefined);
  t.equal(removed.skippedKeys, 1);
  t.same(Object.fromEntries(removed.activeKeysByTier), { exact: 1 });
  const restored = applyKeyChanges(removed, { keys: new Map(), tiers: new Map([['free', free]]), version: 9 });
  t.equal(restored.get('h1')?.id, 'key_1');
  t.equal(restored.get('h1')?.limits[0]?.window, '1d', 'with the limits of its own it had');
  t.equal(restored.skippedKeys, 0);
  t.same(Object.fromEntries(restored.activeKeysByTier), { exact: 1, free: 1 });
});

t.test('a key is found by its SHA-256 hex and by its secret', async (t) => {
  const built = table({ [hashApiKey('tg_secret')]: key('key_1', 'free') });
  t.equal(built.get(hashApiKey('tg_secret'))?.id, 'key_1');
  t.equal(built.forSecret('tg_secret')?.id, 'key_1');
  t.equal(built.forSecret('tg_other'), undefined);
  t.same(built.hashes(), [hashApiKey('tg_secret')]);
});

t.test('the same key loaded twice counts once, with the later view', async (t) => {
  const loader = new KeyTableLoader({ epoch: 'e1', version: 3 }, new Map([['free', free], ['exact', exact]]));
  loader.add('h1', key('key_1', 'free'));
  loader.add('h1', key('key_1', 'exact'));
  loader.add('h2', key('key_2', 'gone'));
  loader.add('h2', key('key_2', 'gone'));
  const built = loader.finish();
  t.equal(built.size, 1);
  t.equal(built.get('h1')?.tier.name, 'exact');
  t.equal(built.skippedKeys, 1);
  t.same(Object.fromEntries(built.activeKeysByTier), { free: 0, exact: 1 });
});

t.test('a key answers with the same record until it or its tier changes', async (t) => {
  const base = table({ h1: key('key_1', 'free'), h2: key('key_2', 'exact') });
  const first = base.get('h1');
  t.equal(base.get('h1'), first, 'read twice, one record');
  const keyChange = applyKeyChanges(base, { keys: new Map([['h2', key('key_2', 'free')]]), tiers: new Map(), version: 8 });
  t.equal(keyChange.get('h1'), first, 'another key changed: the same record');
  const tierChange = applyKeyChanges(keyChange, { keys: new Map(), tiers: new Map([['free', { ...free, limits: [{ window: '1s', limit: 1 }] }]]), version: 9 });
  const rebound = tierChange.get('h1');
  t.not(rebound, first, 'its tier changed: a new record');
  t.equal(rebound?.limits[0]?.limit, 1);
  t.equal(tierChange.get('h1'), rebound, 'and that one from then on');
});
