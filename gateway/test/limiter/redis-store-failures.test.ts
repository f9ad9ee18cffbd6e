// How the Redis store fails: fast while Redis is frozen or gone, by itself back when it returns,
// and never because the gateway itself was busy.
import t from 'tap';
import { createRedisConnection, waitForReady, type RedisConnection } from '../../../contracts/redis-connection.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { StoreOverloadedError, StoreUnavailableError, type StoreReply } from '../../src/limiter/store.js';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { consumeOnce } from '../helpers/store-calls.js';
import { checkFor, sleep } from './store-behaviour.js';

async function until(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${deadlineMs} ms`);
    await sleep(20);
  }
}

function connect(url: string): RedisConnection {
  const client = createRedisConnection({ url, behaviour: 'fail-fast', connectionName: 'test', autoPipelining: false });
  client.on('error', () => {});
  return client;
}

/** The outcome of one check and how long it took to settle. */
async function attempt(store: RedisStore): Promise<{ reply?: StoreReply; error?: unknown; ms: number }> {
  const started = Date.now();
  try {
    return { reply: await consumeOnce(store, check), ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

const check = checkFor('sliding_window', [{ window: '1h', limit: 1_000_000 }]);

t.test('a frozen Redis fails checks within the budget, opens the breaker, and it closes again by itself', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = connect(server.url);
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  const store = new RedisStore({ client, prefix: uniquePrefix('frozen'), timeoutMs: 100 });
  t.teardown(() => store.close());
  const changes: boolean[] = [];
  store.health.subscribe((up) => changes.push(up));
  await until(() => store.health.isUp, 2000, 'up at start');
  t.ok((await attempt(store)).reply?.allowed);

  server.freeze();
  const frozen = await attempt(store);
  t.type(frozen.error, StoreUnavailableError);
  t.equal((frozen.error as StoreUnavailableError).code, 'STORE_UNAVAILABLE');
  t.ok(frozen.ms < 1000, `a frozen Redis costs about the budget (${frozen.ms} ms)`);
  await attempt(store);
  await attempt(store);
  t.notOk(store.health.isUp, 'down after three calls in a row went unanswered');
  const open = await attempt(store);
  t.match((open.error as Error).message, /circuit open/, 'the open breaker answers without Redis');
  t.ok(open.ms < 50, 'at once');
  server.thaw();
  await until(() => store.health.isUp, 3000, 'up after thaw');
  t.ok((await attempt(store)).reply?.allowed);
  t.same(changes.slice(0, 3), [true, false, true]);
});

t.test('a stopped Redis is noticed while idle and a restarted one admits again', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = connect(server.url);
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  const store = new RedisStore({ client, prefix: uniquePrefix('stopped'), timeoutMs: 100 });
  t.teardown(() => store.close());
  await until(() => store.health.isUp, 2000, 'up at start');
  await server.stop();
  await until(() => !store.health.isUp, 2000, 'down within 2 s of the stop, with no traffic');
  const stopped = await attempt(store);
  t.type(stopped.error, StoreUnavailableError);
  t.ok(stopped.ms < 1000);
  await server.start();
  await until(() => store.health.isUp, 5000, 'up after the restart');
  t.ok((await attempt(store)).reply?.allowed, 'the restarted (empty) Redis admits again');
});

t.test('a store whose Redis never answered is down and fails fast', async (t) => {
  const server = await startRedisServer();
  const url = server.url;
  await server.stop();
  const client = connect(url);
  t.teardown(() => client.disconnect());
  const store = new RedisStore({ client, prefix: uniquePrefix('never'), timeoutMs: 100 });
  t.teardown(() => store.close());
  const outcome = await attempt(store);
  t.type(outcome.error, StoreUnavailableError);
  t.ok(outcome.ms < 1000);
  t.notOk(store.health.isUp);
});

t.test('a gateway busier than the budget is not a Redis failure: the reply that arrived in time is used', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = connect(server.url);
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  const store = new RedisStore({ client, prefix: uniquePrefix('busy'), timeoutMs: 50 });
  t.teardown(() => store.close());
  await until(() => store.health.isUp, 2000, 'up at start');
  for (let round = 0; round < 5; round += 1) {
    const pending = consumeOnce(store, check);
    // Let the batch go out, then keep the event loop busy for six budgets: Redis answers within
    // a millisecond, but the reply is only read once the loop is free again, after the deadline.
    await new Promise((resolve) => setImmediate(resolve));
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil) {
      // busy
    }
    const reply = await pending;
    t.ok(reply.allowed, `round ${round}: admitted, not failed`);
  }
  t.ok(store.health.isUp, 'and the breaker never opened');
});

t.test('an answered call is let go at once, not kept until the deadline timer runs', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = connect(server.url);
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  // A budget far longer than the test: the deadline timer never runs while it does.
  const store = new RedisStore({ client, prefix: uniquePrefix('held'), timeoutMs: 60_000, maxBatch: 1 });
  t.teardown(() => store.close());
  const calls = Array.from({ length: 200 }, () => consumeOnce(store, check));
  t.equal(store.callsInFlight, 200, 'every call is watched while unanswered');
  const replies = await Promise.all(calls);
  t.ok(replies.every((reply) => reply.allowed));
  t.equal(store.callsInFlight, 0, 'none is watched once answered');
});

t.test('checks beyond the queue are refused as overload, not sent and not let through', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = connect(server.url);
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  const store = new RedisStore({ client, prefix: uniquePrefix('overload'), maxQueued: 10, timeoutMs: 5000 });
  t.teardown(() => store.close());
  const outcomes = await Promise.allSettled(Array.from({ length: 15 }, () => consumeOnce(store, check)));
  const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
  t.equal(refused.length, 5);
  t.ok(refused.every((outcome) => outcome.reason instanceof StoreOverloadedError));
  t.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 10, 'the queued ones are answered');
  t.ok(store.health.isUp, 'overload is not evidence against Redis');
});
