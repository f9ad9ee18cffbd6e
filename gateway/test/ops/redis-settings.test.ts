// A gateway tells, at start and in /readyz, when its Redis may evict limits or loses request events
// on a restart; a safe Redis gets no warning.
import t, { type Test } from 'tap';
import { freePort } from '../../../test-support/ports.js';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { eventually } from '../helpers/eventually.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';

/** A gateway process on a Redis started with `redisArgs`; its /readyz body once ready, and its log. */
async function readinessWith(t: Test, redisArgs: string[]): Promise<{ body: Record<string, unknown>; log: () => string }> {
  const redis = await startRedisServer(redisArgs);
  t.teardown(() => redis.stop());
  const opsPort = await freePort();
  const gateway = spawnGateway(
    {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniquePrefix('settings'),
      GATEWAY_PORT: String(await freePort()),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: 'http://127.0.0.1:9',
      LOG_LEVEL: 'warn',
    },
    process.cwd(),
  );
  t.teardown(async () => {
    gateway.child.kill('SIGKILL');
    await gateway.exited;
  });
  // No projection in this Redis: the gateway is not ready, but /readyz answers with its detail.
  const body = await eventually(
    () => fetch(`http://127.0.0.1:${opsPort}/readyz`).then((res) => res.json() as Promise<Record<string, unknown>>, () => ({})),
    (value) => 'redis_eviction_policy' in value,
    20_000,
  );
  return { body, log: () => gateway.stdout() };
}

t.test('a Redis that may evict keys and keeps no append-only file is reported in /readyz and the log', async (t) => {
  const { body, log } = await readinessWith(t, ['--maxmemory-policy', 'allkeys-lru']);
  t.equal(body.redis_eviction_policy, 'allkeys-lru');
  t.equal(body.redis_append_only, false);
  t.match(body.warnings, [/maxmemory-policy allkeys-lru may evict limits/, /without its append-only file/]);
  await eventually(async () => log(), (text) => text.includes('redis settings'), 5000);
  t.match(log(), /maxmemory-policy is allkeys-lru: limits may be evicted/);
});

t.test('a Redis with noeviction and its append-only file gets no warning', async (t) => {
  const { body } = await readinessWith(t, ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes']);
  t.equal(body.redis_eviction_policy, 'noeviction');
  t.equal(body.redis_append_only, true);
  t.equal(body.warnings, undefined);
});
