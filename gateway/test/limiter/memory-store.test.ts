import t from 'tap';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { checkFor, storeBehaviour } from './store-behaviour.js';
import { consumeOnce } from '../helpers/store-calls.js';

storeBehaviour('MemoryStore', async () => {
  const store = new MemoryStore();
  return { store, close: () => store.close() };
});

t.test('MemoryStore: an injected clock drives the windows', async (t) => {
  let now = 1_700_000_000_000;
  const store = new MemoryStore({ now: () => now });
  t.teardown(() => store.close());
  const check = checkFor('sliding_log', [{ window: '1m', limit: 1 }]);
  t.ok((await consumeOnce(store, check)).allowed);
  const rejected = await consumeOnce(store, check);
  t.notOk(rejected.allowed);
  t.equal(rejected.retryAfterMs, 60_000);
  now += 59_999;
  t.notOk((await consumeOnce(store, check)).allowed);
  now += 1;
  t.ok((await consumeOnce(store, check)).allowed);
});

t.test('MemoryStore: the counter weighs the previous bucket by the part of the window still covered', async (t) => {
  let now = 1_700_000_040_000; // a multiple of 60 s: the start of a minute bucket
  const store = new MemoryStore({ now: () => now });
  t.teardown(() => store.close());
  const check = checkFor('sliding_window', [{ window: '1m', limit: 10 }]);
  for (let i = 0; i < 10; i += 1) t.ok((await consumeOnce(store, check)).allowed);
  now += 60_000 + 15_000; // next bucket, a quarter in: the previous ten weigh 7.5
  const reply = await consumeOnce(store, check);
  t.ok(reply.allowed);
  t.equal(reply.remaining[0], 1, 'floor(10 - 1 - 7.5)');
  t.ok((await consumeOnce(store, check)).allowed);
  const rejected = await consumeOnce(store, check);
  t.notOk(rejected.allowed);
  // 2 current + 10 × (1 − e/60 s) + 1 ≤ 10 once e ≥ 18 s: 3 s from now.
  t.equal(rejected.retryAfterMs, 3000);
});
