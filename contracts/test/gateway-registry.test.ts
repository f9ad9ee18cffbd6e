// The registry of running gateways in Redis: one entry per gateway, replaced by each beat; entries
// that do not parse are left out rather than failing the list; live means heard from within 10 s.
import t from 'tap';
import { Redis } from 'ioredis';
import { liveGateways, redisGatewayRegistry, MemoryGatewayRegistry, STALE_AFTER_MS, type GatewayBeat } from '../gateway-registry.js';
import { gatewayRegistryKey } from '../redis-keys.js';
import { uniquePrefix } from '../../test-support/redis-server.js';

const redis = new Redis('redis://127.0.0.1:6379');
t.teardown(() => redis.quit());

function beat(id: string, seenAtMs: number, extra: Partial<GatewayBeat> = {}): GatewayBeat {
  return { id, host: 'h', version: '0.1.0', started_at: new Date(0).toISOString(), workers: 1, epoch: 'e', applied_revision: 3, seen_at_ms: seenAtMs, ...extra };
}

t.test('a beat replaces the gateway’s previous entry and remove drops it', async (t) => {
  const prefix = uniquePrefix('registry');
  t.teardown(() => redis.del(gatewayRegistryKey(prefix)).then(() => {}));
  const registry = redisGatewayRegistry(redis, prefix);
  await registry.beat(beat('gw_a', 1000));
  await registry.beat(beat('gw_a', 3000, { applied_revision: 4 }));
  await registry.beat(beat('gw_b', 2000));
  const listed = (await registry.list()).sort((a, b) => a.id.localeCompare(b.id));
  t.same(listed, [beat('gw_a', 3000, { applied_revision: 4 }), beat('gw_b', 2000)]);
  await registry.remove(['gw_a']);
  t.same((await registry.list()).map((entry) => entry.id), ['gw_b']);
});

t.test('an entry that does not parse is left out of the list', async (t) => {
  const prefix = uniquePrefix('registry-bad');
  t.teardown(() => redis.del(gatewayRegistryKey(prefix)).then(() => {}));
  await redis.hset(gatewayRegistryKey(prefix), 'gw_bad', '{not json', 'gw_wrong', JSON.stringify({ id: 'gw_wrong' }));
  const registry = redisGatewayRegistry(redis, prefix);
  await registry.beat(beat('gw_ok', 1));
  t.same((await registry.list()).map((entry) => entry.id), ['gw_ok']);
});

t.test('live gateways are those heard from within the last 10 s', async (t) => {
  const now = 100_000;
  const entries = [beat('fresh', now - 1), beat('edge', now - STALE_AFTER_MS + 1), beat('stale', now - STALE_AFTER_MS)];
  t.same(liveGateways(entries, now).map((entry) => entry.id), ['fresh', 'edge']);
});

t.test('the in-memory registry keeps copies, not the caller’s objects', async (t) => {
  const registry = new MemoryGatewayRegistry();
  const entry = beat('gw_m', 1);
  await registry.beat(entry);
  entry.applied_revision = 99;
  t.equal((await registry.list())[0]?.applied_revision, 3);
});
