import t from 'tap';
import { toWindowLimits } from '../../../contracts/limits.js';
import type { KeyRecord } from '../../src/keys/key-record.js';
import { decide, tightestLimitIndex } from '../../src/limiter/decision.js';
import { rateLimitHeaderValue, setRateLimitHeaders } from '../../src/limiter/headers.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { policyHeaderValue } from '../../src/limiter/policy-header.js';
import type { StoreReply } from '../../src/limiter/store.js';

const limits = toWindowLimits([
  { window: '1h', limit: 100 },
  { window: '1m', limit: 5 },
]);
const key: KeyRecord = {
  id: 'key_headers',
  tier: 'free',
  limits,
  algorithm: 'sliding_log',
  active: true,
  expiresAtMs: null,
  policyHeader: policyHeaderValue(limits),
};
const check = { keyId: key.id, limits: key.limits, algorithm: key.algorithm, cost: 1 };

function collect(reply: StoreReply): Record<string, string> {
  const headers: Record<string, string> = {};
  setRateLimitHeaders({ setHeader: (name, value) => (headers[name] = value) }, key, reply);
  return headers;
}

t.test('an admitted request of a two-limit key carries the exact draft-10 and X-RateLimit fields', async (t) => {
  const store = new MemoryStore({ now: () => 1_700_000_000_000 });
  t.teardown(() => store.close());
  const headers = collect(await store.consume(check));
  t.same(headers, {
    'ratelimit-policy': '"1m";q=5;w=60, "1h";q=100;w=3600',
    ratelimit: '"1m";r=4;t=60, "1h";r=99;t=3600',
    'x-ratelimit-limit': '5',
    'x-ratelimit-remaining': '4',
    'x-ratelimit-reset': '60',
  });
});

t.test('a rejected request also carries Retry-After for the exhausted limit', async (t) => {
  let now = 1_700_000_000_000;
  const store = new MemoryStore({ now: () => now });
  t.teardown(() => store.close());
  for (let i = 0; i < 5; i += 1) await store.consume(check);
  now += 15_000;
  const reply = await store.consume(check);
  t.notOk(reply.allowed);
  t.same(collect(reply), {
    'ratelimit-policy': '"1m";q=5;w=60, "1h";q=100;w=3600',
    ratelimit: '"1m";r=0;t=45, "1h";r=95;t=3585',
    'x-ratelimit-limit': '5',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '45',
    'retry-after': '45',
  });
});

t.test('the tightest limit is the one with the least remaining, the shortest window on a tie', async (t) => {
  const reply = (remaining: number[]): StoreReply => ({
    allowed: true,
    remaining,
    resetMs: remaining.map(() => 0),
    resetSeconds: remaining.map(() => 0),
    retryAfterMs: 0,
    retryAfterSeconds: 0,
  });
  t.equal(tightestLimitIndex(reply([4, 2, 9])), 1);
  t.equal(tightestLimitIndex(reply([3, 3, 9])), 0);
  t.equal(rateLimitHeaderValue(limits, reply([4, 99])), '"1m";r=4;t=0, "1h";r=99;t=0');
});

t.test('a decision rounds the retry-after up to whole seconds, at least one', async (t) => {
  const rejected = (retryAfterMs: number): StoreReply => ({
    allowed: false,
    remaining: [0],
    resetMs: [1000],
    resetSeconds: [1],
    retryAfterMs,
    retryAfterSeconds: 0,
  });
  t.same(decide(rejected(0)), { allowed: false, retryAfterSeconds: 1, tightest: 0 });
  t.same(decide(rejected(1001)), { allowed: false, retryAfterSeconds: 2, tightest: 0 });
  t.same(decide(rejected(3000)), { allowed: false, retryAfterSeconds: 3, tightest: 0 });
});
