// Budgets judged after one more poll of the sockets: an answer that arrived in time but was read
// late, because the event loop was busy, is not a timeout. Redis (another process) answers a PING at
// once; the test then keeps its own event loop busy past the budget before reading the answer.
import t from 'tap';
import { createRedisConnection, waitForReady } from '../../../contracts/redis-connection.js';
import { withConfirmedTimeout } from '../../src/limiter/call-deadlines.js';
import { StoreUnavailableError } from '../../src/limiter/store.js';

const redis = createRedisConnection({ url: 'redis://127.0.0.1:6379', behaviour: 'fail-fast', connectionName: 'test-deadlines', autoPipelining: false });
redis.on('error', () => {});
t.teardown(() => redis.quit());

function busyFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy
  }
}

t.test('an answer that arrived in time but was read after the budget passed still counts', async (t) => {
  await waitForReady(redis);
  for (let round = 0; round < 5; round += 1) {
    const answer = withConfirmedTimeout(redis.ping(), 50, 'no PONG');
    busyFor(200);
    t.equal(await answer, 'PONG', `round ${round}`);
  }
});

t.test('no answer at all is a StoreUnavailableError once the budget has passed', async (t) => {
  const started = Date.now();
  const never = new Promise<string>(() => {});
  const error = await withConfirmedTimeout(never, 50, 'no answer').then(
    () => null,
    (reason: unknown) => reason,
  );
  t.type(error, StoreUnavailableError);
  t.match((error as Error).message, /no answer within 50 ms/);
  t.ok(Date.now() - started >= 50);
});
