// GATEWAY_FAILURE_MODE=local with three gateways sharing a Redis of the test's own, each with its
// real heartbeat into the registry: while Redis is gone each enforces floor(limit / 3) in memory and
// says so in Tollgate-Decision: local, so the fleet admits at most the limit; when Redis is back it
// decides alone again, exactly.
import t from 'tap';
import { request } from 'undici';
import { redisGatewayRegistry } from '../../../contracts/gateway-registry.js';
import { createRedisConnection, waitForReady } from '../../../contracts/redis-connection.js';
import { startRedisServer, type RedisServer } from '../../../test-support/redis-server.js';
import { Heartbeat } from '../../src/fleet/heartbeat.js';
import { createLogger } from '../../src/log.js';
import { eventually } from '../helpers/eventually.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { TestKeys } from '../helpers/keys.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const LIMIT = 31;
const keys = new TestKeys().tier('basic', [{ window: '1m', limit: LIMIT }]);
const key = keys.key();
const table = keys.table();

let redis: RedisServer;
let upstream: TestUpstream;
const gateways: TestGateway[] = [];
const heartbeats: Heartbeat[] = [];

t.before(async () => {
  redis = await startRedisServer();
  upstream = await startUpstream();
  const registryRedis = createRedisConnection({ url: redis.url, behaviour: 'patient', connectionName: 'test-registry' });
  registryRedis.on('error', () => {});
  t.teardown(() => registryRedis.disconnect());
  await waitForReady(registryRedis);
  const prefix = `local-mode-${process.pid}`;
  for (let index = 0; index < 3; index += 1) {
    const heartbeat = new Heartbeat({
      registry: redisGatewayRegistry(registryRedis, prefix),
      logger: createLogger('silent'),
      workers: 1,
      applied: () => ({ epoch: 'e', version: 0 }),
      intervalMs: 200,
    });
    heartbeat.start();
    heartbeats.push(heartbeat);
    gateways.push(
      await startTestGateway({
        routes: [route('/', upstream.url, { name: 'default' })],
        keys: () => table,
        redisUrl: redis.url,
        prefix,
        failureMode: 'local',
        redisTimeoutMs: 400,
        liveGateways: () => heartbeat.liveGateways(),
      }),
    );
  }
});

t.teardown(async () => {
  for (const heartbeat of heartbeats) await heartbeat.close();
  for (const gateway of gateways) await gateway.close();
  await upstream.close();
  await redis.stop();
});

interface Tally {
  admitted: number;
  refused: number;
  local: number;
  other: number[];
}

/** `perGateway` requests to each gateway in turn; counts what came back. */
async function send(perGateway: number): Promise<Tally> {
  const tally: Tally = { admitted: 0, refused: 0, local: 0, other: [] };
  for (let round = 0; round < perGateway; round += 1) {
    for (const gateway of gateways) {
      const res = await request(`${gateway.url}/x`, { headers: { 'x-api-key': key.secret } });
      await res.body.text();
      if (res.headers['tollgate-decision'] === 'local') tally.local += 1;
      if (res.statusCode === 200) tally.admitted += 1;
      else if (res.statusCode === 429) tally.refused += 1;
      else tally.other.push(res.statusCode);
    }
  }
  return tally;
}

t.test('every gateway counts three live gateways from the heartbeats', async (t) => {
  const counts = await eventually(async () => heartbeats.map((one) => one.liveGateways()), (live) => live.every((count) => count === 3), 5000);
  t.same(counts, [3, 3, 3]);
});

t.test('during a Redis outage the three gateways together admit no more than the limit, each deciding locally', async (t) => {
  await redis.stop();
  const tally = await send(20);
  t.comment(`Redis down: ${tally.admitted} admitted, ${tally.refused} refused of ${tally.admitted + tally.refused} (limit ${LIMIT}, 3 gateways)`);
  t.same(tally.other, [], 'only 200 and 429');
  t.equal(tally.admitted, 3 * Math.floor(LIMIT / 3), 'each gateway admitted its share, floor(31 / 3) = 10');
  t.ok(tally.admitted <= LIMIT, 'the fleet stayed within the limit');
  t.equal(tally.local, 60, 'every answer says Tollgate-Decision: local');
});

t.test('a locally refused request carries the local share as its limit', async (t) => {
  const res = await request(`${gateways[0]!.url}/x`, { headers: { 'x-api-key': key.secret } });
  const body = (await res.body.json()) as { limit?: { limit?: number } };
  t.equal(res.statusCode, 429);
  t.equal(res.headers['x-ratelimit-limit'], '10');
  t.equal(body.limit?.limit, 10);
});

t.test('once Redis answers again it alone decides, exactly, without the local field', async (t) => {
  await redis.start();
  // The breaker closes after its next successful probe; until then answers stay local.
  await eventually(
    async () => {
      const res = await request(`${gateways[1]!.url}/_gateway/quota`, { headers: { 'x-api-key': key.secret } });
      await res.body.text();
      return res.statusCode;
    },
    (status) => status === 200,
    10_000,
  );
  await eventually(async () => gateways.map((one) => one.store.health.isUp), (up) => up.every(Boolean), 10_000);
  const tally = await send(20);
  t.comment(`Redis back (restarted empty): ${tally.admitted} admitted of ${tally.admitted + tally.refused}`);
  t.equal(tally.admitted, LIMIT, 'exactly the limit across the three gateways');
  t.equal(tally.local, 0, 'no answer is marked local');
  t.same(tally.other, []);
});
