// GET /v1/gateways' answer from the registry and the change history: the lag of each gateway in
// changes and seconds, live or stale by its last heartbeat, live ones first; and the figures the
// metrics report.
import t from 'tap';
import { MemoryGatewayRegistry, type GatewayBeat, type GatewayRegistry } from '../../../contracts/gateway-registry.js';
import { NotFoundError } from '../../src/http/errors.js';
import { createGatewayService, FleetUnavailableError, type ChangeHistory } from '../../src/gateways/service.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');

function beat(id: string, host: string, appliedRevision: number, secondsAgo: number): GatewayBeat {
  return {
    id,
    host,
    version: '0.1.0',
    started_at: '2026-12-07T11:00:00.000Z',
    workers: 2,
    epoch: 'e',
    applied_revision: appliedRevision,
    seen_at_ms: NOW - secondsAgo * 1000,
  };
}

// Changes 8, 9 and 10 made 30, 5 and 1 s ago.
const history: ChangeHistory = { version: 10, times: new Map([[8, NOW - 30_000], [9, NOW - 5_000], [10, NOW - 1_000]]) };

async function serviceWith(entries: GatewayBeat[], changes: ChangeHistory = history) {
  const registry = new MemoryGatewayRegistry();
  for (const entry of entries) await registry.beat(entry);
  return createGatewayService({ registry, changes: async () => changes }, () => NOW);
}

t.test('an up-to-date gateway has no lag', async (t) => {
  const [item] = await (await serviceWith([beat('gw_a', 'a', 10, 1)])).list();
  t.same(item, {
    id: 'gw_a',
    host: 'a',
    version: '0.1.0',
    started_at: '2026-12-07T11:00:00.000Z',
    workers: 2,
    last_seen_at: '2026-12-07T11:59:59.000Z',
    applied_revision: 10,
    lag_revisions: 0,
    lag_seconds: 0,
    state: 'live',
  });
});

t.test('a gateway behind lags by the changes it misses and the age of the oldest of them', async (t) => {
  const [item] = await (await serviceWith([beat('gw_b', 'b', 8, 1)])).list();
  t.equal(item?.lag_revisions, 2);
  t.equal(item?.lag_seconds, 5, 'change 9 has waited 5 s');
});

t.test('a gateway behind the kept history counts from the oldest change kept', async (t) => {
  const [item] = await (await serviceWith([beat('gw_c', 'c', 2, 1)])).list();
  t.equal(item?.lag_revisions, 8);
  t.equal(item?.lag_seconds, 30);
});

t.test('a gateway not heard from for 10 s is stale, and stale ones come after live ones', async (t) => {
  const items = await (await serviceWith([beat('gw_old', 'a', 10, 10), beat('gw_new', 'z', 10, 9.999)])).list();
  t.same(items.map((item) => [item.id, item.state]), [['gw_new', 'live'], ['gw_old', 'stale']]);
});

t.test('the summary counts live and stale gateways and the largest lag of the live ones', async (t) => {
  const service = await serviceWith([beat('gw_1', 'a', 10, 1), beat('gw_2', 'b', 8, 2), beat('gw_3', 'c', 1, 60)]);
  t.same(await service.summary(), { live: 2, stale: 1, maxLagRevisions: 2, maxLagSeconds: 5 });
});

t.test('a registry that cannot be read gives 503 fleet-unavailable', async (t) => {
  const broken: GatewayRegistry = {
    beat: async () => {},
    list: () => Promise.reject(new Error('redis down')),
    remove: async () => {},
  };
  const service = createGatewayService({ registry: broken, changes: async () => history });
  await t.rejects(service.list(), FleetUnavailableError);
});

t.test('a registry that does not answer gives 503 after two seconds instead of hanging', async (t) => {
  const silent: GatewayRegistry = { beat: async () => {}, list: () => new Promise(() => {}), remove: async () => {} };
  const service = createGatewayService({ registry: silent, changes: async () => history });
  await t.rejects(service.list(), { status: 503, code: 'fleet-unavailable' });
});

t.test('forgetting a stale gateway removes it from the list', async (t) => {
  const service = await serviceWith([beat('gw_gone', 'a', 10, 60), beat('gw_here', 'b', 10, 1)]);
  await service.forget('gw_gone');
  t.same((await service.list()).map((item) => item.id), ['gw_here']);
});

t.test('forgetting a live gateway is refused with 409, an unknown one with 404', async (t) => {
  const service = await serviceWith([beat('gw_here', 'b', 10, 1)]);
  await t.rejects(service.forget('gw_here'), { status: 409, code: 'gateway-live' });
  await t.rejects(service.forget('gw_nobody'), NotFoundError);
});
