// Configuration: routes files in JSON and YAML, defaults, .env, and one spawned process per
// invalid setting asserting the exact one-line message and exit code 1.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { spawnGateway, type SpawnedGateway } from './helpers/spawn-gateway.js';
import { removeDir } from '../../test-support/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-'));
t.teardown(() => removeDir(dir));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const UPSTREAM = { GATEWAY_UPSTREAM: 'http://127.0.0.1:3000' };

t.test('defaults apply when only GATEWAY_UPSTREAM is set', async (t) => {
  const config = loadConfig(UPSTREAM);
  t.equal(config.redisUrl, 'redis://127.0.0.1:6379');
  t.equal(config.redisKeyPrefix, 'tg');
  t.equal(config.port, 8080);
  t.equal(config.opsPort, 9080);
  t.equal(config.failureMode, 'open');
  t.equal(config.upstreamTimeoutMs, 30000);
  t.equal(config.redisTimeoutMs, 100);
  t.equal(config.logLevel, 'info');
  t.equal(config.requestLog, true);
  t.same(config.routes, [{ name: 'default', prefix: '/', upstream: 'http://127.0.0.1:3000', stripPrefix: false, cost: 1 }]);
  t.equal(config.host, undefined, 'the public port on every interface');
  t.equal(config.opsHost, '127.0.0.1', 'the ops port on loopback only');
  t.equal(config.upstreamBodyTimeoutMs, 60_000);
  t.equal(config.clientBodyTimeoutMs, 30_000);
  t.equal(config.maxBodyBytes, undefined);
  t.same(config.trustedProxies?.entries, []);
  t.ok(Object.isFrozen(config));
});

t.test('a YAML routes file is read with its defaults', async (t) => {
  const path = file(
    'routes.yaml',
    'routes:\n  - prefix: /orders\n    upstream: http://127.0.0.1:3000/\n  - prefix: /search\n    upstream: http://127.0.0.1:3001/v1\n    strip_prefix: true\n    cost: 5\n    name: search\n',
  );
  t.same(loadConfig({ GATEWAY_ROUTES_FILE: path }).routes, [
    { name: '/orders', prefix: '/orders', upstream: 'http://127.0.0.1:3000', stripPrefix: false, cost: 1, limits: null, auth: 'key', limitBy: null },
    { name: 'search', prefix: '/search', upstream: 'http://127.0.0.1:3001/v1', stripPrefix: true, cost: 5, limits: null, auth: 'key', limitBy: null },
  ]);
});

t.test("a route's limits are named after the route, its prefix when it has no name", async (t) => {
  const path = file(
    'limited.yaml',
    'routes:\n  - prefix: /reports\n    upstream: http://127.0.0.1:3000\n    limits:\n      - { window: 1m, limit: 10 }\n  - prefix: /search\n    name: search\n    upstream: http://127.0.0.1:3000\n    limits: [{ window: 1h, limit: 100 }, { window: 1m, limit: 5 }]\n',
  );
  const [reports, search] = loadConfig({ GATEWAY_ROUTES_FILE: path }).routes;
  t.same(reports?.limits?.map((limit) => limit.name), ['/reports:1m']);
  t.same(search?.limits?.map((limit) => [limit.name, limit.limit]), [
    ['search:1m', 5],
    ['search:1h', 100],
  ]);
});

t.test('a keyless route limited by client address carries its own algorithm and time zone', async (t) => {
  const path = file(
    'keyless.yaml',
    'routes:\n  - prefix: /signup\n    upstream: http://127.0.0.1:3000\n    auth: none\n    limit_by: client_ip\n    algorithm: gcra\n    timezone: Europe/Paris\n    limits: [{ window: 1m, limit: 5, burst: 2 }]\n  - prefix: /status\n    upstream: http://127.0.0.1:3000\n    auth: none\n',
  );
  const [signup, status] = loadConfig({ GATEWAY_ROUTES_FILE: path }).routes;
  t.match(signup, { auth: 'none', limitBy: 'client_ip', algorithm: 'gcra', timezone: 'Europe/Paris' });
  t.match(signup?.limits?.[0], { name: '/signup:1m', burst: 2 });
  t.match(status, { auth: 'none', limitBy: null, limits: null }, 'a keyless route without limits is open to all');
});

t.test('route policies that cannot work are refused with the field named', async (t) => {
  const cases: [string, string][] = [
    ['auth: none\n    limits: [{ window: 1m, limit: 5 }]', 'routes.0.limit_by must be client_ip for a keyless route with limits'],
    ['limit_by: client_ip\n    limits: [{ window: 1m, limit: 5 }]', 'routes.0.limit_by needs auth: none (a keyed route counts per key)'],
    ['auth: none\n    limit_by: client_ip', 'routes.0.limits must be set to limit by client_ip'],
    ['algorithm: gcra', "routes.0.algorithm is the key's tier's on a keyed route"],
    ['timezone: UTC', "routes.0.timezone is the key's tier's on a keyed route"],
    ['auth: none\n    limit_by: client_ip\n    limits: [{ window: 1m, limit: 5, burst: 2 }]', 'routes.0.limits.0.burst applies to gcra only'],
    ['auth: maybe', 'routes.0.auth must be key or none'],
    ['limits: [{ window: fortnight, limit: 5 }]', 'routes.0.limits.0.window must be a duration such as 30s, 1m, 1h or 1d, or day or month'],
  ];
  for (const [extra, message] of cases) {
    const path = file('policy.yaml', `routes:\n  - prefix: /a\n    upstream: http://127.0.0.1:1\n    ${extra}\n`);
    t.throws(() => loadConfig({ GATEWAY_ROUTES_FILE: path }), { message: `invalid configuration: GATEWAY_ROUTES_FILE ${message}` }, extra);
  }
  const unnamed = file('unnamed.yaml', 'routes:\n  - prefix: /v1/items:batch\n    upstream: http://127.0.0.1:1\n    limits: [{ window: 1m, limit: 5 }]\n');
  t.throws(() => loadConfig({ GATEWAY_ROUTES_FILE: unnamed }), { message: /routes\.0\.name is needed for a route with limits/ });
});

t.test('GATEWAY_CLIENT_IPV6_PREFIX and GATEWAY_CONCURRENCY_LEASE_MS are read, with 64 and 60 s by default', async (t) => {
  t.match(loadConfig(UPSTREAM), { clientIpv6PrefixBits: 64, concurrencyLeaseMs: 60_000 });
  t.match(loadConfig({ ...UPSTREAM, GATEWAY_CLIENT_IPV6_PREFIX: '48', GATEWAY_CONCURRENCY_LEASE_MS: '5000' }), { clientIpv6PrefixBits: 48, concurrencyLeaseMs: 5000 });
  t.throws(() => loadConfig({ ...UPSTREAM, GATEWAY_CLIENT_IPV6_PREFIX: '129' }), { message: 'invalid configuration: GATEWAY_CLIENT_IPV6_PREFIX must be a prefix length from 1 to 128' });
  t.throws(() => loadConfig({ ...UPSTREAM, GATEWAY_CONCURRENCY_LEASE_MS: '10' }), { message: 'invalid configuration: GATEWAY_CONCURRENCY_LEASE_MS must be a whole number of milliseconds, at least 1000' });
});

t.test('GATEWAY_WORKERS is one by default, a number, or auto for the number of cores', async (t) => {
  t.equal(loadConfig(UPSTREAM).workers, 1);
  t.equal(loadConfig({ ...UPSTREAM, GATEWAY_WORKERS: '3' }).workers, 3);
  t.equal(loadConfig({ ...UPSTREAM, GATEWAY_WORKERS: 'auto' }).workers, availableParallelism());
});

t.test('GATEWAY_FAILURE_MODE=local is accepted', async (t) => {
  t.equal(loadConfig({ ...UPSTREAM, GATEWAY_FAILURE_MODE: 'local' }).failureMode, 'local');
});

t.test('a JSON routes file is read', async (t) => {
  const path = file('routes.json', JSON.stringify({ routes: [{ prefix: '/', upstream: 'http://127.0.0.1:3000', cost: 2 }] }));
  t.equal(loadConfig({ GATEWAY_ROUTES_FILE: path }).routes[0]?.cost, 2);
});

t.test('GATEWAY_REQUEST_LOG=off turns request events off', async (t) => {
  t.equal(loadConfig({ ...UPSTREAM, GATEWAY_REQUEST_LOG: 'off' }).requestLog, false);
});

t.test('GATEWAY_REQUEST_LOG_BUFFER bounds the request events kept, 100 000 unless set', async (t) => {
  t.equal(loadConfig({ ...UPSTREAM }).requestLogBufferEvents, 100_000);
  t.equal(loadConfig({ ...UPSTREAM, GATEWAY_REQUEST_LOG_BUFFER: '5000' }).requestLogBufferEvents, 5000);
});

t.test('REDIS_CLUSTER_NODES is split into nodes', async (t) => {
  t.same(loadConfig({ ...UPSTREAM, REDIS_CLUSTER_NODES: 'a:7000,b:7001' }).redisClusterNodes, [
    { host: 'a', port: 7000 },
    { host: 'b', port: 7001 },
  ]);
});

// Each case: environment → the exact line on stderr.
const invalid: [string, Record<string, string>, string][] = [
  ['no upstream and no routes file', {}, 'invalid configuration: GATEWAY_UPSTREAM or GATEWAY_ROUTES_FILE must be set'],
  [
    'both an upstream and a routes file',
    { ...UPSTREAM, GATEWAY_ROUTES_FILE: file('both.yaml', 'routes:\n  - prefix: /\n    upstream: http://127.0.0.1:1\n') },
    'invalid configuration: GATEWAY_UPSTREAM and GATEWAY_ROUTES_FILE are both set; set only one',
  ],
  ['an unknown failure mode', { ...UPSTREAM, GATEWAY_FAILURE_MODE: 'maybe' }, 'invalid configuration: GATEWAY_FAILURE_MODE must be open, closed or local'],
  ['a worker count of 0', { ...UPSTREAM, GATEWAY_WORKERS: '0' }, 'invalid configuration: GATEWAY_WORKERS must be a whole number from 1 to 256, or auto'],
  ['a worker count that is a word', { ...UPSTREAM, GATEWAY_WORKERS: 'many' }, 'invalid configuration: GATEWAY_WORKERS must be a whole number from 1 to 256, or auto'],
  ['a port that is not a number', { ...UPSTREAM, GATEWAY_PORT: 'abc' }, 'invalid configuration: GATEWAY_PORT must be an integer from 0 to 65535'],
  ['an ops port out of range', { ...UPSTREAM, GATEWAY_OPS_PORT: '70000' }, 'invalid configuration: GATEWAY_OPS_PORT must be an integer from 0 to 65535'],
  ['an upstream that is not http', { GATEWAY_UPSTREAM: 'ftp://127.0.0.1' }, 'invalid configuration: GATEWAY_UPSTREAM must be an http:// or https:// URL without query'],
  ['a Redis URL that is not redis://', { ...UPSTREAM, REDIS_URL: 'http://127.0.0.1' }, 'invalid configuration: REDIS_URL must be a redis:// or rediss:// URL'],
  ['an ops host with a space', { ...UPSTREAM, GATEWAY_OPS_HOST: 'a b' }, 'invalid configuration: GATEWAY_OPS_HOST must be an IP address or a host name'],
  ['a negative upstream body timeout', { ...UPSTREAM, GATEWAY_UPSTREAM_BODY_TIMEOUT_MS: '-1' }, 'invalid configuration: GATEWAY_UPSTREAM_BODY_TIMEOUT_MS must be a whole number of milliseconds (0: no limit)'],
  ['a client body timeout of 0', { ...UPSTREAM, GATEWAY_CLIENT_BODY_TIMEOUT_MS: '0' }, 'invalid configuration: GATEWAY_CLIENT_BODY_TIMEOUT_MS must be a positive whole number of milliseconds'],
  ['a body limit of 0', { ...UPSTREAM, GATEWAY_MAX_BODY_BYTES: '0' }, 'invalid configuration: GATEWAY_MAX_BODY_BYTES must be a whole number of bytes'],
  ['a trusted proxy that is not an address', { ...UPSTREAM, GATEWAY_TRUSTED_PROXIES: '10.0.0.0/8, nginx' }, 'invalid configuration: GATEWAY_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDRs ("nginx" is neither)'],
  ['cluster nodes without ports', { ...UPSTREAM, REDIS_CLUSTER_NODES: 'a,b' }, 'invalid configuration: REDIS_CLUSTER_NODES must be a comma-separated list of host:port ("a" is not host:port)'],
  ['a key prefix with a space', { ...UPSTREAM, REDIS_KEY_PREFIX: 'a b' }, 'invalid configuration: REDIS_KEY_PREFIX must be 1 to 64 letters, digits or : _ . -'],
  ['an upstream timeout below 1', { ...UPSTREAM, GATEWAY_UPSTREAM_TIMEOUT_MS: '-5' }, 'invalid configuration: GATEWAY_UPSTREAM_TIMEOUT_MS must be a positive whole number of milliseconds'],
  ['a Redis timeout of 0', { ...UPSTREAM, GATEWAY_REDIS_TIMEOUT_MS: '0' }, 'invalid configuration: GATEWAY_REDIS_TIMEOUT_MS must be a positive whole number of milliseconds'],
  ['an unknown log level', { ...UPSTREAM, LOG_LEVEL: 'loud' }, 'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
  ['a request-log setting that is not on or off', { ...UPSTREAM, GATEWAY_REQUEST_LOG: 'yes' }, 'invalid configuration: GATEWAY_REQUEST_LOG must be on or off'],
  ['a request-log buffer below 500 events', { ...UPSTREAM, GATEWAY_REQUEST_LOG_BUFFER: '100' }, 'invalid configuration: GATEWAY_REQUEST_LOG_BUFFER must be a whole number of events, at least 500'],
  ['a missing routes file', { GATEWAY_ROUTES_FILE: join(dir, 'missing.yaml') }, `invalid configuration: GATEWAY_ROUTES_FILE cannot be read: ${join(dir, 'missing.yaml')} (ENOENT)`],
  ['a routes file that is not YAML', { GATEWAY_ROUTES_FILE: file('bad.yaml', 'routes: [\n  - prefix: x\n') }, `invalid configuration: GATEWAY_ROUTES_FILE is not valid JSON or YAML: ${join(dir, 'bad.yaml')}`],
  [
    'a route with an unknown field',
    { GATEWAY_ROUTES_FILE: file('unknown.yaml', 'routes:\n  - prefix: /a\n    upstream: http://127.0.0.1:1\n    colour: red\n') },
    'invalid configuration: GATEWAY_ROUTES_FILE routes.0 has unknown field colour',
  ],
  [
    'a route with cost 0',
    { GATEWAY_ROUTES_FILE: file('cost.json', '{"routes":[{"prefix":"/a","upstream":"http://127.0.0.1:1","cost":0}]}') },
    'invalid configuration: GATEWAY_ROUTES_FILE routes.0.cost must be at least 1',
  ],
  [
    'a prefix without a leading slash',
    { GATEWAY_ROUTES_FILE: file('prefix.yaml', 'routes:\n  - prefix: a\n    upstream: http://127.0.0.1:1\n') },
    'invalid configuration: GATEWAY_ROUTES_FILE routes.0.prefix must start with / and hold no query',
  ],
  [
    'the same prefix twice',
    { GATEWAY_ROUTES_FILE: file('dup.yaml', 'routes:\n  - prefix: /a\n    upstream: http://127.0.0.1:1\n  - prefix: /a/\n    upstream: http://127.0.0.1:2\n') },
    'invalid configuration: GATEWAY_ROUTES_FILE routes.1.prefix /a is listed twice',
  ],
  ['an empty route list', { GATEWAY_ROUTES_FILE: file('empty.yaml', 'routes: []\n') }, 'invalid configuration: GATEWAY_ROUTES_FILE routes must list at least one route'],
];

// .env is read from the working directory, but a real environment variable wins over it.
const envDir = mkdtempSync(join(tmpdir(), 'tollgate-dotenv-'));
t.teardown(() => removeDir(envDir));
writeFileSync(join(envDir, '.env'), 'GATEWAY_FAILURE_MODE=bad\nLOG_LEVEL=loud\nGATEWAY_UPSTREAM=http://127.0.0.1:3000\n');

// Each process pays the TypeScript start-up: run a few at a time, ahead of the assertions, so the
// file stays fast without starving a busy machine.
const CONCURRENCY = 3;
function runAll(envs: { env: Record<string, string>; cwd: string }[]): Promise<SpawnedGateway>[] {
  const results: Promise<SpawnedGateway>[] = [];
  const slots: Promise<unknown>[] = [];
  for (const [index, { env, cwd }] of envs.entries()) {
    const previous = slots[index - CONCURRENCY] ?? Promise.resolve();
    const run = previous.then(async () => {
      const spawned = spawnGateway(env, cwd);
      await spawned.exited;
      return spawned;
    });
    slots.push(run);
    results.push(run);
  }
  return results;
}
const runs = runAll([
  ...invalid.map(([, env]) => ({ env, cwd: dir })),
  { env: { GATEWAY_FAILURE_MODE: 'open' }, cwd: envDir },
]);
const SPAWN_TIMEOUT = { timeout: 120_000 };

for (const [index, [name, , line]] of invalid.entries()) {
  t.test(`${name} stops the gateway with one line naming the variable`, SPAWN_TIMEOUT, async (t) => {
    const run = await runs[index];
    if (run === undefined) throw new Error('no run');
    t.equal(await run.exited, 1);
    t.equal(run.stderr(), `${line}\n`);
  });
}

t.test('.env is honoured and a real environment variable wins over it', SPAWN_TIMEOUT, async (t) => {
  const dotenvRun = await runs[invalid.length];
  if (dotenvRun === undefined) throw new Error('no run');
  t.equal(await dotenvRun.exited, 1);
  t.equal(
    dotenvRun.stderr(),
    'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent\n',
    'LOG_LEVEL came from .env; GATEWAY_FAILURE_MODE=bad in .env lost to the real open',
  );
});
