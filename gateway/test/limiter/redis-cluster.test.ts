import t from 'tap';
import { Redis } from 'ioredis';
import { createRedisConnection, parseRedisNodes, waitForReady } from '../../../contracts/redis-connection.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { startRedisCluster, uniquePrefix } from '../../../test-support/redis-server.js';
import { admitted, checkFor } from './store-behaviour.js';
import { consumeOnce, peekOnce } from '../helpers/store-calls.js';

t.test('the scripts run on a Redis Cluster, each API key in one slot and the keys spread over slots', async (t) => {
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.stop());
  const client = createRedisConnection({ clusterNodes: parseRedisNodes(cluster.nodes), behaviour: 'fail-fast', connectionName: 'test' });
  client.on('error', () => {});
  t.teardown(() => client.quit());
  await waitForReady(client);
  const prefix = uniquePrefix('cluster');
  const store = new RedisStore({ client, prefix, timeoutMs: 2000 });

  const checks = Array.from({ length: 6 }, (_, i) =>
    checkFor(i % 2 ? 'sliding_log' : 'sliding_window', [
      { window: '1m', limit: 4 },
      { window: '1h', limit: 10 },
    ]),
  );
  // One turn, many keys: the store groups the batch by API key, so no call crosses a slot.
  const replies = await Promise.all(checks.flatMap((check) => Array.from({ length: 9 }, () => consumeOnce(store, check))));
  t.equal(admitted(replies), 6 * 4, 'each key admits exactly its limit');
  for (const check of checks) t.same((await peekOnce(store, check)).remaining, [0, 6]);

  const admin = new Redis(cluster.ports[0] ?? 0, '127.0.0.1');
  t.teardown(() => admin.quit());
  const slotsOfKeys = new Set<number>();
  for (const check of checks) {
    const keys: string[] = [];
    for (const port of cluster.ports) {
      const node = new Redis(port, '127.0.0.1');
      keys.push(...(await node.keys(`${prefix}:{${check.subject}}:*`)));
      await node.quit();
    }
    t.equal(keys.length, check.algorithm === 'sliding_log' ? 3 : 2, `${check.subject} has its keys`);
    const slots = new Set(await Promise.all(keys.map(async (key) => Number(await admin.cluster('KEYSLOT', key)))));
    t.equal(slots.size, 1, `every Redis key of ${check.subject} is in one slot`);
    for (const slot of slots) slotsOfKeys.add(slot);
  }
  t.ok(slotsOfKeys.size > 1, `the API keys land in ${slotsOfKeys.size} different slots`);
});
