import t from 'tap';
import { toWindowLimits } from '../../../contracts/limits.js';
import type { Algorithm, Limit } from '../../../contracts/limits.js';
import type { KeyRecord } from '../../src/keys/key-record.js';
import { createLimiter } from '../../src/limiter/limiter.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { policyHeaderValue } from '../../src/limiter/policy-header.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import type { LimitCheck, RateLimitStore, StoreReply } from '../../src/limiter/store.js';
import { createRedisClient, waitForReady } from '../../src/redis-client.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { sleep } from './store-behaviour.js';

const client = createRedisClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
client.on('error', () => {});
t.teardown(() => client.quit());

let serial = 0;
function record(algorithm: Algorithm, limits: Limit[], id?: string): KeyRecord {
  serial += 1;
  const windows = toWindowLimits(limits);
  return {
    id: id ?? `key_${process.pid}_${serial}_${Math.random().toString(36).slice(2, 8)}`,
    tier: 'test',
    limits: windows,
    algorithm,
    active: true,
    expiresAtMs: null,
    policyHeader: policyHeaderValue(windows),
  };
}

/** A RedisStore that counts the consume calls that reach it. */
async function countingStore(): Promise<{ store: RateLimitStore; redis: RedisStore; calls: () => number }> {
  await waitForReady(client);
  const redis = new RedisStore({ client, prefix: uniquePrefix('limiter') });
  let calls = 0;
  const store: RateLimitStore = {
    consume(check: LimitCheck) {
      calls += 1;
      return redis.consume(check);
    },
    consumeTo(check, receiver) {
      calls += 1;
      redis.consumeTo(check, receiver);
    },
    peek: (check) => redis.peek(check),
    close: async () => {},
  };
  return { store, redis, calls: () => calls };
}

t.test('a key over its limit is answered locally, synchronously, until its retry-after', async (t) => {
  const { store, calls } = await countingStore();
  const limiter = createLimiter({ store });
  const key = record('sliding_log', [{ window: '1m', limit: 2 }, { window: '1h', limit: 10 }]);
  t.ok((await limiter.check(key, 1)).allowed);
  t.ok((await limiter.check(key, 1)).allowed);
  const first = limiter.check(key, 1);
  t.type(first, Promise, 'the first rejection comes from Redis');
  const rejected = await first;
  t.notOk(rejected.allowed);
  const callsBefore = calls();
  await sleep(30);
  const cached = limiter.check(key, 1);
  t.notOk(cached instanceof Promise, 'answered without a Promise');
  const reply = cached as StoreReply;
  t.notOk(reply.allowed);
  t.same(reply.remaining, [0, 8]);
  t.ok((reply.resetMs[0] ?? 0) < (rejected.resetMs[0] ?? 0), 'reset counts down');
  t.ok(reply.retryAfterMs < rejected.retryAfterMs, 'retry-after counts down');
  t.equal(reply.retryAfterSeconds, 60);
  t.notOk((limiter.check(key, 5) as StoreReply).allowed, 'a larger cost is denied as well');
  t.equal(calls(), callsBefore, 'Redis was not asked');
});

t.test('a new key record (a config change) is not answered from the old record denial', async (t) => {
  const { store } = await countingStore();
  const limiter = createLimiter({ store });
  const old = record('sliding_window', [{ window: '1h', limit: 1 }]);
  t.ok((await limiter.check(old, 1)).allowed);
  t.notOk((await limiter.check(old, 1)).allowed);
  t.notOk((limiter.check(old, 1) as StoreReply).allowed);
  const raised = record('sliding_window', [{ window: '1h', limit: 5 }], old.id);
  const result = limiter.check(raised, 1);
  t.type(result, Promise);
  t.ok((await result).allowed, 'the raised limit admits at once');
});

t.test('a cached denial of one cost does not deny a smaller cost', async (t) => {
  const { store } = await countingStore();
  const limiter = createLimiter({ store });
  const key = record('sliding_window', [{ window: '1h', limit: 5 }]);
  t.ok((await limiter.check(key, 3)).allowed);
  t.notOk((await limiter.check(key, 3)).allowed);
  t.notOk((limiter.check(key, 3) as StoreReply).allowed);
  const smaller = limiter.check(key, 2);
  t.type(smaller, Promise);
  t.ok((await smaller).allowed);
});

t.test('the denied-until cache never denies a request that Redis admits', async (t) => {
  const { store, redis } = await countingStore();
  const limiter = createLimiter({ store });
  // Each round: exhaust a 1 s window, let the cache learn the denial, then poll Redis itself (peek,
  // consuming nothing) until it admits. The cache's deadline must not be after that moment.
  async function rounds(algorithm: Algorithm): Promise<void> {
    const key = record(algorithm, [{ window: '1s', limit: 3 }]);
    const check: LimitCheck = { keyId: key.id, limits: key.limits, algorithm, cost: 1 };
    for (let round = 0; round < 2; round += 1) {
      let reply: StoreReply;
      do reply = await limiter.check(key, 1);
      while (reply.allowed);
      const deniedUntil = limiter.denied?.deniedUntil(key);
      t.ok(deniedUntil !== undefined, `${algorithm}: the cache holds the denial`);
      for (;;) {
        const peek = await redis.peek(check);
        const answeredAt = performance.now();
        if (peek.allowed) {
          t.ok((deniedUntil ?? 0) <= answeredAt, `${algorithm}: the cache deadline is not after Redis admits`);
          break;
        }
        // While Redis still denies, the cache may answer; once Redis admits, it must have expired.
        await sleep(2);
      }
      const result = limiter.check(key, 1);
      t.type(result, Promise, `${algorithm}: the cache no longer answers`);
      const next = await result;
      t.ok(next.allowed, `${algorithm}: the first check after Redis admits again is admitted`);
    }
  }
  await Promise.all([rounds('sliding_window'), rounds('sliding_log')]);
});

t.test('the limiter without a cache always asks the store', async (t) => {
  const { store, calls } = await countingStore();
  const limiter = createLimiter({ store, deniedCache: false });
  const key = record('sliding_window', [{ window: '1h', limit: 1 }]);
  await limiter.check(key, 1);
  await limiter.check(key, 1);
  const third = limiter.check(key, 1);
  t.type(third, Promise);
  t.notOk((await third).allowed);
  t.equal(calls(), 3);
  t.equal(limiter.denied, undefined);
});

t.test('peek through the limiter consumes nothing', async (t) => {
  const { store } = await countingStore();
  const limiter = createLimiter({ store });
  const key = record('sliding_log', [{ window: '1m', limit: 2 }]);
  await limiter.check(key, 1);
  t.same((await limiter.peek(key)).remaining, [1]);
  t.same((await limiter.peek(key)).remaining, [1]);
});

t.test('with the in-memory store every check is answered synchronously', async (t) => {
  const limiter = createLimiter({ store: new MemoryStore() });
  t.teardown(() => limiter.close());
  const key = record('sliding_window', [{ window: '1h', limit: 1 }]);
  const first = limiter.check(key, 1);
  const second = limiter.check(key, 1);
  t.notOk(first instanceof Promise);
  t.ok((first as StoreReply).allowed);
  t.notOk((second as StoreReply).allowed);
  t.same((await limiter.peek(key)).remaining, [0]);
});
