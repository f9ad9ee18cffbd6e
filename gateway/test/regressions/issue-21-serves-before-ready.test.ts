// Found by the fault suite (test/faults, gateways rolled under load): a gateway that is starting
// accepts requests on its public port before it is ready, and answers valid keys 401 (the key
// table is not loaded yet) or 503 (its limiter connection is not up yet). Behind a load balancer
// that sends traffic as soon as the port accepts (nginx in the compose stack), every restart of a
// gateway turns into wrong answers for clients holding valid keys. Fixed: the public port is opened
// only once the key table is loaded and the limiter is connected (the ops port answers before).
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { Redis } from 'ioredis';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { freePort } from '../../../test-support/ports.js';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { keyView, tierView } from '../../../test-support/views.js';
import { hashApiKey } from '../../src/keys/secret-hash.js';
import { spawnGateway } from '../helpers/spawn-gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const OTHER_KEYS = 20_000;
const ANSWERS = 200;

const server = await startRedisServer();
const redis = new Redis(server.url);
t.teardown(async () => {
  await redis.quit();
  await server.stop();
});

/** The status of one request, or 0 when the port refused the connection. */
function statusOf(url: string, secret: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { headers: { 'x-api-key': secret }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

t.test('a starting gateway answers a valid key 200 from its first answer on', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const prefix = uniquePrefix('serves-before-ready');
  const keys = projectionKeys(prefix);
  const secret = 'tg_servesBeforeReadyServesBeforeReady01';
  // A large key table makes the time between listening and having it loaded long enough to see.
  const multi = redis.multi().hset(keys.tiers, 'open', JSON.stringify(tierView({ name: 'open', limits: [{ window: '1h', limit: 1_000_000 }] })));
  multi.hset(keys.keys, hashApiKey(secret), JSON.stringify(keyView({ id: 'key_ready', tier: 'open' })));
  for (let i = 0; i < OTHER_KEYS; i += 1) multi.hset(keys.keys, hashApiKey(`tg_other${i}`), JSON.stringify(keyView({ id: `key_other${i}`, tier: 'open' })));
  await multi.hset(keys.meta, 'epoch', 'ready', 'version', '1').exec();

  const port = await freePort();
  const gateway = spawnGateway(
    {
      REDIS_URL: server.url,
      REDIS_KEY_PREFIX: prefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(await freePort()),
      GATEWAY_UPSTREAM: upstream.url,
      GATEWAY_FAILURE_MODE: 'closed',
      GATEWAY_REQUEST_LOG: 'off',
      LOG_LEVEL: 'warn',
    },
    process.cwd(),
  );
  t.teardown(async () => {
    gateway.child.kill('SIGKILL');
    await gateway.exited;
  });
  // Knock from the moment the process starts until it has answered ANSWERS requests.
  const statuses = new Map<number, number>();
  let answered = 0;
  const deadline = Date.now() + 30_000;
  while (answered < ANSWERS && Date.now() < deadline) {
    const status = await statusOf(`http://127.0.0.1:${port}/`, secret);
    if (status === 0) continue;
    answered += 1;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  t.same([...statuses], [[200, ANSWERS]], 'every answer is 200');
});
