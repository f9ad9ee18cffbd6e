import t from 'tap';
import { type KeyView, keyViewSchema } from '../../../contracts/feed.js';
import { parseKeyView } from '../../src/keys/parse-key-view.js';

const plain = { id: 'key_1', tier: 'free', limits: null, active: true, expires_at: null, mode: null };

/** A view's fields, as the gateway reads them (another field a newer control plane adds is not read). */
function fieldsOf(view: KeyView | null) {
  return view && { id: view.id, tier: view.tier, limits: view.limits, active: view.active, expires_at: view.expires_at, mode: view.mode };
}

/** What the contract's schema makes of the same text: the answer parseKeyView must give. */
function bySchema(text: string) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  const result = keyViewSchema.safeParse(value);
  return result.success ? result.data : null;
}

const cases: [string, string][] = [
  ['a key on its tier limits', JSON.stringify(plain)],
  ['a key with an expiry and a mode of its own', JSON.stringify({ ...plain, expires_at: '2030-01-01T00:00:00.000Z', mode: 'shadow' })],
  ['a key written before modes existed', JSON.stringify({ id: 'key_1', tier: 'free', limits: null, active: false, expires_at: null })],
  ['a key with limits of its own', JSON.stringify({ ...plain, limits: [{ window: '1m', limit: 5 }] })],
  ['a key with a field this gateway does not know', JSON.stringify({ ...plain, colour: 'blue' })],
  ['a tier name the schema refuses', JSON.stringify({ ...plain, tier: 'Not Valid' })],
  ['an active flag that is not a boolean', JSON.stringify({ ...plain, active: 'yes' })],
  ['an unknown mode', JSON.stringify({ ...plain, mode: 'loud' })],
  ['limits that are not a list', JSON.stringify({ ...plain, limits: 5 })],
  ['a missing id', JSON.stringify({ ...plain, id: undefined })],
  ['an array', JSON.stringify([plain])],
  ['null', 'null'],
  ['text that is not JSON', '{"id":'],
];

t.test('a key view is accepted exactly when the contract schema accepts it, with the same fields', async (t) => {
  for (const [label, text] of cases) t.same(fieldsOf(parseKeyView(text)), fieldsOf(bySchema(text)), label);
});

t.test('a key view without a mode gets the schema default', async (t) => {
  t.equal(parseKeyView(JSON.stringify({ id: 'key_1', tier: 'free', limits: null, active: true, expires_at: null }))?.mode, null);
});
