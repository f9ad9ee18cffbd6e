// The admission step with real stores: what it tells the request to do, when it asks the store, and
// how a store failure becomes an answer.
import t, { type Test } from 'tap';
import { pino } from 'pino';
import { toWindowLimits, type Algorithm, type Limit } from '../../contracts/limits.js';
import { createRedisConnection, waitForReady } from '../../contracts/redis-connection.js';
import { Admission } from '../src/admission.js';
import type { FailureMode } from '../src/config.js';
import { buildTierRecord } from '../src/keys/cache.js';
import type { KeyRecord } from '../src/keys/key-record.js';
import { MemoryStore } from '../src/limiter/memory-store.js';
import { RedisStore } from '../src/limiter/redis-store.js';
import {
  StoreOverloadedError,
  StoreUnavailableError,
  type LimitCheck,
  type RateLimitStore,
  type ReplyReceiver,
  type SlotOperation,
} from '../src/limiter/store.js';
import { createGatewayMetrics } from '../src/metrics.js';
import { PROBLEMS, type PreparedProblem } from '../src/proxy/respond.js';
import { createRouter, type Route } from '../src/proxy/routes.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { tierView } from '../../test-support/views.js';
import { peekOnce } from './helpers/store-calls.js';

const client = createRedisConnection({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', behaviour: 'fail-fast', connectionName: 'test' });
client.on('error', () => {});
t.teardown(() => client.quit());

let serial = 0;
function record(algorithm: Algorithm, limits: Limit[], id?: string): KeyRecord {
  serial += 1;
  return {
    id: id ?? `key_${process.pid}_${serial}_${Math.random().toString(36).slice(2, 8)}`,
    tier: buildTierRecord(tierView({ name: 'test', limits, algorithm })),
    limits: toWindowLimits(limits),
    mode: 'enforce',
    active: true,
    expiresAtMs: null,
  };
}

const routesByCost = new Map<number, Route>();
/** One route with no limits of its own, of cost `cost` (the same object each time, as a router's). */
function routeOfCost(cost: number): Route {
  let route = routesByCost.get(cost);
  if (route === undefined) {
    route = createRouter([{ name: `cost${cost}`, prefix: '/', upstream: 'http://127.0.0.1:1', stripPrefix: false, cost }]).routes[0] as Route;
    routesByCost.set(cost, route);
  }
  return route;
}

/** What the admission step told a request, and whether it did so before `decide` returned. */
interface Told {
  readonly verdict: 'forward' | 'refuse';
  readonly problem: PreparedProblem | null;
  readonly headers: Record<string, string>;
  readonly synchronous: boolean;
}

function headerMap(list: readonly string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) map[list[i] as string] = list[i + 1] as string;
  return map;
}

function decide(admission: Admission, key: KeyRecord, cost = 1): Promise<Told> {
  return new Promise((resolve) => {
    let returned = false;
    admission.decide(key, routeOfCost(cost), {
      forward: (headers) => resolve({ verdict: 'forward', problem: null, headers: headerMap(headers), synchronous: !returned }),
      refuse: (problem, headers) => resolve({ verdict: 'refuse', problem, headers: headerMap(headers), synchronous: !returned }),
    });
    returned = true;
  });
}

/** A store that counts the consume calls reaching it. */
class CountingStore implements RateLimitStore {
  calls = 0;
  constructor(readonly inner: RateLimitStore) {}
  consume(check: LimitCheck, receiver: ReplyReceiver): void {
    this.calls += 1;
    this.inner.consume(check, receiver);
  }
  peek(check: LimitCheck, receiver: ReplyReceiver): void {
    this.inner.peek(check, receiver);
  }
  updateSlot(operation: SlotOperation, leaseMs: number): void {
    this.inner.updateSlot(operation, leaseMs);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A store that fails every call with `error`. */
function failingStore(error: unknown): RateLimitStore {
  return {
    consume: (_check, receiver) => receiver.failed(error),
    peek: (_check, receiver) => receiver.failed(error),
    updateSlot: () => {},
    close: async () => {},
  };
}

function admissionWith(store: RateLimitStore, options: { failureMode?: FailureMode; deniedCache?: boolean } = {}) {
  const metrics = createGatewayMetrics({ activeKeysByTier: () => new Map(), configVersion: () => 0, redisUp: () => true, upstreams: () => new Map() });
  const admission = new Admission({
    store,
    failureMode: options.failureMode ?? 'open',
    metrics,
    logger: pino({ level: 'silent' }),
    deniedCache: options.deniedCache ?? true,
  });
  return { admission, metrics };
}

async function redisStore(t: Test): Promise<CountingStore> {
  await waitForReady(client);
  const store = new RedisStore({ client, prefix: uniquePrefix('admission'), timeoutMs: 2000 });
  t.teardown(() => store.close());
  return new CountingStore(store);
}

async function metricValue(metrics: ReturnType<typeof createGatewayMetrics>, name: string): Promise<number> {
  const text = await metrics.registry.metrics();
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? Number.NaN);
}

t.test('an admitted request is forwarded with its rate-limit fields', async (t) => {
  const { admission } = admissionWith(await redisStore(t));
  const told = await decide(admission, record('sliding_window', [{ window: '1m', limit: 5 }]));
  t.equal(told.verdict, 'forward');
  t.equal(told.headers['ratelimit-policy'], '"1m";q=5;w=60');
  t.match(told.headers.ratelimit, /^"1m";r=4;t=\d+$/);
  t.equal(told.headers['x-ratelimit-remaining'], '4');
  t.equal(told.headers['retry-after'], undefined);
});

t.test('a key over its limit is refused with 429 and Retry-After', async (t) => {
  const { admission } = admissionWith(await redisStore(t));
  const key = record('sliding_window', [{ window: '1h', limit: 1 }]);
  await decide(admission, key);
  const told = await decide(admission, key);
  t.equal(told.verdict, 'refuse');
  t.equal(told.problem?.status, 429);
  t.match(JSON.parse(told.problem?.body.toString() ?? '{}'), { type: /\/rate-limited$/, limit: { name: '1h', window: '1h', limit: 1, remaining: 0 } });
  t.ok(Number(told.headers['retry-after']) >= 1);
});

t.test('a key over its limit is answered locally, before decide returns, until its retry-after', async (t) => {
  const store = await redisStore(t);
  const { admission } = admissionWith(store);
  const key = record('sliding_log', [{ window: '1m', limit: 2 }, { window: '1h', limit: 10 }]);
  t.equal((await decide(admission, key)).verdict, 'forward');
  t.equal((await decide(admission, key)).verdict, 'forward');
  const first = await decide(admission, key);
  t.equal(first.verdict, 'refuse');
  t.notOk(first.synchronous, 'the first refusal comes from Redis');
  const callsBefore = store.calls;
  const cached = await decide(admission, key);
  t.equal(cached.verdict, 'refuse');
  t.ok(cached.synchronous, 'then answered without waiting');
  t.equal(cached.headers.ratelimit?.split(', ')[1], '"1h";r=8;t=3600', 'with the facts Redis gave');
  t.equal(cached.headers['retry-after'], '60');
  t.equal(store.calls, callsBefore, 'Redis was not asked');
  const larger = await decide(admission, key, 5);
  t.equal(larger.verdict, 'refuse', 'a request of another route (a larger cost) is refused as well');
  t.notOk(larger.synchronous, 'by Redis: a denial is cached per key and route');
});

t.test('a new key record (a config change) is not answered from the old record denial', async (t) => {
  const { admission } = admissionWith(await redisStore(t));
  const old = record('sliding_window', [{ window: '1h', limit: 1 }]);
  await decide(admission, old);
  t.equal((await decide(admission, old)).verdict, 'refuse');
  t.ok((await decide(admission, old)).synchronous);
  const raised = record('sliding_window', [{ window: '1h', limit: 5 }], old.id);
  const told = await decide(admission, raised);
  t.equal(told.verdict, 'forward', 'the raised limit admits at once');
  t.notOk(told.synchronous);
});

t.test('a cached denial of one cost does not deny a smaller cost', async (t) => {
  const { admission } = admissionWith(await redisStore(t));
  const key = record('sliding_window', [{ window: '1h', limit: 5 }]);
  t.equal((await decide(admission, key, 3)).verdict, 'forward');
  t.equal((await decide(admission, key, 3)).verdict, 'refuse');
  t.ok((await decide(admission, key, 3)).synchronous);
  const smaller = await decide(admission, key, 2);
  t.equal(smaller.verdict, 'forward');
});

t.test('the denied-until cache never denies a request that Redis admits', async (t) => {
  const store = await redisStore(t);
  const { admission } = admissionWith(store);
  // Each round: exhaust a 1 s window, let the cache learn the denial, then poll Redis itself (peek,
  // consuming nothing) until it admits. The cache's deadline must not be after that moment.
  const route1 = routeOfCost(1);
  async function rounds(algorithm: Algorithm): Promise<void> {
    const key = record(algorithm, [{ window: '1s', limit: 3 }]);
    const check: LimitCheck = { subject: key.id, limits: key.limits, algorithm, cost: 1 };
    for (let round = 0; round < 2; round += 1) {
      let told: Told;
      do told = await decide(admission, key);
      while (told.verdict === 'forward');
      const deniedUntil = admission.deniedUntil(key, route1);
      // The first round's denial is a second away, so it is cached. A later round may not be: its
      // entries went in within a millisecond of each other once the window had room, so its denial
      // can end within the millisecond, which Redis rounds down to 0 ms, and that is not cached.
      if (round === 0) t.ok(deniedUntil !== undefined, `${algorithm}: the first denial is cached`);
      for (;;) {
        const peek = await peekOnce(store, check);
        const answeredAt = performance.now();
        if (peek.allowed) {
          t.ok((deniedUntil ?? 0) <= answeredAt, `${algorithm}: the cache deadline is not after Redis admits`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const next = await decide(admission, key);
      t.notOk(next.synchronous, `${algorithm}: the cache no longer answers`);
      t.equal(next.verdict, 'forward', `${algorithm}: the first check after Redis admits again is admitted`);
    }
  }
  await Promise.all([rounds('sliding_window'), rounds('sliding_log'), rounds('gcra')]);
});

t.test('without the cache every decision asks the store', async (t) => {
  const store = await redisStore(t);
  const { admission } = admissionWith(store, { deniedCache: false });
  const key = record('sliding_window', [{ window: '1h', limit: 1 }]);
  await decide(admission, key);
  await decide(admission, key);
  const third = await decide(admission, key);
  t.equal(third.verdict, 'refuse');
  t.notOk(third.synchronous);
  t.equal(store.calls, 3);
  t.equal(admission.denied, undefined);
});

t.test('inspect reports the limits and consumes nothing', async (t) => {
  const { admission } = admissionWith(await redisStore(t));
  const key = record('sliding_log', [{ window: '1m', limit: 2 }]);
  await decide(admission, key);
  for (let i = 0; i < 2; i += 1) {
    const remaining = await new Promise<number | undefined>((resolve) =>
      admission.inspect(key, 'none', [], 0, { inspected: (reply) => resolve(reply?.remaining[0]) }),
    );
    t.equal(remaining, 1);
  }
});

t.test('with the in-memory store every decision is given before decide returns', async (t) => {
  const store = new MemoryStore();
  t.teardown(() => store.close());
  const { admission } = admissionWith(store, { deniedCache: false });
  const key = record('sliding_window', [{ window: '1h', limit: 1 }]);
  const first = await decide(admission, key);
  const second = await decide(admission, key);
  t.ok(first.synchronous && second.synchronous);
  t.same([first.verdict, second.verdict], ['forward', 'refuse']);
});

t.test('a store failure in open mode forwards with the fields that need no answer, and is counted', async (t) => {
  const { admission, metrics } = admissionWith(failingStore(new StoreUnavailableError('down')), { failureMode: 'open' });
  const told = await decide(admission, record('sliding_window', [{ window: '1m', limit: 5 }]));
  t.equal(told.verdict, 'forward');
  t.same(Object.keys(told.headers), ['ratelimit-policy', 'x-ratelimit-limit'], 'no remaining or reset is guessed');
  t.equal(await metricValue(metrics, 'tollgate_gateway_store_errors_total'), 1);
  t.equal(await metricValue(metrics, 'tollgate_gateway_failopen_total'), 1);
});

t.test('a store failure in closed mode refuses with 503', async (t) => {
  const { admission, metrics } = admissionWith(failingStore(new StoreUnavailableError('down')), { failureMode: 'closed' });
  const told = await decide(admission, record('sliding_window', [{ window: '1m', limit: 5 }]));
  t.equal(told.verdict, 'refuse');
  t.equal(told.problem, PROBLEMS.storeUnavailable);
  t.equal(await metricValue(metrics, 'tollgate_gateway_store_errors_total'), 1);
});

t.test('an overloaded gateway refuses with 503 even in open mode, and it is not a store error', async (t) => {
  const { admission, metrics } = admissionWith(failingStore(new StoreOverloadedError('full')), { failureMode: 'open' });
  const told = await decide(admission, record('sliding_window', [{ window: '1m', limit: 5 }]));
  t.equal(told.verdict, 'refuse');
  t.equal(told.problem, PROBLEMS.overloaded);
  t.equal(await metricValue(metrics, 'tollgate_gateway_store_errors_total'), 0);
  t.equal(await metricValue(metrics, 'tollgate_gateway_overload_shed_total'), 1);
});

t.test('a read the store cannot answer is counted as a store error too', async (t) => {
  const { admission, metrics } = admissionWith(failingStore(new StoreUnavailableError('down')));
  const reply = await new Promise((resolve) => admission.inspect(record('sliding_window', [{ window: '1m', limit: 5 }]), 'none', [], 0, { inspected: resolve }));
  t.equal(reply, null);
  t.equal(await metricValue(metrics, 'tollgate_gateway_store_errors_total'), 1);
});
