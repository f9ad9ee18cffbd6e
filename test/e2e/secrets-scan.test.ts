// No secret outlives the one response that hands it out. A control plane and a gateway run as real
// processes (logging at trace, the most they ever write) while keys are created, rotated, used
// through the gateway, refused and revoked over REST and through the admin UI, and an operator
// signs in with a wrong and then the right password. Then everything the system kept or said is
// searched for every key secret, the admin token and both passwords, in plain, base64, base64url
// and hex forms: every log line of both processes, both /metrics, every response (body and
// headers), every Redis key, value, change message and request event under the test's prefix, and
// every row of every table. Only the create and rotate answers may carry the secret they return.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import t from 'tap';
import { changeChannel, requestEventStream } from '../../contracts/redis-keys.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { freePort } from '../../test-support/ports.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { startService, waitUntil, type Service } from './helpers/services.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ADMIN_TOKEN = `scan-admin-${randomBytes(18).toString('base64url')}`;
const ADMIN_USER = 'scanner';
const ADMIN_PASSWORD = `right-${randomBytes(12).toString('base64url')}`;
const WRONG_PASSWORD = `wrong-${randomBytes(12).toString('base64url')}`;
const PROPAGATION_MS = 5000;

/** Everything the scenario saw, each piece with the secrets it may carry (a create or rotate answer). */
interface Seen {
  readonly what: string;
  readonly text: string;
  /** Filled in once the secret is read out of the answer. */
  readonly mayHold: string[];
}
const seen: Seen[] = [];
const secrets: string[] = [];

// ---- the system ------------------------------------------------------------------------------

const upstream: Server = createServer((_request, response) => response.end('{"ok":true}'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const database = await createTestDatabase('secrets_scan');
const prefix = uniquePrefix('secrets-scan');
const [cpPort, gatewayPort, opsPort] = [await freePort(), await freePort(), await freePort()];
const controlPlane = `http://127.0.0.1:${cpPort}`;
const gateway = `http://127.0.0.1:${gatewayPort}`;
const ops = `http://127.0.0.1:${opsPort}`;
const services: Service[] = [
  startService('control-plane/src/main.ts', {
    DATABASE_URL: database.url,
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    CONTROL_PLANE_PORT: String(cpPort),
    ADMIN_TOKEN,
    ADMIN_USER,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'trace',
  }),
  startService('gateway/src/main.ts', {
    REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_OPS_PORT: String(opsPort),
    GATEWAY_UPSTREAM: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
    GATEWAY_REDIS_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'trace',
  }),
];

// Change messages and request events pass through Redis and may be gone by the end: keep each.
const listener = new Redis(REDIS_URL);
const reader = new Redis(REDIS_URL);
const redis = new Redis(REDIS_URL);
await listener.subscribe(changeChannel(prefix));
listener.on('message', (_channel: string, message: string) => seen.push({ what: 'a change message', text: message, mayHold: [] }));
let reading = true;
const eventsRead = (async () => {
  let last = '0';
  while (reading) {
    const batches = (await reader.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', requestEventStream(prefix), last)) ?? [];
    for (const [, entries] of batches) {
      for (const [id, fields] of entries) {
        last = id;
        seen.push({ what: `request event ${id}`, text: fields.join(' '), mayHold: [] });
      }
    }
  }
})();

t.teardown(async () => {
  reading = false;
  await eventsRead;
  await Promise.all(services.map((service) => service.stop()));
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  for (const client of [listener, reader, redis]) client.disconnect();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await database.drop();
});

const ready = await waitUntil(async () => {
  const answers = await Promise.all([fetch(`${controlPlane}/readyz`), fetch(`${ops}/readyz`)]);
  return answers.every((answer) => answer.status === 200);
}, 60_000);
if (!ready) throw new Error(`services did not become ready:\n${services.map((service) => service.output()).join('\n---\n')}`);

// ---- calls that keep what they saw -------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function call(what: string, url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { redirect: 'manual', ...init });
  const text = await response.text();
  const headers = [...response.headers].map(([name, value]) => `${name}: ${value}`).join('\n');
  seen.push({ what, text: `${headers}\n\n${text}`, mayHold: [] });
  return { status: response.status, headers: response.headers, text };
}

function rest(method: string, path: string, body?: unknown): Promise<Answer> {
  return call(`${method} ${path}`, controlPlane + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** A create or rotate answer: the one place its secret may appear. */
async function restWithSecret(method: string, path: string, body?: unknown): Promise<{ id: string; secret: string }> {
  const answer = await rest(method, path, body);
  const key = JSON.parse(answer.text) as { id: string; secret: string };
  handedOut(key.secret);
  return key;
}

/** A secret the last answer handed out: watched from now on, allowed in that answer only. */
function handedOut(secret: string): void {
  secrets.push(secret);
  seen.at(-1)?.mayHold.push(secret);
}

let gatewayRequests = 0;
function throughGateway(what: string, headers: Record<string, string>, path = '/orders'): Promise<Answer> {
  if (!path.startsWith('/_gateway/')) gatewayRequests += 1;
  return call(`gateway: ${what}`, gateway + path, { headers });
}

/** Polls until the gateway answers `status` with this key (propagation takes up to a second). */
async function untilGatewaySays(secret: string, status: number): Promise<boolean> {
  return waitUntil(async () => (await fetch(`${gateway}/_gateway/quota`, { headers: { 'x-api-key': secret } })).status === status, PROPAGATION_MS);
}

// ---- the scenario ------------------------------------------------------------------------------

t.test('the scenario runs: keys created, used, rotated, refused and revoked over REST', async (t) => {
  t.equal((await rest('POST', '/v1/tiers', { name: 'scan', limits: [{ window: '1m', limit: 3 }] })).status, 201);
  const first = await restWithSecret('POST', '/v1/keys', { name: 'scan-first', tier: 'scan' });
  const second = await restWithSecret('POST', '/v1/keys', { name: 'scan-second', tier: 'scan' });
  t.ok(await untilGatewaySays(first.secret, 200), 'the gateway knows the first key');
  t.equal((await throughGateway('X-API-Key', { 'x-api-key': first.secret })).status, 200);
  t.equal((await throughGateway('Authorization: Bearer', { authorization: `Bearer ${first.secret}` })).status, 200);
  await throughGateway('the quota', { 'x-api-key': first.secret }, '/_gateway/quota');
  await throughGateway('until limited', { 'x-api-key': first.secret });
  t.equal((await throughGateway('over the limit', { 'x-api-key': first.secret })).status, 429);
  await throughGateway('two keys at once', { 'x-api-key': first.secret, authorization: `Bearer ${second.secret}` });

  const rotated = await restWithSecret('POST', `/v1/keys/${first.id}/rotate`);
  t.ok(await untilGatewaySays(first.secret, 401), 'the old secret stops working');
  t.equal((await throughGateway('the old secret', { 'x-api-key': first.secret })).status, 401);
  t.ok(await untilGatewaySays(rotated.secret, 200), 'the new one works');
  t.equal((await throughGateway('an unknown key', { 'x-api-key': `tg_${randomBytes(24).toString('base64url')}` })).status, 401);
  t.equal((await throughGateway('the admin token as a key', { authorization: `Bearer ${ADMIN_TOKEN}` })).status, 401);

  t.ok(await untilGatewaySays(second.secret, 200));
  t.equal((await rest('DELETE', `/v1/keys/${second.id}`)).status, 204);
  t.ok(await untilGatewaySays(second.secret, 401), 'the revoked key stops working');
  t.equal((await throughGateway('a revoked key', { 'x-api-key': second.secret })).status, 401);

  const misdirected = await call('a key secret sent to the control plane', `${controlPlane}/v1/tiers`, {
    headers: { authorization: `Bearer ${rotated.secret}`, 'x-api-key': second.secret },
  });
  t.equal(misdirected.status, 401);
  for (const path of ['/v1/keys?limit=500', `/v1/keys/${first.id}`, `/v1/keys/${first.id}/usage`, '/v1/audit-log?limit=500', '/v1/request-logs?limit=500']) {
    t.equal((await rest('GET', path)).status, 200, path);
  }
  t.equal((await rest('GET', `/v1/keys?q=${encodeURIComponent(rotated.secret.slice(0, 8))}`)).status, 200, 'a search by prefix');
});

/** The admin UI's form token on a page. */
function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no CSRF field on the page');
  return token;
}
const cookieOf = (answer: Answer, name: string) =>
  answer.headers
    .getSetCookie()
    .find((cookie) => cookie.startsWith(`${name}=`))
    ?.split(';')[0] ?? '';
const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});
/** The secret a page shows once, in its data-testid="new-secret" element. */
const shownSecret = (html: string) => /data-testid="new-secret"[^>]*>([^<]+)</.exec(html)?.[1]?.trim() ?? '';

t.test('the scenario runs: an operator signs in wrong, then right, and creates, rotates and revokes a key', async (t) => {
  const login = await call('the sign-in page', `${controlPlane}/admin/login`);
  const formCookie = cookieOf(login, 'tollgate_sign_in');
  const withForm = (fields: Record<string, string>) => {
    const init = form({ csrf: csrfOf(login.text), username: ADMIN_USER, ...fields });
    return { ...init, headers: { ...(init.headers as Record<string, string>), cookie: formCookie } };
  };
  t.equal((await call('a wrong password', `${controlPlane}/admin/login`, withForm({ password: WRONG_PASSWORD }))).status, 401);
  const signedIn = await call('the right password', `${controlPlane}/admin/login`, withForm({ password: ADMIN_PASSWORD }));
  t.equal(signedIn.status, 303);
  const session = { cookie: cookieOf(signedIn, 'tollgate_session') };

  const keysPage = await call('the keys page', `${controlPlane}/admin/keys`, { headers: session });
  const createInit = form({ csrf: csrfOf(keysPage.text), name: 'scan-ui', tier: 'scan', expires: '' });
  t.equal((await call('the new-key form', `${controlPlane}/admin/keys`, { ...createInit, headers: { ...(createInit.headers as Record<string, string>), ...session } })).status, 303);
  const created = await call('the page showing the new secret', `${controlPlane}/admin/keys`, { headers: session });
  const uiSecret = shownSecret(created.text);
  t.match(uiSecret, /^tg_/, 'the page shows the new secret');
  handedOut(uiSecret);
  t.notOk((await call('the keys page again', `${controlPlane}/admin/keys`, { headers: session })).text.includes(uiSecret), 'only once');

  const keyId = /href="\/admin\/keys\/(key_[A-Za-z0-9]+)"/.exec(created.text)?.[1] ?? '';
  t.ok(await untilGatewaySays(uiSecret, 200));
  t.equal((await throughGateway('the key made in the admin UI', { 'x-api-key': uiSecret })).status, 200);
  const confirm = await call('the rotate confirmation', `${controlPlane}/admin/keys/${keyId}/rotate`, { headers: session });
  const rotateInit = form({ csrf: csrfOf(confirm.text) });
  t.equal((await call('the rotate form', `${controlPlane}/admin/keys/${keyId}/rotate`, { ...rotateInit, headers: { ...(rotateInit.headers as Record<string, string>), ...session } })).status, 303);
  const rotatedPage = await call('the page showing the rotated secret', `${controlPlane}/admin/keys/${keyId}`, { headers: session });
  const rotatedSecret = shownSecret(rotatedPage.text);
  t.match(rotatedSecret, /^tg_/, 'the page shows the rotated secret');
  handedOut(rotatedSecret);
  const revokeConfirm = await call('the revoke confirmation', `${controlPlane}/admin/keys/${keyId}/revoke`, { headers: session });
  const revokeInit = form({ csrf: csrfOf(revokeConfirm.text) });
  await call('the revoke form', `${controlPlane}/admin/keys/${keyId}/revoke`, { ...revokeInit, headers: { ...(revokeInit.headers as Record<string, string>), ...session } });
  for (const page of ['/admin/keys', `/admin/keys/${keyId}`, '/admin/audit-log', '/admin/request-logs']) {
    t.equal((await call(`the page ${page}`, controlPlane + page, { headers: session })).status, 200, page);
  }
});

t.test('every request the gateway answered reached the request log', async (t) => {
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  t.teardown(() => sql.end());
  const arrived = await waitUntil(async () => Number((await sql`select count(*) as n from request_log`)[0]?.n) >= gatewayRequests, 30_000);
  t.ok(arrived, `${gatewayRequests} rows`);
});

// ---- the scan ----------------------------------------------------------------------------------

/** The forms a secret could be written in without being recognised at a glance. */
function disguises(secret: string): string[] {
  const bytes = Buffer.from(secret);
  const forms = [secret, bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(secret)];
  // A key secret stored without its tg_ prefix would still be the secret.
  if (secret.startsWith('tg_')) forms.push(secret.slice(3));
  return [...new Set(forms)];
}

/** How to read a whole value of each Redis type. */
const READ_ALL: Readonly<Record<string, readonly string[]>> = {
  string: ['GET'],
  hash: ['HGETALL'],
  zset: ['ZRANGE', '0', '-1', 'WITHSCORES'],
  set: ['SMEMBERS'],
  list: ['LRANGE', '0', '-1'],
  stream: ['XRANGE', '-', '+'],
};

async function redisContents(): Promise<Seen[]> {
  const found: Seen[] = [];
  for (const key of await redis.keys(`${prefix}:*`)) {
    const type = await redis.type(key);
    const [command, ...args] = READ_ALL[type] ?? ['TYPE'];
    const value = await redis.call(command as string, key, ...args);
    found.push({ what: `redis ${type} ${key}`, text: `${key} ${JSON.stringify(value)}`, mayHold: [] });
  }
  return found;
}

async function tableContents(): Promise<Seen[]> {
  const sql = postgres(database.url, { max: 1, onnotice: () => {} });
  try {
    const tables = await sql<{ name: string }[]>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'`;
    const found: Seen[] = [];
    for (const { name } of tables) {
      // A row cast to text shows every column.
      const rows = await sql<{ row: string }[]>`select t::text as row from ${sql(name)} t`;
      found.push({ what: `table ${name} (${rows.length} rows)`, text: rows.map((row) => row.row).join('\n'), mayHold: [] });
    }
    return found;
  } finally {
    await sql.end();
  }
}

t.test('no log line, metric, response, Redis value or table row holds a secret', async (t) => {
  t.equal(secrets.length, 5, 'five key secrets were handed out (REST create ×2, rotate, admin UI create, rotate)');
  const watched = [...secrets, ADMIN_TOKEN, ADMIN_PASSWORD, WRONG_PASSWORD];
  const metrics = [
    { what: 'control plane /metrics', text: await (await fetch(`${controlPlane}/metrics`)).text(), mayHold: [] },
    { what: 'gateway /metrics', text: await (await fetch(`${ops}/metrics`)).text(), mayHold: [] },
  ];
  const redisSeen = await redisContents();
  const tables = await tableContents();
  const logs = services.flatMap((service, index) =>
    service
      .output()
      .split('\n')
      .filter(Boolean)
      .map((line, number) => ({ what: `${index === 0 ? 'control plane' : 'gateway'} log line ${number + 1}`, text: line, mayHold: [] })),
  );
  const everything: Seen[] = [...logs, ...metrics, ...seen, ...redisSeen, ...tables];

  // The search must be able to find something: the answers that hand out a secret do hold it.
  t.ok(seen.some((piece) => piece.mayHold.length > 0 && piece.text.includes(piece.mayHold[0] as string)), 'a create answer holds its secret');
  const cpCalls = seen.filter((piece) => !piece.what.startsWith('gateway') && !piece.what.startsWith('request event') && !piece.what.startsWith('a change')).length;
  const cpLines = logs.filter((line) => line.what.startsWith('control plane')).length;
  t.ok(cpLines >= cpCalls, `the control plane logged ${cpLines} lines for ${cpCalls} calls (one access line each, at least)`);
  t.ok(logs.length > cpLines, 'the gateway logged too');
  t.ok(redisSeen.length > 5, `${redisSeen.length} Redis keys scanned`);
  t.ok(seen.filter((piece) => piece.what.startsWith('request event')).length > 0, 'request events scanned');
  t.ok(tables.some((table) => table.what.startsWith('table api_keys') && table.text.length > 0), 'table rows scanned');
  t.comment(`scanned ${logs.length} log lines, ${seen.length} responses and messages, ${redisSeen.length} Redis keys, ${tables.length} tables`);

  const leaks: string[] = [];
  for (const piece of everything) {
    for (const secret of watched) {
      if (piece.mayHold.includes(secret)) continue;
      const form = disguises(secret).find((candidate) => piece.text.includes(candidate));
      if (form !== undefined) leaks.push(`${piece.what} holds ${secret === form ? 'a secret' : `a secret as ${form.slice(0, 6)}…`}`);
    }
  }
  t.same(leaks, [], 'nothing holds a secret');
});
