// A gateway tells, at start and in /readyz, when its Redis may evict limits or loses request events
// on a restart; a safe Redis gets no warning; a Redis that will not say is reported as unknown.
import t, { type Test } from 'tap';
import { freePort } from '../../../test-support/ports.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startRedisServer, uniquePrefix, type RedisServer } from '../../../test-support/redis-server.js';
import { eventually } from '../helpers/eventually.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';

/**
 * A gateway process on a Redis started with `redisArgs` (as the user `as`, set up by `prepare`);
 * its /readyz body once it has the settings, and its log.
 */
async function readinessWith(
  t: Test,
  redisArgs: string[],
  prepare?: (redis: RedisServer) => Promise<string>,
): Promise<{ body: Record<string, unknown>; log: () => string }> {
  const redis = await startRedisServer(redisArgs);
  t.teardown(() => redis.stop());
  const url = prepare === undefined ? redis.url : await prepare(redis);
  const opsPort = await freePort();
  const gateway = spawnGateway(
    {
      REDIS_URL: url,
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

t.test('a Redis whose ACL refuses INFO is reported as unknown, not as unsafe', async (t) => {
  const run = promisify(execFile);
  const { body } = await readinessWith(t, [], async (redis) => {
    await run('redis-cli', ['-p', String(redis.port), 'ACL', 'SETUSER', 'gateway', 'on', 'nopass', '~*', '&*', '+@all', '-info']);
    return `redis://gateway:any@127.0.0.1:${redis.port}`;
  });
  t.equal(body.redis_eviction_policy, 'unknown');
  t.equal(body.redis_append_only, null, 'persistence unknown, and not claimed to be off');
  t.notMatch(JSON.stringify(body.warnings ?? []), /append-only/);
});
