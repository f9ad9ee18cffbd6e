import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { createRedisConnection, waitForReady, type RedisConnection } from '../../../contracts/redis-connection.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { createLimiterScripts } from '../../../contracts/lua/scripts.js';
import type { LimitCheck, StoreReply } from '../../src/limiter/store.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../../../test-support/redis-server.js';
import { admitted, checkFor, storeBehaviour, withCost } from './store-behaviour.js';
import { consumeOnce, peekOnce } from '../helpers/store-calls.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** A budget no busy test machine reaches: these tests are about answers, not about timeouts. */
const ROOMY = { timeoutMs: 5000 };

function client(): RedisConnection {
  const redis = createRedisConnection({ url: REDIS_URL, behaviour: 'fail-fast', connectionName: 'test' });
  redis.on('error', () => {});
  return redis;
}

const shared = client();
t.teardown(() => shared.quit());

/** A Redis server of the test's own (its command counters and scripts are the test's alone), a
 * ready client of it and an admin connection; all stopped at the test's end. */
async function ownRedis(t: Test): Promise<{ server: RedisServer; own: RedisConnection; admin: Redis }> {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const own = createRedisConnection({ url: server.url, behaviour: 'fail-fast', connectionName: 'test' });
  own.on('error', () => {});
  t.teardown(() => own.quit());
  await waitForReady(own);
  const admin = new Redis(server.url);
  t.teardown(() => admin.quit());
  return { server, own, admin };
}

storeBehaviour('RedisStore', async () => {
  await waitForReady(shared);
  return { store: new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('limiter') }), close: async () => {} };
});

storeBehaviour('RedisStore with one check per call', async () => {
  await waitForReady(shared);
  return {
    store: new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('limiter'), maxBatch: 1 }),
    close: async () => {},
  };
});

t.test('80 concurrent checks from two gateways against a limit of 20 admit exactly 20', async (t) => {
  const other = client();
  t.teardown(() => other.quit());
  await Promise.all([waitForReady(shared), waitForReady(other)]);
  const prefix = uniquePrefix('two-gateways');
  const gatewayA = new RedisStore({ ...ROOMY, client: shared, prefix });
  const gatewayB = new RedisStore({ ...ROOMY, client: other, prefix });
  for (const algorithm of ['sliding_window', 'sliding_log'] as const) {
    const check = checkFor(algorithm, [{ window: '1h', limit: 20 }]);
    const replies = await Promise.all(
      Array.from({ length: 80 }, (_, i) => consumeOnce(i % 2 === 0 ? gatewayA : gatewayB, check)),
    );
    t.equal(admitted(replies), 20, algorithm);
  }
});

t.test('the checks of one event-loop turn share one script call', async (t) => {
  await waitForReady(shared);
  const store = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('batch') });
  const checks = Array.from({ length: 30 }, (_, i) => checkFor(i % 2 ? 'sliding_log' : 'sliding_window', [{ window: '1m', limit: 5 }]));
  const before = store.scriptCalls;
  await Promise.all(checks.map((check) => consumeOnce(store, check)));
  t.equal(store.scriptCalls - before, 1);
});

t.test('batched calls give the same results as one call per check', async (t) => {
  await waitForReady(shared);
  const batched = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('batched') });
  const single = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('single'), maxBatch: 1 });
  // Several keys, both algorithms, several windows and costs, interleaved in one turn.
  const keys: LimitCheck[] = [
    checkFor('sliding_window', [{ window: '1m', limit: 7 }, { window: '1h', limit: 12 }]),
    checkFor('sliding_log', [{ window: '1m', limit: 5 }, { window: '1d', limit: 9 }]),
    checkFor('sliding_window', [{ window: '30s', limit: 3 }]),
  ];
  const sequence: LimitCheck[] = [];
  for (let i = 0; i < 40; i += 1) sequence.push(withCost(keys[i % 3] as LimitCheck, 1 + (i % 4 === 3 ? 2 : 0)));
  const project = (replies: StoreReply[]) => replies.map((reply) => ({ allowed: reply.allowed, remaining: reply.remaining }));
  const fromBatch = await Promise.all(sequence.map((check) => consumeOnce(batched, check)));
  const fromSingle: StoreReply[] = [];
  for (const check of sequence) fromSingle.push(await consumeOnce(single, check));
  t.same(project(fromBatch), project(fromSingle));
  t.ok(admitted(fromBatch) > 0 && admitted(fromBatch) < sequence.length, 'the sequence both admits and rejects');
});

t.test('runs of one check object among other keys give the same results as one call per check', async (t) => {
  await waitForReady(shared);
  const batched = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('runs') });
  const single = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('runs-single'), maxBatch: 1 });
  const busy = checkFor('sliding_window', [{ window: '1m', limit: 6 }, { window: '1h', limit: 9 }]);
  const log = checkFor('sliding_log', [{ window: '1m', limit: 4 }]);
  const quiet = checkFor('sliding_window', [{ window: '30s', limit: 2 }]);
  // Runs of 5, 1, 4, 3 and 2 of the same objects, so the call carries runs and single items.
  const sequence = [
    ...Array<LimitCheck>(5).fill(busy),
    quiet,
    ...Array<LimitCheck>(4).fill(log),
    ...Array<LimitCheck>(3).fill(busy),
    ...Array<LimitCheck>(2).fill(log),
    quiet,
    quiet,
  ];
  const project = (replies: StoreReply[]) => replies.map((reply) => ({ allowed: reply.allowed, remaining: reply.remaining }));
  const before = batched.scriptCalls;
  const fromBatch = await Promise.all(sequence.map((check) => consumeOnce(batched, check)));
  t.equal(batched.scriptCalls - before, 1, 'one script call');
  const fromSingle: StoreReply[] = [];
  for (const check of sequence) fromSingle.push(await consumeOnce(single, check));
  t.same(project(fromBatch), project(fromSingle));
  t.same(
    fromBatch.slice(0, 5).map((reply) => reply.remaining[0]),
    [5, 4, 3, 2, 1],
    'each check of a run sees the counts the earlier ones left',
  );
});

t.test('peek answers every check of a run alike and consumes nothing', async (t) => {
  await waitForReady(shared);
  const prefix = uniquePrefix('peek-run');
  const scripts = createLimiterScripts(shared, prefix);
  const check = checkFor('sliding_window', [{ window: '1h', limit: 5 }]);
  await consumeOnce(new RedisStore({ ...ROOMY, client: shared, prefix }), check);
  const replies = await scripts.peek([check, check, check]);
  t.same(
    replies.map((reply) => reply.remaining[0]),
    [4, 4, 4],
  );
  t.same((await scripts.peek([check])).map((reply) => reply.remaining[0]), [4], 'nothing was consumed');
});

t.test('after SCRIPT FLUSH the next call still works', async (t) => {
  const { own, admin } = await ownRedis(t);
  const store = new RedisStore({ ...ROOMY, client: own, prefix: uniquePrefix('flush') });
  const check = checkFor('sliding_window', [{ window: '1h', limit: 3 }]);
  t.ok((await consumeOnce(store, check)).allowed);
  t.ok((await peekOnce(store, check)).allowed);
  await admin.script('FLUSH');
  const after = await consumeOnce(store, check);
  t.ok(after.allowed);
  t.equal(after.remaining[0], 1);
  t.equal((await peekOnce(store, check)).remaining[0], 1);
});

t.test('every Redis key of one check carries the API key hash tag', async (t) => {
  await waitForReady(shared);
  const prefix = uniquePrefix('layout');
  const store = new RedisStore({ ...ROOMY, client: shared, prefix });
  const logCheck = checkFor('sliding_log', [{ window: '1m', limit: 5 }, { window: '1h', limit: 50 }]);
  const counterCheck = checkFor('sliding_window', [{ window: '1m', limit: 5 }]);
  await consumeOnce(store, logCheck);
  await consumeOnce(store, counterCheck);
  const keys = (await shared.keys(`${prefix}:*`)).sort();
  t.equal(keys.length, 4, keys.join(' '));
  for (const key of keys) t.match(key, new RegExp(`^${prefix}:\\{(${logCheck.subject}|${counterCheck.subject})\\}:`));
  for (const key of keys) t.ok((await shared.pttl(key)) > 0, `${key} expires`);
});

t.test("a counter's hash expires two windows after its bucket's first write, not after the last", async (t) => {
  await waitForReady(shared);
  const prefix = uniquePrefix('expiry');
  const store = new RedisStore({ ...ROOMY, client: shared, prefix });
  const check = checkFor('sliding_window', [{ window: '1h', limit: 100 }]);
  await consumeOnce(store, check);
  const [key] = await shared.keys(`${prefix}:*`);
  if (key === undefined) throw new Error('the check wrote no key');
  const first = { bucket: await shared.hget(key, 'i'), ttl: await shared.pttl(key) };
  t.ok(first.ttl > 7_100_000 && first.ttl <= 7_200_000, `about two hours on the first write (${first.ttl} ms)`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await consumeOnce(store, check);
  const second = { bucket: await shared.hget(key, 'i'), ttl: await shared.pttl(key) };
  if (second.bucket === first.bucket) {
    t.equal(await shared.hget(key, 'c'), '2', 'both writes counted');
    t.ok(second.ttl <= first.ttl - 40, `a second write in the same bucket leaves the expiry (${first.ttl} → ${second.ttl} ms)`);
  } else {
    t.ok(second.ttl > 7_100_000, 'the hour turned between the writes: the new bucket set a new expiry');
  }
});

t.test('one call with ten checks of one key reads and writes its counter hash once, counting all ten', async (t) => {
  const { own, admin } = await ownRedis(t);
  const prefix = uniquePrefix('one-write');
  const store = new RedisStore({ ...ROOMY, client: own, prefix });
  const check = checkFor('sliding_window', [{ window: '1h', limit: 8 }]);
  await admin.config('RESETSTAT');
  const replies = await Promise.all(Array.from({ length: 10 }, () => consumeOnce(store, check)));
  t.same(
    replies.map((reply) => reply.remaining[0]),
    [7, 6, 5, 4, 3, 2, 1, 0, 0, 0],
    'the checks still see the counts of the earlier ones, in order',
  );
  t.equal(admitted(replies), 8);
  const stats = await admin.info('commandstats');
  const calls = (command: string): number => Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  t.equal(calls('evalsha') + calls('eval'), 1, 'one script call');
  t.equal(calls('hmget'), 1, 'one read');
  t.equal(calls('hset'), 1, 'one write');
  const [key] = await own.keys(`${prefix}:*`);
  if (key === undefined) throw new Error('the call wrote no key');
  t.equal(await own.hget(key, 'c'), '8', 'the hash holds the eight admitted units');
  t.ok((await own.pttl(key)) > 7_100_000, 'and expires two windows out');
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

t.test('once a call of many checks is answered, the next check goes out in the turn it arrives', async (t) => {
  await waitForReady(shared);
  const store = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('no-spacing'), maxHoldMs: 60_000 });
  const check = checkFor('sliding_window', [{ window: '1h', limit: 100 }]);
  await Promise.all(Array.from({ length: 50 }, () => consumeOnce(store, check)));
  t.equal(store.scriptCalls, 1, 'fifty checks of one turn: one call');
  const next = consumeOnce(store, check);
  await nextTurn();
  t.equal(store.scriptCalls, 2, 'sent at the end of its own turn, not held back for a while after a large call');
  t.equal((await next).remaining[0], 49);
});

t.test('a receiver that throws does not keep the other checks of its call from their replies', async (t) => {
  await waitForReady(shared);
  const store = new RedisStore({ ...ROOMY, client: shared, prefix: uniquePrefix('throwing') });
  const check = checkFor('sliding_window', [{ window: '1m', limit: 10 }]);
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    rejections.push(reason);
  };
  process.prependListener('unhandledRejection', onRejection);
  t.teardown(() => process.off('unhandledRejection', onRejection));
  store.consume(check, {
    received: () => {
      throw new Error('a bug in the first caller');
    },
    failed: () => {},
  });
  const others = await Promise.all([consumeOnce(store, check), consumeOnce(store, check)]);
  t.same(
    others.map((reply) => reply.remaining[0]),
    [8, 7],
    'the later checks of the same call are answered',
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(rejections.length, 1, 'the bug still surfaces');
  t.match(String(rejections[0]), /a bug in the first caller/);
});
