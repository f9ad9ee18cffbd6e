// `node dist/bench/micro/key-lookup.js` (after `npm run build`): the key table's per-request lookup
// by secret (keys/cache.ts forSecret: SHA-256 to 32 raw bytes, one Map lookup) against what it was
// before (SHA-256 to hex, one Map lookup by the 64-character hex), for secrets that exist and for
// secrets that do not, in a table of MICRO_KEYS keys (100 000), rounds interleaved. The secret memo
// in front of both (keys/secret-memo.ts) answers returning clients without either.
import { hashApiKey } from '../../gateway/src/keys/secret-hash.js';
import { buildKeyTable } from '../../gateway/src/keys/cache.js';
import type { KeyView, TierView } from '../../contracts/feed.js';
import { median } from '../stats.js';

const KEYS = Number(process.env.MICRO_KEYS ?? 100_000);
const LOOKUPS = 200_000;
const ROUNDS = 5;

const tier: TierView = { name: 'micro', limits: [{ window: '1m', limit: 10 }], algorithm: 'sliding_window', timezone: 'UTC', mode: 'enforce', concurrency: null, route_limits: null };
const secrets = Array.from({ length: KEYS }, (_, index) => `tg_micro_${index.toString(36).padStart(40, '0')}`);
const views = new Map<string, KeyView>(
  secrets.map((secret, index) => [hashApiKey(secret), { id: `key_${index}`, tier: tier.name, limits: null, active: true, expires_at: null, mode: null }]),
);
const table = buildKeyTable({ keys: views, tiers: new Map([[tier.name, tier]]), version: 1, epoch: 'micro' });
const byHex = new Map([...views].map(([hash]) => [hash, table.get(hash)]));
const unknown = Array.from({ length: KEYS }, (_, index) => `tg_unknown_${index.toString(36).padStart(40, '0')}`);

function nsPerLookup(lookup: (secret: string) => unknown, inputs: readonly string[]): number {
  let found = 0;
  const started = process.hrtime.bigint();
  for (let index = 0; index < LOOKUPS; index += 1) if (lookup(inputs[index % inputs.length] as string) !== undefined) found += 1;
  const ns = Number(process.hrtime.bigint() - started) / LOOKUPS;
  if (found !== 0 && found !== LOOKUPS) throw new Error('a lookup found some keys and missed others');
  return ns;
}

const cases = {
  'table, known secret': () => nsPerLookup((secret) => table.forSecret(secret), secrets),
  'hex map, known secret': () => nsPerLookup((secret) => byHex.get(hashApiKey(secret)), secrets),
  'table, unknown secret': () => nsPerLookup((secret) => table.forSecret(secret), unknown),
  'hex map, unknown secret': () => nsPerLookup((secret) => byHex.get(hashApiKey(secret)), unknown),
};
const samples = new Map<string, number[]>(Object.keys(cases).map((name) => [name, []]));
for (let round = 0; round <= ROUNDS; round += 1) {
  for (const [name, run] of Object.entries(cases)) {
    const ns = run();
    // Round 0 warms the JIT up.
    if (round > 0) samples.get(name)?.push(ns);
  }
}
process.stdout.write(`key lookup by secret, ${KEYS} keys, median of ${ROUNDS} rounds of ${LOOKUPS} lookups:\n`);
for (const [name, values] of samples) process.stdout.write(`  ${name.padEnd(24)} ${median(values).toFixed(0)} ns\n`);
