// Redis breaks under steady load through two gateways (closed mode) with request logging on: it is
// killed and started empty, then frozen for 5 s. Gateways answer 503 meanwhile, keep their request
// events, and serve and log normally again by themselves once Redis answers.
import t from 'tap';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { checkPhase, printPhase, runPhase } from './helpers/phase.js';
import { startStack } from './helpers/stack.js';
import { startFaultyUpstream } from './helpers/upstream.js';

const TIGHT_LIMIT = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Redis as the compose stack runs it: never evicting, with its append-only file.
const redis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']);
const database = await createTestDatabase('faults_redis');
const upstreams = [await startFaultyUpstream(), await startFaultyUpstream()];
const stack = await startStack({ redis, databaseUrl: database.url, routes: { '/a': upstreams[0]!.url, '/b': upstreams[1]!.url } });
t.teardown(async () => {
  await stack.close();
  await redis.stop();
  await Promise.all(upstreams.map((upstream) => upstream.stop()));
  await database.drop();
});

t.test('Redis killed and started empty', async (t) => {
  const open = await stack.createKey('redis-kill-open', 1_000_000);
  const tight = await stack.createKey('redis-kill-tight', TIGHT_LIMIT, true);
  const result = await runPhase({
    name: 'Redis killed and started empty',
    stack,
    upstreams,
    paths: ['/a/x', '/b/x'],
    open,
    tight,
    tightLimit: TIGHT_LIMIT,
    // Its counters start again with the empty Redis.
    limitEpochs: 2,
    async fault() {
      const startMs = Date.now();
      await redis.stop();
      redis.clear();
      await sleep(3000);
      await redis.start();
      return { startMs, endMs: Date.now() };
    },
  });
  printPhase(t, result);
  await checkPhase(t, result, { faultStatuses: [503], recoveryBoundMs: 5000 });
});

t.test('Redis frozen (SIGSTOP) for 5 s', async (t) => {
  const open = await stack.createKey('redis-freeze-open', 1_000_000);
  const tight = await stack.createKey('redis-freeze-tight', TIGHT_LIMIT, true);
  const result = await runPhase({
    name: 'Redis frozen for 5 s',
    stack,
    upstreams,
    paths: ['/a/x', '/b/x'],
    open,
    tight,
    tightLimit: TIGHT_LIMIT,
    async fault() {
      const startMs = Date.now();
      redis.freeze();
      await sleep(5000);
      redis.thaw();
      return { startMs, endMs: Date.now() };
    },
  });
  printPhase(t, result);
  await checkPhase(t, result, { faultStatuses: [503], recoveryBoundMs: 3000 });
});
