// The heartbeat: what a gateway writes about itself, how it counts live gateways, what it does when
// the registry fails, and that it leaves the registry when it stops.
import t from 'tap';
import { hostname } from 'node:os';
import { FORGET_AFTER_MS, MemoryGatewayRegistry, type GatewayBeat, type GatewayRegistry } from '../../../contracts/gateway-registry.js';
import { TOLLGATE_VERSION } from '../../../contracts/version.js';
import { Heartbeat } from '../../src/fleet/heartbeat.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../helpers/eventually.js';

const logger = createLogger('silent');

function other(id: string, seenAtMs: number): GatewayBeat {
  return { id, host: 'elsewhere', version: TOLLGATE_VERSION, started_at: new Date(0).toISOString(), workers: 1, epoch: 'e', applied_revision: 0, seen_at_ms: seenAtMs };
}

t.test('a beat writes who the gateway is and the configuration it applied', async (t) => {
  const registry = new MemoryGatewayRegistry();
  const heartbeat = new Heartbeat({ registry, logger, workers: 4, applied: () => ({ epoch: 'ep1', version: 17 }), now: () => 1_000_000 });
  await heartbeat.beat();
  const [entry] = await registry.list();
  t.match(entry, {
    id: heartbeat.id,
    host: hostname(),
    version: TOLLGATE_VERSION,
    started_at: new Date(1_000_000).toISOString(),
    workers: 4,
    epoch: 'ep1',
    applied_revision: 17,
    seen_at_ms: 1_000_000,
  });
  t.match(heartbeat.id, /^gw_[A-Za-z0-9_-]{12}$/);
});

t.test('live gateways are counted from the registry, this one included, stale ones not', async (t) => {
  const registry = new MemoryGatewayRegistry();
  const now = 5_000_000;
  await registry.beat(other('gw_live', now - 3_000));
  await registry.beat(other('gw_stale', now - 30_000));
  const heard: number[] = [];
  const heartbeat = new Heartbeat({ registry, logger, workers: 1, applied: () => ({ epoch: 'e', version: 0 }), now: () => now, onLive: (live) => heard.push(live) });
  t.equal(heartbeat.liveGateways(), 1, 'alone before the first beat');
  await heartbeat.beat();
  t.equal(heartbeat.liveGateways(), 2);
  t.same(heard, [2], 'the count is passed on');
});

t.test('when the registry fails the last count of live gateways stands', async (t) => {
  const memory = new MemoryGatewayRegistry();
  let failing = false;
  const registry: GatewayRegistry = {
    beat: (entry) => (failing ? Promise.reject(new Error('redis down')) : memory.beat(entry)),
    list: () => (failing ? Promise.reject(new Error('redis down')) : memory.list()),
    remove: (ids) => memory.remove(ids),
  };
  await memory.beat(other('gw_1', Date.now()));
  await memory.beat(other('gw_2', Date.now()));
  const heartbeat = new Heartbeat({ registry, logger, workers: 1, applied: () => ({ epoch: 'e', version: 0 }) });
  await heartbeat.beat();
  t.equal(heartbeat.liveGateways(), 3);
  failing = true;
  await heartbeat.beat();
  t.equal(heartbeat.liveGateways(), 3);
});

t.test('gateways not heard from for a day are removed from the registry', async (t) => {
  const registry = new MemoryGatewayRegistry();
  const now = 10 * FORGET_AFTER_MS;
  await registry.beat(other('gw_gone', now - FORGET_AFTER_MS - 1));
  await registry.beat(other('gw_stale', now - 60_000));
  const heartbeat = new Heartbeat({ registry, logger, workers: 1, applied: () => ({ epoch: 'e', version: 0 }), now: () => now });
  await heartbeat.beat();
  t.same((await registry.list()).map((entry) => entry.id).sort(), ['gw_stale', heartbeat.id].sort());
});

t.test('a started heartbeat beats on its interval and closing removes its entry', async (t) => {
  const registry = new MemoryGatewayRegistry();
  let version = 0;
  const heartbeat = new Heartbeat({ registry, logger, workers: 1, applied: () => ({ epoch: 'e', version: (version += 1) }), intervalMs: 20 });
  heartbeat.start();
  const beats = await eventually(async () => (await registry.list())[0]?.applied_revision ?? 0, (count) => count >= 3, 10_000);
  t.ok(beats >= 3, `beat ${beats} times`);
  await heartbeat.close();
  t.same(await registry.list(), []);
});
