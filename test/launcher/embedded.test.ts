// `npm start` with neither REDIS_URL nor DATABASE_URL: one process on PGlite and the
// in-memory stores, behaving as one gateway must, keeping keys across a restart.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../../test-support/ports.js';
import { get, post, signIn } from '../../control-plane/test/admin-ui/helpers/form-client.js';
import { bannerValue, spawnLauncher, type SpawnedLauncher } from './helpers/spawn-launcher.js';

const cwd = mkdtempSync(join(tmpdir(), 'tollgate-launcher-'));
const dataDir = join(cwd, 'data');
const ports = { gateway: 0, ops: 0, controlPlane: 0 };
let launcher: SpawnedLauncher;
let banner = '';
let adminToken = '';
/** Set by the enforcement test, used again after the restart. */
let createdKey: { id: string; secret: string } | null = null;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    TOLLGATE_DATA_DIR: dataDir,
    GATEWAY_PORT: String(ports.gateway),
    GATEWAY_OPS_PORT: String(ports.ops),
    CONTROL_PLANE_PORT: String(ports.controlPlane),
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

async function rest(method: string, path: string, body?: unknown, token = adminToken) {
  const response = await fetch(`http://127.0.0.1:${ports.controlPlane}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: response.status, body: (text === '' ? null : JSON.parse(text)) as any };
}

function gateway(path: string, secret: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${ports.gateway}${path}`, { headers: { 'x-api-key': secret } });
}

t.before(async () => {
  ports.gateway = await freePort();
  ports.ops = await freePort();
  ports.controlPlane = await freePort();
  launcher = spawnLauncher(env(), cwd);
  banner = await launcher.banner();
  adminToken = bannerValue(banner, /admin token\s+(\S+)/);
});

t.teardown(async () => {
  if (launcher.child.exitCode === null) {
    launcher.child.kill('SIGKILL');
    await launcher.exited;
  }
  rmSync(cwd, { recursive: true, force: true });
});

t.test('the banner says it is the single-machine mode and shows the admin token, the demo key and three curl lines', async (t) => {
  t.match(banner, /single-machine mode/);
  t.match(banner, new RegExp(`gateway\\s+http://127\\.0\\.0\\.1:${ports.gateway}`));
  t.match(banner, /demo tier\s+demo: 5 per 1m, 100 per 1h/);
  t.match(banner, /demo key\s+key_\S+\s+secret tg_[0-9A-Za-z]{32,}/);
  t.equal(banner.split('\n').filter((line) => line.trim().startsWith('curl ') || line.trim().startsWith('for i in')).length, 4);
  const file = join(dataDir, 'admin-token');
  t.equal(readFileSync(file, 'utf8').trim(), adminToken, 'the generated token is kept in the data directory');
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
});

t.test('readiness names the in-memory limiter store for what it is, not as a Redis', async (t) => {
  const response = await fetch(`http://127.0.0.1:${ports.ops}/readyz`);
  t.equal(response.status, 200);
  t.same(await response.json(), { status: 'ready', store: 'memory', keys: 'loaded' });
});

t.test('the banner shows the admin UI and a generated user password that signs in there', async (t) => {
  const controlPlane = `http://127.0.0.1:${ports.controlPlane}`;
  t.match(banner, new RegExp(`admin UI\\s+${controlPlane}/admin`));
  const password = bannerValue(banner, /admin user\s+admin\s+password (\S+)/);
  const file = join(dataDir, 'admin-password');
  t.match(banner, `(generated now, kept in ${file})`);
  t.equal(readFileSync(file, 'utf8').trim(), password, 'the password is kept in the data directory');
  t.equal(statSync(file).mode & 0o777, 0o600, 'readable by its owner only');
  const session = await signIn(controlPlane, 'admin', password);
  t.equal((await get(controlPlane, '/admin/keys', { cookie: session })).status, 200);
});

t.test('failed sign-ins are counted by the in-memory limiter: the 11th in a minute gets 429', async (t) => {
  const controlPlane = `http://127.0.0.1:${ports.controlPlane}`;
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 11; attempt += 1) {
    statuses.push((await post(controlPlane, '/admin/login', { username: 'nobody', password: `guess ${attempt}` })).status);
  }
  t.same(statuses, [...Array(10).fill(401), 429]);
});

t.test('the demo key from the banner is admitted, then answered 429 after five requests in a minute', async (t) => {
  const secret = bannerValue(banner, /secret (tg_[0-9A-Za-z]+)/);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i += 1) {
    const response = await gateway('/hello', secret);
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429]);
});

t.test('a tier and key created over REST are enforced within 1 s, exactly, with rate-limit headers', async (t) => {
  t.equal((await rest('POST', '/v1/tiers', { name: 'three', limits: [{ window: '1m', limit: 3 }] })).status, 201);
  const created = await rest('POST', '/v1/keys', { name: 'launcher test', tier: 'three' });
  t.equal(created.status, 201);
  createdKey = { id: created.body.id, secret: created.body.secret };
  const secret = created.body.secret as string;
  // The quota endpoint consumes nothing, so polling it does not touch the limit under test.
  const deadline = Date.now() + 1000;
  let known = false;
  while (!known && Date.now() < deadline) {
    const response = await gateway('/_gateway/quota', secret);
    await response.arrayBuffer();
    known = response.status === 200;
  }
  t.ok(known, 'the new key is known to the gateway within 1 s of the REST call');

  const responses = await Promise.all(Array.from({ length: 5 }, () => gateway('/burst', secret)));
  await Promise.all(responses.map((response) => response.arrayBuffer()));
  t.same(
    responses.map((response) => response.status).sort(),
    [200, 200, 200, 429, 429],
    'a burst of 5 against a limit of 3 admits exactly 3',
  );
  for (const response of responses) {
    t.equal(response.headers.get('ratelimit-policy'), '"1m";q=3;w=60');
    t.match(response.headers.get('ratelimit') ?? '', /^"1m";r=\d+;t=\d+$/);
  }
  const rejected = responses.find((response) => response.status === 429);
  t.ok(Number(rejected?.headers.get('retry-after')) >= 1, 'a 429 carries Retry-After');
});

t.test('the requests the gateway answered appear in GET /v1/request-logs', async (t) => {
  t.ok(createdKey, 'the enforcement test created a key');
  const keyId = createdKey?.id ?? '';
  const deadline = Date.now() + 30_000;
  let items: { status: number; limited: boolean; key_id: string }[] = [];
  while (Date.now() < deadline) {
    const page = await rest('GET', `/v1/request-logs?key_id=${keyId}`);
    items = page.body.items;
    if (items.length >= 5) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  // The quota polls are /_gateway/ requests and are not logged.
  t.same(items.map((item) => item.status).sort(), [200, 200, 200, 429, 429]);
  t.same(items.filter((item) => item.limited).length, 2);
});

t.test('a second launcher on the same data directory exits 1 instead of opening the database twice', async (t) => {
  const second = spawnLauncher(env({ GATEWAY_PORT: '0', GATEWAY_OPS_PORT: '0', CONTROL_PLANE_PORT: '0' }), cwd);
  t.equal(await second.exited, 1);
  t.match(second.stderr(), new RegExp(`^TOLLGATE_DATA_DIR ${dataDir} is in use by another tollgate \\(pid ${launcher.child.pid}\\)\n$`));
});

t.test('SIGINT stops it with exit 0, and a restart on the same data directory still enforces the key', async (t) => {
  launcher.child.kill('SIGINT');
  t.equal(await launcher.exited, 0);

  const configuredToken = 'configured-admin-token-0123456789';
  launcher = spawnLauncher(env({ ADMIN_TOKEN: configuredToken }), cwd);
  banner = await launcher.banner();
  t.match(banner, /admin token\s+configured-admin-token-0123456789\s+\(from ADMIN_TOKEN\)/);
  t.match(banner, /demo tier\s+demo: 5 per 1m, 100 per 1h\n/, 'the demo tier is not created again');
  t.match(banner, `(kept in ${join(dataDir, 'admin-password')})`, 'the admin user password is the stored one');
  t.equal((await rest('GET', '/v1/tiers', undefined, configuredToken)).status, 200, 'ADMIN_TOKEN is the token');
  t.equal((await rest('GET', '/v1/tiers', undefined, adminToken)).status, 401, 'the stored token is not used then');

  const response = await gateway('/after-restart', createdKey?.secret ?? '');
  await response.arrayBuffer();
  t.equal(response.status, 200, 'a key created before the restart still works');
  t.equal(response.headers.get('ratelimit-policy'), '"1m";q=3;w=60');

  launcher.child.kill('SIGTERM');
  t.equal(await launcher.exited, 0, 'SIGTERM stops it with exit 0 too');
});
