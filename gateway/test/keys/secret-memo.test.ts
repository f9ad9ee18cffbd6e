import t from 'tap';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { applyKeyChanges, buildKeyTable } from '../../src/keys/cache.js';
import { SecretMemo } from '../../src/keys/secret-memo.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
import { tierView, keyView } from '../../../test-support/views.js';

const free: TierView = tierView({ name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window' });

function key(id: string): KeyView {
  return keyView({ id, tier: 'free' });
}

function tableOf(secrets: Record<string, string>) {
  return buildKeyTable({
    keys: new Map(Object.entries(secrets).map(([secret, id]) => [hashApiKey(secret), key(id)])),
    tiers: new Map([['free', free]]),
    version: 1,
    epoch: 'e1',
  });
}

t.test('a known secret finds its record by hash and is remembered', async (t) => {
  const memo = new SecretMemo();
  const table = tableOf({ tg_alpha: 'key_a' });
  t.equal(memo.lookup(table, 'tg_alpha')?.id, 'key_a');
  t.equal(memo.lookup(table, 'tg_alpha')?.id, 'key_a');
  t.equal(memo.size, 1);
});

t.test('an unknown secret is not remembered, so clients cannot fill the memo', async (t) => {
  const memo = new SecretMemo();
  const table = tableOf({ tg_alpha: 'key_a' });
  for (let i = 0; i < 100; i += 1) t.equal(memo.lookup(table, `tg_unknown_${i}`), undefined);
  t.equal(memo.size, 0);
});

t.test('a swapped-in table is used at once: a key removed from it is no longer found', async (t) => {
  const memo = new SecretMemo();
  const before = tableOf({ tg_alpha: 'key_a' });
  t.equal(memo.lookup(before, 'tg_alpha')?.id, 'key_a');
  const after = applyKeyChanges(before, { keys: new Map([[hashApiKey('tg_alpha'), null]]), tiers: new Map(), version: 2 });
  t.equal(memo.lookup(after, 'tg_alpha'), undefined);
});

t.test('the memo holds at most its capacity and starts over when full', async (t) => {
  const memo = new SecretMemo(3);
  const table = tableOf({ tg_1: 'key_1', tg_2: 'key_2', tg_3: 'key_3', tg_4: 'key_4' });
  for (const secret of ['tg_1', 'tg_2', 'tg_3']) memo.lookup(table, secret);
  t.equal(memo.size, 3);
  t.equal(memo.lookup(table, 'tg_4')?.id, 'key_4');
  t.equal(memo.size, 1);
});
