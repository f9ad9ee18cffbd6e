import t from 'tap';
import { createRedisClient, waitForReady } from '../../src/redis-client.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { StoreUnavailableError, createGuardedStore } from '../../src/limiter/guarded-store.js';
import type { GuardedStore } from '../../src/limiter/guarded-store.js';
import type { StoreReply } from '../../src/limiter/store.js';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { checkFor, sleep } from './store-behaviour.js';

async function until(condition: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${deadlineMs} ms`);
    await sleep(20);
  }
}

/** The outcome of one call and how long it took to settle. */
async function attempt(store: GuardedStore): Promise<{ reply?: StoreReply; error?: unknown; ms: number }> {
  const started = Date.now();
  try {
    const reply = await store.consume(check);
    return { reply, ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

const check = checkFor('sliding_window', [{ window: '1h', limit: 1000 }]);

t.test('the guarded store fails fast while its Redis is frozen or stopped and recovers by itself', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = createRedisClient({ url: server.url });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  const changes: boolean[] = [];
  const store = createGuardedStore({
    store: new RedisStore({ client, prefix: uniquePrefix('guarded') }),
    timeoutMs: 100,
    onChange: (up) => changes.push(up),
  });
  t.teardown(() => store.close());
  await until(() => store.isUp, 2000, 'up at start');
  t.ok((await attempt(store)).reply?.allowed);

  // Frozen: connections stay open and nothing answers.
  server.freeze();
  const frozen = await attempt(store);
  t.type(frozen.error, StoreUnavailableError);
  t.equal((frozen.error as StoreUnavailableError).code, 'STORE_UNAVAILABLE');
  t.ok(frozen.ms < 1000, `a frozen Redis costs at most the budget (${frozen.ms} ms)`);
  await attempt(store);
  await attempt(store);
  t.notOk(store.isUp, 'down after consecutive failures');
  const open = await attempt(store);
  t.match((open.error as Error).message, /circuit open/, 'the open breaker answers without Redis');
  server.thaw();
  await until(() => store.isUp, 3000, 'up after thaw');
  t.ok((await attempt(store)).reply?.allowed);

  // Stopped while idle: the idle probe notices within the 2 s SPEC allows.
  await server.stop();
  await until(() => !store.isUp, 2000, 'down after stop');
  const stopped = await attempt(store);
  t.type(stopped.error, StoreUnavailableError);
  t.ok(stopped.ms < 1000);

  await server.start();
  await until(() => store.isUp, 5000, 'up after restart');
  const back = await attempt(store);
  t.ok(back.reply?.allowed, 'the restarted (empty) Redis admits again');
  // A loaded machine may add a flap, but every change alternates and the story ends up.
  t.equal(changes[0], true);
  t.ok(changes.every((up, i) => i === 0 || up !== changes[i - 1]), changes.join(' '));
  t.ok(changes.length >= 5 && changes[changes.length - 1] === true, changes.join(' '));
});

t.test('a guarded store whose Redis never answered is down and fails fast', async (t) => {
  const server = await startRedisServer();
  const url = server.url;
  await server.stop();
  const client = createRedisClient({ url });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  const store = createGuardedStore({ store: new RedisStore({ client, prefix: uniquePrefix('never') }), timeoutMs: 100 });
  t.teardown(() => store.close());
  const outcome = await attempt(store);
  t.type(outcome.error, StoreUnavailableError);
  t.ok(outcome.ms < 1000);
  t.notOk(store.isUp);
});

t.test('an answered call is let go at once, not kept until the deadline timer runs', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const client = createRedisClient({ url: server.url });
  t.teardown(() => client.disconnect());
  await waitForReady(client);
  // A budget far longer than the test: the deadline timer never runs while it does.
  const store = createGuardedStore({ store: new RedisStore({ client, prefix: uniquePrefix('held') }), timeoutMs: 60_000 });
  t.teardown(() => store.close());
  const roomy = checkFor('sliding_window', [{ window: '1h', limit: 1_000_000 }]);
  const calls = Array.from({ length: 2000 }, () => store.consume(roomy));
  t.equal(store.held, 2000, 'every call is held while unanswered');
  const replies = await Promise.all(calls);
  t.ok(replies.every((reply) => reply.allowed));
  t.equal(store.held, 0, 'none is held once answered');
});
