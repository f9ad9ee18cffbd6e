// Redis breaks under steady load through two gateways (closed mode) with request logging on: it is
// killed and started empty, then frozen for 5 s. Gateways answer 503 meanwhile, keep their request
// events, and serve and log normally again by themselves once Redis answers.
import t from 'tap';
import { faultUnderLoad, setUpFaults, sleep } from './helpers/fault-setup.js';

const setup = await setUpFaults(t, { label: 'faults_redis' });
const { redis } = setup;

t.test('Redis killed and started empty', async (t) => {
  await faultUnderLoad(t, setup, 'Redis killed and started empty', {
    slug: 'redis-kill',
    // Its counters start again with the empty Redis.
    limitEpochs: 2,
    faultStatuses: [503],
    recoveryBoundMs: 5000,
    async fault() {
      const startMs = Date.now();
      await redis.stop();
      redis.clear();
      await sleep(3000);
      await redis.start();
      return { startMs, endMs: Date.now() };
    },
  });
});

t.test('Redis frozen (SIGSTOP) for 5 s', async (t) => {
  await faultUnderLoad(t, setup, 'Redis frozen for 5 s', {
    slug: 'redis-freeze',
    faultStatuses: [503],
    recoveryBoundMs: 3000,
    async fault() {
      const startMs = Date.now();
      redis.freeze();
      await sleep(5000);
      redis.thaw();
      return { startMs, endMs: Date.now() };
    },
  });
});
