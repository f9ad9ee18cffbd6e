// The compose stack without Docker: a Redis and a PostgreSQL database of this file's own, the
// one-shot migration, the control plane, two gateways and the demo upstream as processes, and real
// nginx and real Prometheus on the project's own configs (compose hostnames mapped to loopback
// ports by test/deploy/helpers/render-config.ts). Traffic goes through nginx; Prometheus is then
// asked every dashboard and rule expression; finally Redis is stopped and the alert must fire.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import t from 'tap';
import { parse } from 'yaml';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/index.js';
import { freePort } from '../../test-support/ports.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { prepareNginx, startNginx } from '../deploy/helpers/nginx.js';
import { eventually, startService, waitForUrl, type Service } from '../deploy/helpers/processes.js';
import { renderPrometheusConfig } from '../deploy/helpers/render-config.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = import.meta.resolve('tsx');
const work = mkdtempSync(join(tmpdir(), 'tollgate-stack-'));
const services: Service[] = [];
t.teardown(async () => {
  // Front to back, so nothing is left holding connections to what stops after it.
  for (const service of [...services].reverse()) await service.stop('SIGTERM', 40_000);
  await redis.stop();
  await database.drop();
  rmSync(work, { recursive: true, force: true });
});

// Redis as compose runs it: never evicting, with its append-only file.
const redis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']);
const database = await createTestDatabase('stack');
const ADMIN_TOKEN = `stack-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

/** A service's entry point from source, as its image runs the compiled one. */
function startNode(name: string, entry: string, env: Record<string, string>, flags: readonly string[] = []): Service {
  const service = startService(name, process.execPath, [...flags, `--import=${TSX}`, join(ROOT, entry)], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    cwd: work,
  });
  services.push(service);
  return service;
}

const migrate = startNode('migrate', 'control-plane/src/migrate-cli.ts', { DATABASE_URL: database.url });
const migrated = await migrate.exited;
services.pop();
if (migrated !== 0) throw new Error(`migrate exited with ${migrated}: ${migrate.stderr()}${migrate.stdout()}`);

const upstreamPort = await freePort();
const upstream = startNode('demo-upstream', 'launcher/demo-upstream-main.ts', {
  DEMO_UPSTREAM_HOST: '127.0.0.1',
  DEMO_UPSTREAM_PORT: String(upstreamPort),
});
await waitForUrl(`http://127.0.0.1:${upstreamPort}/`, upstream);

const controlPlanePort = await freePort();
const controlPlane = startNode('control-plane', 'control-plane/src/main.ts', {
  DATABASE_URL: database.url,
  REDIS_URL: redis.url,
  ADMIN_TOKEN,
  CONTROL_PLANE_PORT: String(controlPlanePort),
  CONTROL_PLANE_TRUSTED_PROXIES: '127.0.0.1',
});
await waitForUrl(`http://127.0.0.1:${controlPlanePort}/readyz`, controlPlane);

// nginx reaches the gateways from 127.0.0.1, the address they trust; clients of this test come
// from 127.0.0.2 and 127.0.0.3, so the address a gateway derives shows whom it believed.
const gateways: { port: number; opsPort: number; service: Service }[] = [];
for (const name of ['gateway-1', 'gateway-2']) {
  const port = await freePort();
  const opsPort = await freePort();
  const service = startNode(
    name,
    'gateway/src/main.ts',
    {
      REDIS_URL: redis.url,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: `http://127.0.0.1:${upstreamPort}`,
      GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    },
    GATEWAY_NODE_FLAGS,
  );
  gateways.push({ port, opsPort, service });
}
for (const gateway of gateways) await waitForUrl(`http://127.0.0.1:${gateway.opsPort}/readyz`, gateway.service);
const [gateway1, gateway2] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];

const nginxSetup = await prepareNginx(join(work, 'nginx'), {
  'gateway-1:8080': `127.0.0.1:${gateway1.port}`,
  'gateway-2:8080': `127.0.0.1:${gateway2.port}`,
  'control-plane:8081': `127.0.0.1:${controlPlanePort}`,
});
const nginx = startNginx(nginxSetup);
services.push(nginx);
const NGINX = `http://127.0.0.1:${nginxSetup.httpPort}`;
await waitForUrl(`${NGINX}/openapi.json`, nginx);

// Prometheus with the project's config and rules, scraping every second instead of every 15.
const prometheusPort = await freePort();
const prometheusDir = join(work, 'prometheus');
mkdirSync(prometheusDir);
cpSync(join(ROOT, 'observability/rules'), join(prometheusDir, 'rules'), { recursive: true });
writeFileSync(
  join(prometheusDir, 'prometheus.yml'),
  renderPrometheusConfig(readFileSync(join(ROOT, 'observability/prometheus.yml'), 'utf8'), {
    interval: '1s',
    targets: {
      'localhost:9090': `127.0.0.1:${prometheusPort}`,
      'gateway-1:9080': `127.0.0.1:${gateway1.opsPort}`,
      'gateway-2:9080': `127.0.0.1:${gateway2.opsPort}`,
      'control-plane:8081': `127.0.0.1:${controlPlanePort}`,
    },
  }),
);
const prometheus = startService('prometheus', 'prometheus', [
  `--config.file=${join(prometheusDir, 'prometheus.yml')}`,
  `--storage.tsdb.path=${join(prometheusDir, 'data')}`,
  `--web.listen-address=127.0.0.1:${prometheusPort}`,
]);
services.push(prometheus);
const PROMETHEUS = `http://127.0.0.1:${prometheusPort}`;
await waitForUrl(`${PROMETHEUS}/-/ready`, prometheus);

// --- helpers ------------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request (path sent exactly as given) from a chosen local address. */
function send(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, localAddress: options.from ?? '127.0.0.2', agent: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

const viaNginx = (path: string, options: Parameters<typeof send>[2] = {}) => send(nginxSetup.httpPort, path, options);
const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

async function createKey(name: string, tier: string): Promise<{ id: string; secret: string }> {
  const created = await viaNginx('/v1/keys', { method: 'POST', headers: admin, body: Buffer.from(JSON.stringify({ name, tier })) });
  if (created.status !== 201) throw new Error(`create key: ${created.status} ${created.body}`);
  const key = JSON.parse(created.body) as { id: string; secret: string };
  // Both gateways must know the key before traffic counts on it; the quota endpoint consumes nothing.
  for (const gateway of gateways) {
    await eventually(`gateway on ${gateway.port} knows ${name}`, 10_000, async () =>
      (await send(gateway.port, '/_gateway/quota', { headers: { 'x-api-key': key.secret } })).status === 200 ? true : undefined,
    );
  }
  return key;
}

async function createTier(name: string, limit: number): Promise<void> {
  const body = Buffer.from(JSON.stringify({ name, limits: [{ window: '1m', limit }] }));
  const created = await viaNginx('/v1/tiers', { method: 'POST', headers: admin, body });
  if (created.status !== 201) throw new Error(`create tier: ${created.status} ${created.body}`);
}

async function gatewayRequestCount(opsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('tollgate_gateway_requests_total{'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function prometheusQuery(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
  const response = await fetch(`${PROMETHEUS}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
}

await createTier('stack-bulk', 100_000);
await createTier('stack-tight', 3);
const bulk = await createKey('stack-bulk-key', 'stack-bulk');
const secrets = [ADMIN_TOKEN, bulk.secret];

// --- traffic ------------------------------------------------------------------------------------

t.test('API traffic through nginx reaches the upstream through both gateways', async (t) => {
  const before = await Promise.all(gateways.map((gateway) => gatewayRequestCount(gateway.opsPort)));
  for (let i = 0; i < 20; i += 1) {
    const answer = await viaNginx(`/orders/${i}?page=2`, { headers: { 'x-api-key': bulk.secret } });
    t.equal(answer.status, 200, `request ${i}`);
    const echo = JSON.parse(answer.body) as { upstream: string; url: string; headers: Record<string, string> };
    t.equal(echo.url, `/orders/${i}?page=2`);
    t.equal(echo.headers['x-tollgate-key-id'], bulk.id);
    t.equal(echo.headers['x-tollgate-tier'], 'stack-bulk');
  }
  const after = await Promise.all(gateways.map((gateway) => gatewayRequestCount(gateway.opsPort)));
  t.ok((after[0] ?? 0) > (before[0] ?? 0), 'gateway-1 answered some');
  t.ok((after[1] ?? 0) > (before[1] ?? 0), 'gateway-2 answered some');
});

t.test("a request without a key gets the gateway's 401 problem through nginx", async (t) => {
  const answer = await viaNginx('/orders');
  t.equal(answer.status, 401);
  t.match(answer.headers['content-type'], /^application\/problem\+json/);
  t.match(JSON.parse(answer.body), { status: 401, type: /\/missing-api-key$/ });
});

t.test('requests over a limit get 429 with Retry-After and the rate-limit fields through nginx', async (t) => {
  const tight = await createKey('stack-tight-key', 'stack-tight');
  secrets.push(tight.secret);
  const answers: Answer[] = [];
  for (let i = 0; i < 5; i += 1) answers.push(await viaNginx('/orders', { headers: { 'x-api-key': tight.secret } }));
  t.same(answers.map((answer) => answer.status), [200, 200, 200, 429, 429]);
  const refused = answers[4] as Answer;
  t.ok(Number(refused.headers['retry-after']) >= 1, `Retry-After ${refused.headers['retry-after']}`);
  t.equal(refused.headers['ratelimit-policy'], '"1m";q=3;w=60');
  t.match(refused.headers.ratelimit, /^"1m";r=0;t=\d+$/);
  t.match(JSON.parse(refused.body), { status: 429, type: /\/rate-limited$/ });
});

t.test('/v1, /admin, /docs and /openapi.json are answered by the control plane, not a gateway', async (t) => {
  for (const path of ['/v1/tiers', '/v1', '/admin', '/admin/keys', '/docs', '/openapi.json']) {
    const through = await viaNginx(path);
    const direct = await send(controlPlanePort, path);
    const gateway = await send(gateway1.port, path);
    t.equal(through.status, direct.status, `${path}: the control plane's status (${direct.status})`);
    t.equal(through.headers['content-type'], direct.headers['content-type'], `${path}: the control plane's content type`);
    // Without a key a gateway answers every path 401 missing-api-key: a different answer.
    t.not(`${through.status} ${through.body}`, `${gateway.status} ${gateway.body}`, `${path}: not the gateway's answer`);
  }
  const tiers = await viaNginx('/v1/tiers', { headers: admin });
  t.equal(tiers.status, 200);
  t.ok((JSON.parse(tiers.body) as { items: { name: string }[] }).items.some((tier) => tier.name === 'stack-bulk'));
  const openApi = JSON.parse((await viaNginx('/openapi.json')).body) as { openapi: string };
  t.match(openApi.openapi, /^3\.1/);
});

t.test("the gateways' /_gateway/ paths are not reachable through nginx, however the path is spelt", async (t) => {
  const headers = { 'x-api-key': bulk.secret };
  t.equal((await send(gateway1.port, '/_gateway/quota', { headers })).status, 200, 'the gateway itself answers its quota');
  for (const path of ['/_gateway/quota', '/_gateway/metrics', '/_gateway', '//_gateway/quota', '/%5Fgateway/quota', '/orders/../_gateway/quota']) {
    const answer = await viaNginx(path, { headers });
    t.equal(answer.status, 404, path);
    t.match(answer.headers['content-type'], /^application\/problem\+json/, `${path} content type`);
    t.match(JSON.parse(answer.body), { status: 404, detail: 'no such resource' }, `${path} answered by nginx`);
  }
});

t.test('an 8 MiB upload passes through nginx and the gateway to the upstream', async (t) => {
  const body = Buffer.alloc(8 * 1024 * 1024, 0x61);
  const answer = await viaNginx('/upload', { method: 'POST', headers: { 'x-api-key': bulk.secret, 'content-type': 'application/octet-stream' }, body });
  t.equal(answer.status, 200, answer.body.slice(0, 200));
  t.equal((JSON.parse(answer.body) as { body_bytes: number }).body_bytes, body.length);
});

/** Local ports of nginx's established connections to the gateways (`ss` names the process). */
async function nginxConnectionsToGateways(): Promise<number[]> {
  const filter = `( dport = :${gateway1.port} or dport = :${gateway2.port} )`;
  const { stdout } = await run('ss', ['-Htnp', 'state', 'established', filter]);
  return stdout
    .split('\n')
    .filter((line) => line.includes('"nginx"'))
    .map((line) => Number(/:(\d+)\s+\S+:\d+\s/.exec(line)?.[1]));
}

t.test('nginx keeps its connections to the gateways open and reuses them', async (t) => {
  const seen = new Set<number>();
  const requests = 30;
  for (let i = 0; i < requests; i += 1) {
    t.equal((await viaNginx('/reuse', { headers: { 'x-api-key': bulk.secret } })).status, 200);
    const open = await nginxConnectionsToGateways();
    t.ok(open.length > 0, `after request ${i} nginx still holds a connection to a gateway`);
    for (const port of open) seen.add(port);
  }
  // Two workers (one per core) × two gateways, with room for a connection closed by an idle timeout.
  t.ok(seen.size <= 8, `${requests} requests over ${seen.size} connections`);
});

t.test('nginx passes on the address it saw and drops a forged X-Forwarded-For', async (t) => {
  const answer = await viaNginx('/whoami', { headers: { 'x-api-key': bulk.secret, 'x-forwarded-for': '203.0.113.9' }, from: '127.0.0.2' });
  const forwarded = (JSON.parse(answer.body) as { headers: Record<string, string> }).headers['x-forwarded-for'] ?? '';
  t.equal(forwarded.split(',')[0]?.trim(), '127.0.0.2', `X-Forwarded-For at the upstream: ${forwarded}`);
  t.notMatch(forwarded, /203\.0\.113\.9/);
});

async function clientAddressesOf(keyId: string, count: number): Promise<string[]> {
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    return await eventually(`${count} request-log rows of ${keyId}`, 30_000, async () => {
      const rows = await sql<{ client_ip: string }[]>`select host(client_ip::inet) as client_ip from request_log where key_id = ${keyId}`;
      return rows.length >= count ? rows.map((row) => row.client_ip.replace(/^::ffff:/, '')) : undefined;
    });
  } finally {
    await sql.end();
  }
}

t.test('the request log records the client address nginx saw, not one the client forged', async (t) => {
  const key = await createKey('stack-client-address', 'stack-bulk');
  secrets.push(key.secret);
  const answer = await viaNginx('/whoami', { headers: { 'x-api-key': key.secret, 'x-forwarded-for': '203.0.113.9' }, from: '127.0.0.2' });
  t.equal(answer.status, 200);
  t.same(await clientAddressesOf(key.id, 1), ['127.0.0.2']);
});

t.test('a gateway believes no X-Forwarded-For from a client outside its trusted proxies', async (t) => {
  const key = await createKey('stack-direct-client', 'stack-bulk');
  secrets.push(key.secret);
  const answer = await send(gateway2.port, '/whoami', { headers: { 'x-api-key': key.secret, 'x-forwarded-for': '203.0.113.9' }, from: '127.0.0.3' });
  t.equal(answer.status, 200);
  t.same(await clientAddressesOf(key.id, 1), ['127.0.0.3']);
});

t.test('nginx writes one JSON object per request to its access log and never a credential', async (t) => {
  const lines = readFileSync(nginxSetup.accessLogPath, 'utf8').split('\n').filter((line) => line !== '');
  t.ok(lines.length >= 60, `${lines.length} lines`);
  const entries = lines.map((line) => JSON.parse(line) as { path: string; status: number; remote_addr: string; request_time: number; upstream_addr: string });
  t.ok(entries.some((entry) => entry.path === '/_gateway/quota' && entry.status === 404 && entry.upstream_addr === ''), 'the refused ops path, answered by nginx');
  t.ok(entries.some((entry) => entry.path === '/upload' && entry.status === 200 && entry.remote_addr === '127.0.0.2'), 'the upload, with the client address');
  t.ok(entries.every((entry) => typeof entry.request_time === 'number'));
  const text = lines.join('\n');
  for (const secret of secrets) t.notOk(text.includes(secret), 'no secret or token in the access log');
});

// --- Prometheus ---------------------------------------------------------------------------------

t.test('Prometheus scrapes both gateways, the control plane and itself', async (t) => {
  const targets = await eventually('every target up', 30_000, async () => {
    const body = (await (await fetch(`${PROMETHEUS}/api/v1/targets`)).json()) as {
      data: { activeTargets: { labels: { job: string }; health: string }[] };
    };
    const active = body.data.activeTargets;
    return active.length === 4 && active.every((target) => target.health === 'up') ? active : undefined;
  });
  t.same(targets.map((target) => target.labels.job).sort(), ['prometheus', 'tollgate-control-plane', 'tollgate-gateway', 'tollgate-gateway']);
});

interface RuleFile {
  groups: { rules: { record?: string; alert?: string; expr: string }[] }[];
}

const dashboard = JSON.parse(readFileSync(join(ROOT, 'observability/grafana/dashboards/tollgate.json'), 'utf8')) as {
  panels: { title: string; targets?: { expr: string }[] }[];
};
const rules = ['tollgate-recording.yml', 'tollgate-alerts.yml'].flatMap(
  (file) => (parse(readFileSync(join(ROOT, 'observability/rules', file), 'utf8')) as RuleFile).groups.flatMap((group) => group.rules),
);

// The fleet metric of the gateways' heartbeats is not exported by every control plane yet; its
// panel may be empty only while the control plane's /metrics does not have it.
const controlPlaneMetrics = await (await fetch(`http://127.0.0.1:${controlPlanePort}/metrics`)).text();
const mayBeEmpty = (expr: string) => expr.includes('tollgate_control_plane_gateways') && !controlPlaneMetrics.includes('tollgate_control_plane_gateways');

/** Grafana's interval variable as the dashboard would get it at this scrape interval. */
const asPrometheusQuery = (expr: string) => expr.replaceAll('$__rate_interval', '1m');

t.test('every dashboard query parses in Prometheus and returns data after the traffic', async (t) => {
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: asPrometheusQuery(target.expr) })));
  t.ok(queries.length >= 20, `${queries.length} queries`);
  for (const { expr } of queries) t.notMatch(expr, /\$/, `no Grafana variable left in ${expr}`);
  const empty = await eventually('data for every panel', 60_000, async () => {
    const missing: string[] = [];
    for (const { panel, expr } of queries) {
      const answer = await prometheusQuery(expr);
      if (answer.status !== 'success') throw new Error(`${panel}: ${expr}: ${answer.error}`);
      if ((answer.data?.result.length ?? 0) === 0 && !mayBeEmpty(expr)) missing.push(`${panel}: ${expr}`);
    }
    return missing.length === 0 ? missing : undefined;
  }).catch((error: unknown) => [String(error)]);
  t.same(empty, [], 'every panel has data');
});

t.test('every recording rule returns data and every alert expression parses', async (t) => {
  const records = [...new Set(rules.flatMap((rule) => (rule.record ? [rule.record] : [])))];
  const empty = await eventually('data for every recording rule', 60_000, async () => {
    const missing: string[] = [];
    for (const record of records) if ((await prometheusQuery(record)).data?.result.length === 0) missing.push(record);
    return missing.length === 0 ? missing : undefined;
  }).catch((error: unknown) => [String(error)]);
  t.same(empty, [], 'every recording rule has data');
  for (const rule of rules) {
    const answer = await prometheusQuery(rule.expr);
    t.equal(answer.status, 'success', `${rule.record ?? rule.alert}: ${answer.error ?? 'parses'}`);
  }
});

t.test('Prometheus loads every rule and evaluates each without error', async (t) => {
  const body = (await (await fetch(`${PROMETHEUS}/api/v1/rules`)).json()) as {
    data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
  };
  const loaded = body.data.groups.flatMap((group) => group.rules);
  t.equal(loaded.length, rules.length, 'every rule of the files is loaded');
  for (const rule of loaded) t.equal(rule.health, 'ok', `${rule.name} ${rule.lastError ?? ''}`);
});

t.test("stopping the limiter's Redis raises TollgateLimiterRedisDown to firing for both gateways", async (t) => {
  await redis.stop();
  const firing = await eventually('the Redis-down alert firing for both gateways', 120_000, async () => {
    const body = (await (await fetch(`${PROMETHEUS}/api/v1/alerts`)).json()) as {
      data: { alerts: { labels: { alertname: string; instance: string }; state: string }[] };
    };
    const alerts = body.data.alerts.filter((alert) => alert.labels.alertname === 'TollgateLimiterRedisDown' && alert.state === 'firing');
    return alerts.length === 2 ? alerts : undefined;
  });
  t.same(
    firing.map((alert) => alert.labels.instance).sort(),
    [`127.0.0.1:${gateway1.opsPort}`, `127.0.0.1:${gateway2.opsPort}`].sort(),
  );
});
