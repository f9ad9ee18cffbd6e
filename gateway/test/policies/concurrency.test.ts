// Concurrency caps: at most N requests of one key in flight across every gateway. The slot is taken
// with the rate decision and comes back when the response ends, the client leaves, the upstream
// fails, or — for a gateway that died holding it — when its lease runs out.
import t, { type Test } from 'tap';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { freePort } from '../../../test-support/ports.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { keyView, tierView } from '../../../test-support/views.js';
import { buildKeyTable } from '../../src/keys/cache.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
import { eventually } from '../helpers/eventually.js';
import { TestKeys, type TestKey } from '../helpers/keys.js';
import { route, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const CAP = 3;
const keys = new TestKeys().tier('capped', [{ window: '1m', limit: 1000 }], 'sliding_window', { concurrency: CAP });
const spare = Array.from({ length: 6 }, () => keys.key({ tier: 'capped' }));
const table = keys.table();
let nextKey = 0;
function freshKey(): TestKey {
  const key = spare[nextKey];
  nextKey += 1;
  if (key === undefined) throw new Error('add keys to the table');
  return key;
}

/** The upstream holds /hold requests until released, resets /fail, answers the rest at once. */
const held: ServerResponse[] = [];
function releaseHeld(): void {
  for (const res of held.splice(0)) res.end('released');
}
let upstream: TestUpstream;
t.before(async () => {
  upstream = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.startsWith('/hold')) held.push(res);
    else if (req.url?.startsWith('/fail')) req.socket.destroy();
    else if (req.url?.startsWith('/slow')) setTimeout(() => res.end('slow'), Number(req.url.split('/')[2] ?? 0));
    else res.end('ok');
  });
});
t.teardown(async () => {
  releaseHeld();
  await upstream.close();
});

async function gateways(t: Test, count: number, config: Record<string, unknown> = {}): Promise<TestGateway[]> {
  const prefix = uniquePrefix('concurrency');
  const started: TestGateway[] = [];
  for (let i = 0; i < count; i += 1) {
    const gw = await startTestGateway({ routes: [route('/', upstream.url)], keys: () => table, prefix, config });
    t.teardown(() => gw.close());
    started.push(gw);
  }
  return started;
}

async function send(gw: TestGateway, path: string, secret: string, signal?: AbortSignal) {
  const res = await request(`${gw.url}${path}`, { headers: { 'x-api-key': secret }, signal });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text.startsWith('{') ? JSON.parse(text) : text };
}

async function inFlight(gw: TestGateway, secret: string): Promise<number> {
  return (await send(gw, '/_gateway/quota', secret)).body.concurrency.in_flight as number;
}

function untilHeld(count: number): Promise<number> {
  return eventually(async () => held.length, (n) => n >= count, 5000);
}

t.test(`${CAP + 5} slow requests over two gateways: exactly ${CAP} get through, the rest are refused by the cap`, async (t) => {
  const [a, b] = (await gateways(t, 2)) as [TestGateway, TestGateway];
  const key = freshKey();
  const answers = Array.from({ length: CAP + 5 }, (_, i) => send(i % 2 === 0 ? a : b, '/hold', key.secret));
  const refused = await eventually(
    async () => (await Promise.all(answers.map((answer) => Promise.race([answer, Promise.resolve(null)])))).filter((one) => one !== null),
    (done) => done.length >= 5,
    5000,
  );
  t.equal(await untilHeld(CAP), CAP, `${CAP} reached the upstream`);
  t.equal(refused.length, 5);
  for (const one of refused) {
    t.equal(one?.status, 429);
    t.match(one?.body, { type: /\/concurrency-limited$/, limit: { name: 'concurrency', limit: CAP, remaining: 0 } });
    t.equal(one?.headers['retry-after'], '1', 'a short retry, not a guess');
  }
  releaseHeld();
  const all = await Promise.all(answers);
  t.equal(all.filter((one) => one.status === 200).length, CAP);
});

t.test('slots come back when responses end: the next burst again gets the whole cap', async (t) => {
  const [gw] = (await gateways(t, 1)) as [TestGateway];
  const key = freshKey();
  for (let round = 0; round < 2; round += 1) {
    const answers = Array.from({ length: CAP + 1 }, () => send(gw, '/hold', key.secret));
    await untilHeld(CAP);
    releaseHeld();
    t.equal((await Promise.all(answers)).filter((one) => one.status === 200).length, CAP, `round ${round + 1}`);
    t.equal(await eventually(() => inFlight(gw, key.secret), (n) => n === 0, 3000), 0, 'every slot released');
  }
});

t.test('slots come back when clients go away before the upstream answers', async (t) => {
  const [gw] = (await gateways(t, 1)) as [TestGateway];
  const key = freshKey();
  const abort = new AbortController();
  const answers = Array.from({ length: CAP }, () => send(gw, '/hold', key.secret, abort.signal).catch(() => null));
  await untilHeld(CAP);
  t.equal(await inFlight(gw, key.secret), CAP);
  abort.abort();
  await Promise.all(answers);
  t.equal(await eventually(() => inFlight(gw, key.secret), (n) => n === 0, 3000), 0);
  releaseHeld();
});

t.test('slots come back when the upstream fails', async (t) => {
  const [gw] = (await gateways(t, 1)) as [TestGateway];
  const key = freshKey();
  const answers = await Promise.all(Array.from({ length: CAP }, () => send(gw, '/fail', key.secret)));
  t.same(answers.map((one) => one.status), Array.from({ length: CAP }, () => 502));
  t.equal(await eventually(() => inFlight(gw, key.secret), (n) => n === 0, 3000), 0);
  t.equal((await send(gw, '/ok', key.secret)).status, 200);
});

t.test('a request running longer than the lease keeps its slot: it is renewed', async (t) => {
  const [gw] = (await gateways(t, 1, { concurrencyLeaseMs: 1000 })) as [TestGateway];
  const key = freshKey();
  const long = send(gw, '/slow/2500', key.secret);
  const others = Array.from({ length: CAP - 1 }, () => send(gw, '/slow/2500', key.secret));
  await new Promise((resolve) => setTimeout(resolve, 1800));
  t.equal(await inFlight(gw, key.secret), CAP, 'all still held at 1.8 s, past their first lease');
  t.equal((await send(gw, '/ok', key.secret)).status, 429);
  t.equal((await long).status, 200);
  await Promise.all(others);
});

t.test('a gateway killed while holding slots cannot keep them past the lease', async (t) => {
  const prefix = uniquePrefix('concurrency-kill');
  const redis = new Redis('redis://127.0.0.1:6379');
  t.teardown(async () => {
    const stale = await redis.keys(`${prefix}*`);
    if (stale.length > 0) await redis.del(...stale);
    redis.disconnect();
  });
  const secret = 'tg_concurrencyKillConcurrencyKill0001';
  const tier = tierView({ name: 'capped', limits: [{ window: '1m', limit: 1000 }], concurrency: 2 });
  const key = keyView({ id: 'key_killed', tier: 'capped' });
  const projection = projectionKeys(prefix);
  await redis
    .multi()
    .hset(projection.tiers, tier.name, JSON.stringify(tier))
    .hset(projection.keys, hashApiKey(secret), JSON.stringify(key))
    .hset(projection.meta, 'epoch', 'kill', 'version', '1')
    .exec();
  const [port, opsPort] = [await freePort(), await freePort()];
  const doomed = spawnGateway(
    {
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: upstream.url,
      GATEWAY_CONCURRENCY_LEASE_MS: '2000',
      GATEWAY_REDIS_TIMEOUT_MS: '1000',
      LOG_LEVEL: 'warn',
    },
    process.cwd(),
  );
  t.teardown(() => {
    if (doomed.child.exitCode === null) doomed.child.kill('SIGKILL');
  });
  const ready = await eventually(
    () => request(`http://127.0.0.1:${opsPort}/readyz`).then(async (res) => (await res.body.text(), res.statusCode), () => 0),
    (code) => code === 200,
    90_000,
  );
  t.equal(ready, 200, doomed.stderr());
  // A second gateway on the same Redis, knowing the same key.
  const survivorTable = buildKeyTable({ keys: new Map([[hashApiKey(secret), key]]), tiers: new Map([[tier.name, tier]]), version: 1, epoch: 'kill' });
  const survivor = await startTestGateway({ routes: [route('/', upstream.url)], keys: () => survivorTable, prefix, config: { concurrencyLeaseMs: 2000 } });
  t.teardown(() => survivor.close());
  const viaDoomed = (path: string) => request(`http://127.0.0.1:${port}${path}`, { headers: { 'x-api-key': secret } });
  const holding = [viaDoomed('/hold').catch(() => null), viaDoomed('/hold').catch(() => null)];
  await untilHeld(2);
  doomed.child.kill('SIGKILL');
  await doomed.exited;
  releaseHeld();
  await Promise.all(holding);
  t.equal((await send(survivor, '/ok', secret)).status, 429, 'the dead gateway never released its two slots');
  const admitted = await eventually(async () => (await send(survivor, '/ok', secret)).status, (status) => status === 200, 5000);
  t.equal(admitted, 200, 'another gateway admits the key again once the lease (2 s) has run out');
});
