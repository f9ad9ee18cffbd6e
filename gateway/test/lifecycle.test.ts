// The gateway as a process (main.ts): it loads keys from the Redis projection, limits with Redis,
// and on SIGTERM stops accepting, finishes the request in flight and exits 0.
import t from 'tap';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { projectionKeys } from '../../contracts/redis-keys.js';
import type { KeyView, TierView } from '../../contracts/feed.js';
import { freePort } from '../../test-support/ports.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { hashApiKey } from '../src/keys/secret-hash.js';
import { startUpstream, type TestUpstream } from './helpers/upstream.js';
import { spawnGateway, type SpawnedGateway } from './helpers/spawn-gateway.js';
import { eventually } from './helpers/eventually.js';
import { tierView, keyView } from '../../test-support/views.js';

const SECRET = 'tg_lifecycleLifecycleLifecycleLifecycle01';
const prefix = uniquePrefix('lifecycle');
const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
let upstream: TestUpstream;
let gateway: SpawnedGateway;
let port: number;
let opsPort: number;

t.before(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume();
    const delayMs = req.url === '/slow' ? 3000 : 0;
    setTimeout(() => res.end(req.url === '/slow' ? 'late' : 'fast'), delayMs);
  });
  // The projection as the control plane publishes it (contracts/feed.ts, redis-keys.ts).
  const keys = projectionKeys(prefix);
  const tier: TierView = tierView({ name: 'basic', limits: [{ window: '1m', limit: 10 }], algorithm: 'sliding_window' });
  const key: KeyView = keyView({ id: 'key_lifecycle', tier: 'basic' });
  await redis.connect();
  await redis
    .multi()
    .hset(keys.tiers, tier.name, JSON.stringify(tier))
    .hset(keys.keys, hashApiKey(SECRET), JSON.stringify(key))
    .hset(keys.meta, 'epoch', 'lifecycle', 'version', '1')
    .exec();
  port = await freePort();
  opsPort = await freePort();
  gateway = spawnGateway(
    {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: upstream.url,
      LOG_LEVEL: 'warn',
      // A busy test machine must not turn a slow limiter answer into fail-open (no rate-limit fields).
      GATEWAY_REDIS_TIMEOUT_MS: '1000',
    },
    process.cwd(),
  );
  const ready = await eventually(
    () =>
      request(`http://127.0.0.1:${opsPort}/readyz`).then(
        async (res) => (await res.body.text(), res.statusCode),
        () => 0,
      ),
    (code) => code === 200,
    90_000,
  );
  if (ready !== 200) throw new Error(`gateway not ready: ${gateway.stderr()}`);
});

t.teardown(async () => {
  if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  await upstream.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

t.test('the gateway process admits a key it loaded from the Redis projection', async (t) => {
  const res = await request(`http://127.0.0.1:${port}/fast`, { headers: { 'x-api-key': SECRET } });
  t.equal(await res.body.text(), 'fast');
  t.equal(res.statusCode, 200);
  t.equal(res.headers['ratelimit-policy'], '"1m";q=10;w=60');
  t.equal(upstream.received.at(-1)?.headers['x-tollgate-key-id'], 'key_lifecycle');
});

function canConnect(target: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(target, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test('SIGTERM lets the request in flight finish, then the process exits 0', { timeout: 60_000 }, async (t) => {
  const before = upstream.received.length;
  const inFlight = request(`http://127.0.0.1:${port}/slow`, { headers: { 'x-api-key': SECRET } });
  await eventually(async () => upstream.received.length, (count) => count > before, 10_000);
  gateway.child.kill('SIGTERM');
  const accepting = await eventually(() => canConnect(port), (open) => !open, 2500);
  t.notOk(accepting, 'new connections are refused while the slow request is still running');
  const res = await inFlight;
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'late');
  t.equal(await gateway.exited, 0);
});
