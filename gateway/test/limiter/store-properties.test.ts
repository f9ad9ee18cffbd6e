// Properties of the limiter stores over random sequences of request times, costs and limits
// (fast-check), beyond the examples of store-behaviour.ts:
// - sliding_log never admits more than a limit in any window of its length, whatever the timing;
// - sliding_window never admits more than a limit in one of its buckets;
// - gcra never admits more than burst + rate × t in any interval of length t;
// - a rejected request consumes nothing, and an admitted one consumes its cost from every limit:
//   all or none;
// - the Redis store and the in-memory store decide the same, one check after another and for
//   concurrent batches.
// Time: the in-memory store takes an injected clock, so its sequences have real gaps. The Redis
// script reads Redis TIME, which a test cannot move, so the Redis comparisons use windows of 7 to
// 31 days: a run lasts seconds, nothing leaves such a window meanwhile and the counter's previous
// bucket stays empty, so both stores' decisions depend on the sequence alone.
//
// CI runs a fixed seed and a modest number of cases (about 3 s). More cases, or a new seed:
//   PROPERTY_SCALE=20 PROPERTY_SEED=random npx tap gateway/test/limiter/store-properties.test.ts
// (npm run test:properties does the first). A failure prints its seed and path; pass them back
// as PROPERTY_SEED and PROPERTY_PATH to replay exactly that case.
import fc from 'fast-check';
import t from 'tap';
import { toWindowLimits, type Algorithm, type WindowLimit } from '../../../contracts/limits.js';
import { createRedisConnection, waitForReady } from '../../../contracts/redis-connection.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import type { LimitCheck, RateLimitStore, StoreReply } from '../../src/limiter/store.js';
import { consumeOnce, peekOnce } from '../helpers/store-calls.js';

// fast-check seeds are 32-bit integers.
const SEED = process.env.PROPERTY_SEED === 'random' ? Date.now() % 2 ** 31 : Number(process.env.PROPERTY_SEED ?? 20261207);
const SCALE = Number(process.env.PROPERTY_SCALE ?? 1);
const PATH = process.env.PROPERTY_PATH;
function settings(runs: number): fc.Parameters<unknown> {
  return { seed: SEED, numRuns: Math.max(1, Math.round(runs * SCALE)), ...(PATH ? { path: PATH } : {}) };
}
t.comment(`fast-check seed ${SEED}, scale ${SCALE}`);

const ALGORITHMS: readonly Algorithm[] = ['sliding_window', 'sliding_log', 'gcra'];
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = createRedisConnection({ url: REDIS_URL, behaviour: 'fail-fast', connectionName: 'store-properties' });
redis.on('error', () => {});
const prefix = uniquePrefix('properties');
t.teardown(async () => {
  // Every key this file wrote is under its own prefix: remove them all.
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});
// Ready before the first test is queued: tap ends the file once its queued tests are done.
await waitForReady(redis);

// ---- generators ------------------------------------------------------------------------------

/**
 * 1 to 3 limits, each on its own window (as tiers allow), sorted by window as checks carry them;
 * with `bursts`, each with a GCRA burst from 1 to `maxLimit`.
 */
function limitsOf(windowsSeconds: readonly number[], maxLimit: number, bursts = false): fc.Arbitrary<WindowLimit[]> {
  const size = fc.integer({ min: 1, max: maxLimit });
  return fc
    .uniqueArray(fc.constantFrom(...windowsSeconds), { minLength: 1, maxLength: 3 })
    .chain((windows) =>
      fc.tuple(...windows.map((seconds) => fc.tuple(size, bursts ? size : fc.constant(undefined)).map(([limit, burst]) => ({ seconds, limit, burst })))),
    )
    .map((items) =>
      toWindowLimits(items.map(({ seconds, limit, burst }) => ({ window: `${seconds}s`, limit, ...(burst === undefined ? {} : { burst }) }))),
    );
}

interface TimedStep {
  /** Ms since the previous request (0: at the same instant). */
  readonly gapMs: number;
  readonly cost: number;
}

const TIME_WINDOWS = [1, 2, 3, 5, 10, 60];
/** A gap of a window's length or a millisecond either side: where off-by-one errors show. */
const edgeGapMs = fc.constantFrom(...TIME_WINDOWS.flatMap((seconds) => [seconds * 1000 - 1, seconds * 1000, seconds * 1000 + 1]));
const timedSteps = fc.array(
  fc.record({
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 400, max: 12_000 }), edgeGapMs),
    cost: fc.integer({ min: 1, max: 4 }),
  }),
  { minLength: 1, maxLength: 80 },
);
/** Anywhere in a day, so bucket boundaries fall at every phase of a sequence. */
const startMs = fc.integer({ min: 0, max: 86_400_000 }).map((offset) => Date.UTC(2026, 11, 1) + offset);

interface UntimedStep {
  /** Which of the run's keys the request is for. */
  readonly key: number;
  readonly cost: number;
}
const untimedSteps = (keys: number) =>
  fc.array(fc.record({ key: fc.integer({ min: 0, max: keys - 1 }), cost: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 40 });
const LONG_WINDOWS = [7, 14, 30, 31].map((days) => days * 86_400);

// ---- helpers ---------------------------------------------------------------------------------

let serial = 0;
function freshSubject(): string {
  serial += 1;
  return `key_prop_${process.pid}_${serial}`;
}

/** Runs `steps` on a memory store whose clock the steps move; returns each request's time and reply. */
async function runTimed(algorithm: Algorithm, limits: WindowLimit[], steps: readonly TimedStep[], start: number) {
  let now = start;
  const store = new MemoryStore({ now: () => now });
  const check: LimitCheck = { subject: freshSubject(), algorithm, limits, cost: 1 };
  const decided: { atMs: number; cost: number; allowed: boolean }[] = [];
  try {
    for (const step of steps) {
      now += step.gapMs;
      const reply = await consumeOnce(store, { ...check, cost: step.cost });
      decided.push({ atMs: now, cost: step.cost, allowed: reply.allowed });
    }
  } finally {
    await store.close();
  }
  return decided;
}

/** What a consume did to the key, seen by peeks just before and just after it (same instant). */
interface Observed {
  readonly before: StoreReply;
  readonly reply: StoreReply;
  readonly after: StoreReply;
}

async function observe(store: RateLimitStore, check: LimitCheck): Promise<Observed> {
  const before = await peekOnce(store, check);
  const reply = await consumeOnce(store, check);
  const after = await peekOnce(store, check);
  return { before, reply, after };
}

/**
 * All or none: admitted, every limit's remaining fell by the cost; refused, nothing changed. With
 * `atOneInstant` (the injected clock) the reset times must not have moved either; Redis's clock
 * runs on between the peeks, so there only the counts can be compared.
 */
function consumedAllOrNone(observed: Observed, cost: number, atOneInstant: boolean): boolean {
  const { before, reply, after } = observed;
  if (reply.allowed) return after.remaining.every((left, i) => left === (before.remaining[i] as number) - cost);
  const same = (a: readonly number[], b: readonly number[]) => fc.stringify(a) === fc.stringify(b);
  return same(after.remaining, before.remaining) && (!atOneInstant || same(after.resetMs, before.resetMs));
}

// ---- in-memory store, with time --------------------------------------------------------------

t.test('sliding_log never admits more than a limit in any window of its length', async () => {
  await fc.assert(
    fc.asyncProperty(limitsOf(TIME_WINDOWS, 10), timedSteps, startMs, async (limits, steps, start) => {
      const admitted = (await runTimed('sliding_log', limits, steps, start)).filter((step) => step.allowed);
      // The heaviest window of length W ends at an admitted request: sum (t − W, t] for each.
      for (const { windowSeconds, limit } of limits) {
        const windowMs = windowSeconds * 1000;
        for (const last of admitted) {
          const inWindow = admitted.filter((step) => step.atMs > last.atMs - windowMs && step.atMs <= last.atMs);
          if (inWindow.reduce((sum, step) => sum + step.cost, 0) > limit) return false;
        }
      }
      return true;
    }),
    settings(300),
  );
});

t.test('sliding_window never admits more than a limit within one of its buckets', async () => {
  await fc.assert(
    fc.asyncProperty(limitsOf(TIME_WINDOWS, 10), timedSteps, startMs, async (limits, steps, start) => {
      const admitted = (await runTimed('sliding_window', limits, steps, start)).filter((step) => step.allowed);
      for (const { windowSeconds, limit } of limits) {
        const perBucket = new Map<number, number>();
        for (const step of admitted) {
          const bucket = Math.floor(step.atMs / (windowSeconds * 1000));
          perBucket.set(bucket, (perBucket.get(bucket) ?? 0) + step.cost);
        }
        if ([...perBucket.values()].some((units) => units > limit)) return false;
      }
      return true;
    }),
    settings(300),
  );
});

t.test('gcra never admits more than burst + rate × t in any interval of length t', async () => {
  await fc.assert(
    fc.asyncProperty(limitsOf(TIME_WINDOWS, 10, true), timedSteps, startMs, async (limits, steps, start) => {
      const admitted = (await runTimed('gcra', limits, steps, start)).filter((step) => step.allowed);
      // Every interval [first, last] between two admitted requests, both included.
      for (const { windowSeconds, limit, burst } of limits) {
        const ratePerMs = limit / (windowSeconds * 1000);
        for (let i = 0; i < admitted.length; i += 1) {
          let units = 0;
          for (let j = i; j < admitted.length; j += 1) {
            units += (admitted[j] as { cost: number }).cost;
            const spanMs = (admitted[j] as { atMs: number }).atMs - (admitted[i] as { atMs: number }).atMs;
            // The script's float slack: at most 0.01 ms.
            if (units > (burst ?? limit) + ratePerMs * (spanMs + 0.01)) return false;
          }
        }
      }
      return true;
    }),
    settings(300),
  );
});

for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm} in memory: a rejected request consumes nothing, an admitted one consumes every limit`, async () => {
    await fc.assert(
      fc.asyncProperty(limitsOf(TIME_WINDOWS, 8), timedSteps, startMs, async (limits, steps, start) => {
        let now = start;
        const store = new MemoryStore({ now: () => now });
        const check: LimitCheck = { subject: freshSubject(), algorithm, limits, cost: 1 };
        try {
          for (const step of steps) {
            now += step.gapMs;
            if (!consumedAllOrNone(await observe(store, { ...check, cost: step.cost }), step.cost, true)) return false;
          }
          return true;
        } finally {
          await store.close();
        }
      }),
      settings(200),
    );
  });
}

// ---- Redis store against the in-memory store -------------------------------------------------

/** Interleaves requests for `keys.length` keys on both stores, one at a time, comparing every step. */
async function sameSequentially(algorithm: Algorithm, keyLimits: readonly WindowLimit[][], steps: readonly UntimedStep[]): Promise<boolean> {
  const redisStore = new RedisStore({ client: redis, prefix, timeoutMs: 5000 });
  const memoryStore = new MemoryStore();
  const checks = keyLimits.map((limits): LimitCheck => ({ subject: freshSubject(), algorithm, limits, cost: 1 }));
  try {
    for (const step of steps) {
      const check = { ...(checks[step.key] as LimitCheck), cost: step.cost };
      const inRedis = await observe(redisStore, check);
      const inMemory = await observe(memoryStore, check);
      if (inRedis.reply.allowed !== inMemory.reply.allowed) return false;
      if (fc.stringify(inRedis.reply.remaining) !== fc.stringify(inMemory.reply.remaining)) return false;
      if (inRedis.reply.allowed && inRedis.reply.retryAfterMs !== 0) return false;
      if (!consumedAllOrNone(inRedis, step.cost, false)) return false;
    }
    return true;
  } finally {
    await redisStore.close();
    await memoryStore.close();
  }
}


for (const algorithm of ALGORITHMS) {
  t.test(`${algorithm}: the Redis and in-memory stores decide the same, one request after another`, async () => {
    const keys = 2;
    await fc.assert(
      fc.asyncProperty(fc.array(limitsOf(LONG_WINDOWS, 12), { minLength: keys, maxLength: keys }), untimedSteps(keys), (keyLimits, steps) =>
        sameSequentially(algorithm, keyLimits, steps),
      ),
      settings(25),
    );
  });

  t.test(`${algorithm}: the Redis and in-memory stores admit the same requests of a concurrent batch`, async () => {
    const keys = 3;
    await fc.assert(
      fc.asyncProperty(
        fc.array(limitsOf(LONG_WINDOWS, 10), { minLength: keys, maxLength: keys }),
        fc.array(fc.record({ key: fc.integer({ min: 0, max: keys - 1 }), cost: fc.integer({ min: 1, max: 3 }) }), { minLength: 2, maxLength: 60 }),
        async (keyLimits, batch) => {
          const redisStore = new RedisStore({ client: redis, prefix, timeoutMs: 5000 });
          const memoryStore = new MemoryStore();
          const checks = keyLimits.map((limits): LimitCheck => ({ subject: freshSubject(), algorithm, limits, cost: 1 }));
          const requests = batch.map((item) => ({ ...(checks[item.key] as LimitCheck), cost: item.cost }));
          try {
            // All at once: group commit sends them in one script call, decided in the order given.
            const inRedis = await Promise.all(requests.map((check) => consumeOnce(redisStore, check)));
            const inMemory: StoreReply[] = [];
            for (const check of requests) inMemory.push(await consumeOnce(memoryStore, check));
            const facts = (replies: readonly StoreReply[]) => fc.stringify(replies.map((reply) => [reply.allowed, reply.remaining]));
            return facts(inRedis) === facts(inMemory);
          } finally {
            await redisStore.close();
            await memoryStore.close();
          }
        },
      ),
      settings(40),
    );
  });
}
