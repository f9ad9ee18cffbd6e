// GATEWAY_WORKERS=2 as a real process group: two workers share the public port and one limit (they
// share Redis), the ops port answers for both (one /metrics, /readyz only when both are ready), the
// group heartbeats once, a worker that dies is replaced, and SIGTERM drains them all.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';
import { gatewayRegistryKey, projectionKeys } from '../../../contracts/redis-keys.js';
import { freePort } from '../../../test-support/ports.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { keyView, tierView } from '../../../test-support/views.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
import { eventually, metricValue } from '../helpers/eventually.js';
import { spawnGateway, type SpawnedGateway } from '../helpers/spawn-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const SECRET = 'tg_workersWorkersWorkersWorkersWorkers0001';
/** A second key, with its own quota, for the request in flight at SIGTERM. */
const DRAIN_SECRET = 'tg_workersWorkersWorkersWorkersWorkers0002';
const LIMIT = 40;
const prefix = uniquePrefix('workers');
const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
let upstream: TestUpstream;
let gateway: SpawnedGateway;
let port: number;
let opsPort: number;

async function readyz(): Promise<{ status: number; body: Record<string, unknown> }> {
  return request(`http://127.0.0.1:${opsPort}/readyz`).then(
    async (res) => ({ status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> }),
    () => ({ status: 0, body: {} }),
  );
}

async function metrics(): Promise<string> {
  const res = await request(`http://127.0.0.1:${opsPort}/metrics`);
  return res.body.text();
}

/** The pids of the primary's workers: its children running the gateway's main module (not, say,
 * the TypeScript loader's compiler service). */
function workerPids(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(gateway.child.pid), '-f', 'gateway/src/main'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

t.before(async () => {
  upstream = await startUpstream((req, res) => {
    req.resume();
    setTimeout(() => res.end(req.url === '/slow' ? 'late' : 'fast'), req.url === '/slow' ? 1500 : 0);
  });
  const keys = projectionKeys(prefix);
  await redis.connect();
  await redis
    .multi()
    .hset(keys.tiers, 'basic', JSON.stringify(tierView({ name: 'basic', limits: [{ window: '1m', limit: LIMIT }], algorithm: 'sliding_window' })))
    .hset(keys.keys, hashApiKey(SECRET), JSON.stringify(keyView({ id: 'key_workers', tier: 'basic' })))
    .hset(keys.keys, hashApiKey(DRAIN_SECRET), JSON.stringify(keyView({ id: 'key_drain', tier: 'basic' })))
    .hset(keys.meta, 'epoch', 'workers', 'version', '7')
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
      GATEWAY_WORKERS: '2',
      GATEWAY_REDIS_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    process.cwd(),
  );
  const ready = await eventually(readyz, (answer) => answer.status === 200, 90_000);
  if (ready.status !== 200) throw new Error(`gateway not ready: ${gateway.stderr()}`);
});

t.teardown(async () => {
  if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
  for (const pid of workerPids()) process.kill(pid, 'SIGKILL');
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await upstream.close();
});

t.test('readiness counts both workers', async (t) => {
  const { status, body } = await readyz();
  t.equal(status, 200);
  t.match(body, { status: 'ready', workers: 2, workers_ready: 2, store: 'redis', redis: 'up', keys: 'loaded' });
});

t.test('two worker processes serve the public port', async (t) => {
  const pids = workerPids();
  t.equal(pids.length, 2, pids.length === 2 ? `workers ${pids.join(', ')}` : `workers ${pids.join(', ')}; the group's log:\n${gateway.stdout()}${gateway.stderr()}`);
});

t.test('the workers share one limit: across many connections exactly the limit is admitted', async (t) => {
  // A connection per request, so the primary hands them to both workers in turn.
  const statuses: number[] = [];
  for (let index = 0; index < LIMIT + 10; index += 1) {
    const agent = new Agent({ pipelining: 0 });
    const res = await request(`http://127.0.0.1:${port}/x`, { headers: { 'x-api-key': SECRET }, dispatcher: agent });
    await res.body.text();
    statuses.push(res.statusCode);
    await agent.close();
  }
  t.equal(statuses.filter((code) => code === 200).length, LIMIT);
  t.equal(statuses.filter((code) => code === 429).length, 10);
});

t.test('one /metrics sums the workers’ counters', async (t) => {
  const text = await metrics();
  t.equal(metricValue(text, 'tollgate_gateway_requests_total{route="default",method="GET",code="200"}'), LIMIT);
  t.equal(metricValue(text, 'tollgate_gateway_requests_total{route="default",method="GET",code="429"}'), 10);
  t.equal(metricValue(text, 'tollgate_gateway_workers'), 2);
  t.equal(metricValue(text, 'tollgate_gateway_redis_up'), 1, 'a gauge merged, not summed');
  t.equal(metricValue(text, 'tollgate_gateway_config_version'), 7);
  t.equal(metricValue(text, 'tollgate_gateway_active_keys{tier="basic"}'), 2, 'both workers hold the same two keys');
});

t.test('the group writes one heartbeat with its workers and applied revision', async (t) => {
  const entries = await eventually(async () => Object.values(await redis.hgetall(gatewayRegistryKey(prefix))), (all) => all.length === 1 && JSON.parse(all[0]!).applied_revision === 7, 5000);
  t.match(JSON.parse(entries[0] ?? '{}'), { workers: 2, applied_revision: 7, epoch: 'workers' });
});

t.test('a worker killed with SIGKILL is replaced and the group is ready again', async (t) => {
  const [victim] = workerPids();
  process.kill(victim!, 'SIGKILL');
  const pids = await eventually(async () => workerPids(), (now) => now.length === 2 && !now.includes(victim!), 20_000);
  t.equal(pids.length, 2);
  t.notOk(pids.includes(victim!), 'a new process');
  const ready = await eventually(readyz, (answer) => answer.status === 200, 20_000);
  t.equal(ready.status, 200);
  t.equal(metricValue(await metrics(), 'tollgate_gateway_worker_restarts_total'), 1);
});

t.test('SIGTERM drains every worker: the request in flight finishes, then the group exits 0', async (t) => {
  const inFlight = request(`http://127.0.0.1:${port}/slow`, { headers: { 'x-api-key': DRAIN_SECRET } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const workers = workerPids();
  gateway.child.kill('SIGTERM');
  const res = await inFlight;
  t.equal(res.statusCode, 200);
  t.equal(await res.body.text(), 'late');
  t.equal(await gateway.exited, 0);
  for (const pid of workers) {
    t.throws(() => process.kill(pid, 0), 'worker gone');
  }
  t.equal(await redis.hlen(gatewayRegistryKey(prefix)), 0, 'the group left the registry');
});
