import t from 'tap';
import { toWindowLimits } from '../../../contracts/limits.js';
import { rateLimitHeaderList, rateLimitHeaderValue, retryAfterSeconds, tightestLimit, undecidedHeaderList } from '../../src/limiter/headers.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { policyHeaderValue } from '../../src/limiter/policy-header.js';
import type { StoreReply } from '../../src/limiter/store.js';
import { consumeOnce } from '../helpers/store-calls.js';

const limits = toWindowLimits([
  { window: '1h', limit: 100 },
  { window: '1m', limit: 5 },
]);
const policy = { limits, policyHeader: policyHeaderValue(limits) };
const check = { subject: 'key_headers', limits, algorithm: 'sliding_log' as const, cost: 1 };

function collect(list: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) headers[list[i] as string] = list[i + 1] as string;
  return headers;
}

t.test('an admitted request of a two-limit key carries the exact draft-10 and X-RateLimit fields', async (t) => {
  const store = new MemoryStore({ now: () => 1_700_000_000_000 });
  t.teardown(() => store.close());
  const headers = collect(rateLimitHeaderList(policy, await consumeOnce(store, check)));
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
  for (let i = 0; i < 5; i += 1) await consumeOnce(store, check);
  now += 15_000;
  const reply = await consumeOnce(store, check);
  t.notOk(reply.allowed);
  t.same(collect(rateLimitHeaderList(policy, reply)), {
    'ratelimit-policy': '"1m";q=5;w=60, "1h";q=100;w=3600',
    ratelimit: '"1m";r=0;t=45, "1h";r=95;t=3585',
    'x-ratelimit-limit': '5',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': '45',
    'retry-after': '45',
  });
});

t.test('the tightest limit is the one with the least remaining, the shortest window on a tie', async (t) => {
  const reply = (remaining: number[]): StoreReply => ({ allowed: true, remaining, resetMs: remaining.map(() => 0), retryAfterMs: 0, refused: -1, inFlight: null });
  t.equal(tightestLimit(reply([4, 2, 9])), 1);
  t.equal(tightestLimit(reply([3, 3, 9])), 0);
  t.equal(rateLimitHeaderValue(limits, reply([4, 99])), '"1m";r=4;t=0, "1h";r=99;t=0');
});

t.test('Retry-After rounds the precise ms up to whole seconds, at least one', async (t) => {
  const rejected = (retryAfterMs: number): StoreReply => ({ allowed: false, remaining: [0], resetMs: [1000], retryAfterMs, refused: 0, inFlight: null });
  t.equal(retryAfterSeconds(rejected(0)), 1);
  t.equal(retryAfterSeconds(rejected(1001)), 2);
  t.equal(retryAfterSeconds(rejected(3000)), 3);
  t.equal(retryAfterSeconds({ allowed: true, remaining: [1], resetMs: [0], retryAfterMs: 0, refused: -1, inFlight: null }), 0);
});

t.test('without a decision only the policy and the shortest window limit are given', async (t) => {
  t.same(collect(undecidedHeaderList(policy)), {
    'ratelimit-policy': '"1m";q=5;w=60, "1h";q=100;w=3600',
    'x-ratelimit-limit': '5',
  });
});
