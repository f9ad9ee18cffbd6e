// The feed's views between a control plane and the gateways of another release.
import t from 'tap';
import { keyViewSchema, parseChangeMessage, tierViewSchema } from '../feed.js';

t.test('a key or tier view with a field this gateway does not know is still loaded, without it', async (t) => {
  const key = keyViewSchema.safeParse({ id: 'key_1', tier: 'free', limits: null, active: true, expires_at: null, added_later: 1 });
  t.ok(key.success);
  t.notOk(key.success && 'added_later' in key.data);
  const tier = tierViewSchema.safeParse({ name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window', added_later: 'x' });
  t.ok(tier.success);
});

t.test('a change message carrying such a view is applied, not dropped as malformed', async (t) => {
  const message = parseChangeMessage(
    JSON.stringify({ kind: 'tier', epoch: 'e', version: 3, id: 'free', value: { name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window', mode: 'shadow' } }),
  );
  t.match(message, { kind: 'tier', version: 3, value: { name: 'free' } });
});

t.test('a view missing a field it needs is refused', async (t) => {
  t.notOk(keyViewSchema.safeParse({ id: 'key_1', tier: 'free', active: true, expires_at: null }).success);
});
