// A gateway started seconds before, hit by 2000 simultaneous requests while Redis is healthy: its
// own CPU is saturated and checks wait in its queue, but that is not a Redis outage. It must admit
// exactly the limit (no fail-open), count no store error, and answer reads without 503s.
import t, { type Test } from 'tap';
import { request as httpRequest, Agent } from 'node:http';
import { Redis } from 'ioredis';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { freePort } from '../../../test-support/ports.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../../../test-support/redis-server.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
import { eventually } from '../helpers/eventually.js';
import { spawnGateway, type SpawnedGateway } from '../helpers/spawn-gateway.js';
import { startUpstream } from '../helpers/upstream.js';
import { tierView, keyView } from '../../../test-support/views.js';

const BURST = 2000;
const LIMIT = 20;
// A Redis of this file's own: what is measured is the gateway under its own load, not a Redis the
// other test files keep busy at the same time.
let server: RedisServer;
let redis: Redis;
t.before(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});
t.teardown(async () => {
  await redis.quit();
  await server.stop();
});

/** Status codes of `count` requests sent at once, each on its own connection. */
function burst(url: string, secret: string, count: number): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const one = (): Promise<number> =>
    new Promise((resolve) => {
      const req = httpRequest(url, { agent, headers: { 'x-api-key': secret } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(-1));
      req.end();
    });
  return Promise.all(Array.from({ length: count }, one)).then((codes) => {
    agent.destroy();
    const tally = new Map<number, number>();
    for (const code of codes) tally.set(code, (tally.get(code) ?? 0) + 1);
    return tally;
  });
}

async function storeErrors(opsUrl: string): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  return Number(/^tollgate_gateway_store_errors_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** A fresh gateway process on the production defaults (GATEWAY_REDIS_TIMEOUT_MS 100), ready. */
async function coldGateway(t: Test, prefix: string, upstreamUrl: string): Promise<{ url: string; opsUrl: string }> {
  const port = await freePort();
  const opsPort = await freePort();
  const gateway: SpawnedGateway = spawnGateway(
    {
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: upstreamUrl,
      GATEWAY_REQUEST_LOG: 'off',
      LOG_LEVEL: 'warn',
    },
    process.cwd(),
  );
  t.teardown(async () => {
    gateway.child.kill('SIGKILL');
    await gateway.exited;
  });
  const opsUrl = `http://127.0.0.1:${opsPort}`;
  const ready = await eventually(
    () => fetch(`${opsUrl}/readyz`).then((res) => res.status, () => 0),
    (status) => status === 200,
    30_000,
  );
  if (ready !== 200) throw new Error(`gateway not ready: ${gateway.stderr()}`);
  return { url: `http://127.0.0.1:${port}/`, opsUrl };
}

/** One tier of LIMIT per minute and `count` keys of it, in the projection the gateways load. */
async function seedKeys(prefix: string, count: number): Promise<string[]> {
  const keys = projectionKeys(prefix);
  const tier: TierView = tierView({ name: 'burst', limits: [{ window: '1m', limit: LIMIT }], algorithm: 'sliding_window' });
  const secrets = Array.from({ length: count }, (_, i) => `tg_coldBurstColdBurstColdBurst${String(i).padStart(4, '0')}`);
  const multi = redis.multi().hset(keys.tiers, tier.name, JSON.stringify(tier));
  secrets.forEach((secret, i) => {
    const view: KeyView = keyView({ id: `key_burst_${i}`, tier: 'burst' });
    multi.hset(keys.keys, hashApiKey(secret), JSON.stringify(view));
  });
  await multi.hset(keys.meta, 'epoch', 'burst', 'version', '1').exec();
  return secrets;
}

t.test('five cold gateways in a row each admit exactly the limit of a 2000-request burst, with no store error', async (t) => {
  const upstream = await startUpstream((req, res) => {
    req.resume();
    res.end('ok');
  });
  t.teardown(() => upstream.close());
  for (let run = 1; run <= 5; run += 1) {
    const prefix = uniquePrefix(`cold-burst-${run}`);
    const [secret] = await seedKeys(prefix, 1);
    const gateway = await coldGateway(t, prefix, upstream.url);
    const codes = await burst(gateway.url, secret as string, BURST);
    t.equal(codes.get(200), LIMIT, `run ${run}: exactly ${LIMIT} admitted (${JSON.stringify([...codes])})`);
    t.equal(codes.get(429), BURST - LIMIT, `run ${run}: every other request refused with 429`);
    t.equal(await storeErrors(gateway.opsUrl), 0, `run ${run}: no store error while Redis is healthy`);
  }
});

t.test('500 simultaneous quota reads on a warm gateway are all answered', async (t) => {
  const upstream = await startUpstream((req, res) => {
    req.resume();
    res.end('ok');
  });
  t.teardown(() => upstream.close());
  const prefix = uniquePrefix('quota-burst');
  const [secret] = await seedKeys(prefix, 1);
  const gateway = await coldGateway(t, prefix, upstream.url);
  await burst(gateway.url, secret as string, 50);
  const quotaUrl = gateway.url.replace(/\/$/, '/_gateway/quota');
  const codes = await burst(quotaUrl, secret as string, 500);
  t.same([...codes], [[200, 500]], 'every read answered 200');
  t.equal(await storeErrors(gateway.opsUrl), 0);
});
