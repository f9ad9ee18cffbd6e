import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import t from 'tap';
import { createApp } from '../../src/app.js';
import { createDb, postgresDialect } from '../../src/db.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../../../test-support/ports.js';
import { RecordingPublisher } from '../helpers/recording-publisher.js';
import { ADMIN_TOKEN, LogCapture, startTestApp } from '../helpers/test-app.js';

const ctx = await startTestApp('http', {
  extraRoutes: () => [
    {
      method: 'GET',
      path: '/v1/explode',
      auth: true,
      async handler() {
        throw new Error('select secret_hash from api_keys where x = 1');
      },
    },
  ],
});
t.teardown(() => ctx.close());

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request written by hand: a lying Content-Length, or a chunked body of any size. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  writeBody: (write: (chunk: Buffer) => boolean) => void,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, ctx.baseUrl);
    const request = httpRequest(url, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    // The server may answer and close before we finish sending; the answer is what we test.
    request.on('error', reject);
    writeBody((chunk) => request.write(chunk));
    request.end();
  });
}

t.test('a /v1 call without a token, with a wrong one or with another scheme answers 401', async (t) => {
  for (const authorization of ['', `Bearer ${ADMIN_TOKEN}x`, 'Bearer short', `Basic ${ADMIN_TOKEN}`]) {
    const response = await ctx.call('GET', '/v1/tiers', undefined, { authorization });
    t.equal(response.status, 401, authorization || 'no header');
    t.equal(response.headers.get('content-type'), 'application/problem+json');
    t.match(response.body, { type: 'https://tollgate.dev/problems/unauthorized', status: 401, title: 'Unauthorized' });
  }
  t.equal((await ctx.call('GET', '/v1/tiers')).status, 200, 'the right token passes');
});

t.test('an unknown route answers 404 problem+json and a wrong method 405 with Allow', async (t) => {
  const missing = await ctx.call('GET', '/v2/nothing');
  t.equal(missing.status, 404);
  t.equal(missing.headers.get('content-type'), 'application/problem+json');
  const wrong = await ctx.call('PUT', '/v1/tiers');
  t.equal(wrong.status, 405);
  t.equal(wrong.headers.get('allow'), 'POST, GET');
  t.equal(wrong.body.status, 405);
});

t.test('a body that is not application/json answers 415', async (t) => {
  const text = await ctx.call('POST', '/v1/tiers', '{"name":"x"}', { 'content-type': 'text/plain' });
  t.equal(text.status, 415);
  t.equal(text.body.type, 'https://tollgate.dev/problems/unsupported-media-type');
  const form = await ctx.call('PATCH', '/v1/tiers/x', 'a=b', { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(form.status, 415);
  const charset = await ctx.call('POST', '/v1/tiers', '{', { 'content-type': 'application/json; charset=utf-8' });
  t.equal(charset.status, 400, 'application/json with a charset is JSON');
});

t.test('malformed JSON answers 400 without echoing parser internals', async (t) => {
  const response = await ctx.call('POST', '/v1/tiers', '{"name": "gold",');
  t.equal(response.status, 400);
  t.same(response.body, {
    type: 'https://tollgate.dev/problems/malformed-json',
    title: 'Bad Request',
    status: 400,
    detail: 'the request body is not valid JSON',
  });
});

t.test('a declared body over 1 MiB answers 413 before it is read', async (t) => {
  const response = await rawRequest(
    'POST',
    '/v1/tiers',
    { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) },
    (write) => write(Buffer.from('{"name":')),
  );
  t.equal(response.status, 413);
  t.equal(JSON.parse(response.body).type, 'https://tollgate.dev/problems/payload-too-large');
});

t.test('a chunked body that grows past 1 MiB answers 413', async (t) => {
  const response = await rawRequest('POST', '/v1/tiers', { 'content-type': 'application/json' }, (write) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent <= 1024 * 1024 + chunk.length; sent += chunk.length) write(chunk);
  });
  t.equal(response.status, 413);
});

t.test('an unexpected failure answers 500 without stack or SQL and is logged', async (t) => {
  const response = await ctx.call('GET', '/v1/explode');
  t.equal(response.status, 500);
  t.same(response.body, {
    type: 'https://tollgate.dev/problems/internal-error',
    title: 'Internal Server Error',
    status: 500,
    detail: 'an unexpected error occurred',
  });
  t.notOk(response.text.includes('select'));
  t.ok(ctx.logs.lines.some((line) => line.includes('request failed')));
});

t.test('healthz and readyz answer 200 without a token', async (t) => {
  const health = await ctx.call('GET', '/healthz', undefined, { authorization: '' });
  t.equal(health.status, 200);
  const ready = await ctx.call('GET', '/readyz', undefined, { authorization: '' });
  t.equal(ready.status, 200);
});

async function readyzWithDatabaseAt(port: number) {
  const db = createDb(postgresDialect(`postgres://postgres@127.0.0.1:${port}/nowhere`, { max: 1, connectTimeoutSeconds: 1 }));
  const app = createApp({
    db,
    publisher: new RecordingPublisher(),
    logger: createLogger('silent'),
    adminToken: ADMIN_TOKEN,
    readyTimeoutMs: 500,
  });
  const appPort = await app.listen(0, '127.0.0.1');
  const response = await fetch(`http://127.0.0.1:${appPort}/readyz`);
  const body = (await response.json()) as { type: string; detail: string };
  const healthz = (await fetch(`http://127.0.0.1:${appPort}/healthz`)).status;
  return {
    response,
    body,
    healthz,
    async close() {
      await app.close(100);
      // A query stuck on a silent server keeps postgres.js's end() waiting: don't wait for it.
      await Promise.race([db.destroy().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 500))]);
    },
  };
}

t.test('readyz answers 503 problem+json when PostgreSQL refuses connections', async (t) => {
  // A port that was free a moment ago refuses connections (and if another test took it since,
  // the silent-server case below covers what then happens).
  const ready = await readyzWithDatabaseAt(await freePort());
  t.teardown(() => ready.close());
  t.equal(ready.response.status, 503);
  t.equal(ready.response.headers.get('content-type'), 'application/problem+json');
  t.equal(ready.body.type, 'https://tollgate.dev/problems/not-ready');
  t.notMatch(ready.body.detail, /ECONNREFUSED|127\.0\.0\.1/);
  t.equal(ready.healthz, 200, 'healthz stays 200');
});

t.test('readyz answers 503 within its budget when PostgreSQL accepts connections but never answers', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const ready = await readyzWithDatabaseAt((silent.address() as AddressInfo).port);
  t.teardown(async () => {
    // Closing the silent server's sockets fails the stuck query, so nothing keeps the process alive.
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    await ready.close();
  });
  t.equal(ready.response.status, 503);
  t.equal(ready.body.type, 'https://tollgate.dev/problems/not-ready');
  t.equal(ready.healthz, 200, 'healthz stays 200');
});

t.test('metrics count requests by route template, never by raw path', async (t) => {
  await ctx.call('GET', '/v1/keys/key_secretlooking123');
  await ctx.call('GET', '/v1/tiers/some-tier-name');
  const response = await ctx.call('GET', '/metrics', undefined, { authorization: '' });
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/plain/);
  t.match(response.text, /tollgate_control_plane_http_requests_total\{route="\/v1\/keys\/\{id\}",method="GET",code="404"\} \d+/);
  t.match(response.text, /tollgate_control_plane_http_requests_total\{route="\/v1\/tiers\/\{name\}",method="GET",code="404"\}/);
  t.notOk(response.text.includes('key_secretlooking123'));
  t.notOk(response.text.includes('some-tier-name'));
  t.match(response.text, /tollgate_control_plane_process_cpu_seconds_total/);
});

t.test('each request writes one access log line with the route template and no token', async (t) => {
  await ctx.call('GET', '/v1/keys/key_accesslogged');
  const line = ctx.logs.lines.map((text) => JSON.parse(text)).find((entry) => entry.route === '/v1/keys/{id}' && entry.status === 404);
  t.match(line, { msg: 'request', method: 'GET', component: 'http', level: 30 });
  t.type(line.duration_ms, 'number');
  t.notOk(ctx.logs.lines.some((text) => text.includes(ADMIN_TOKEN) || text.includes('key_accesslogged')));
});

t.test('the logger redacts authorization, x-api-key, secret, password and token fields', async (t) => {
  const capture = new LogCapture();
  const logger = createLogger('info', capture);
  logger.info(
    {
      authorization: 'Bearer a',
      secret: 'tg_b',
      password: 'c',
      token: 'd',
      headers: { authorization: 'Bearer e', 'x-api-key': 'tg_f' },
      key: { secret: 'tg_g' },
    },
    'test',
  );
  const text = capture.lines.join('\n');
  for (const value of ['Bearer a', 'tg_b', '"c"', '"d"', 'Bearer e', 'tg_f', 'tg_g']) {
    t.notOk(text.includes(value), value);
  }
  t.ok(text.includes('[redacted]'));
});

t.test('the OpenAPI document is 3.1.0 and lists every route with its method and bearer security', async (t) => {
  const response = await ctx.call('GET', '/openapi.json', undefined, { authorization: '' });
  t.equal(response.status, 200);
  const document = JSON.parse(response.text);
  t.equal(document.openapi, '3.1.0');
  t.same(document.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' });
  for (const route of ctx.app.router.routes) {
    const operation = document.paths[route.path]?.[route.method.toLowerCase()];
    t.ok(operation, `${route.method} ${route.path}`);
    if (route.auth) t.notOk(operation.security, `${route.path} inherits bearer security`);
    else t.same(operation.security, [], `${route.path} is open`);
  }
  const createTier = document.paths['/v1/tiers'].post;
  t.same(createTier.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/TierCreate' });
  t.ok(createTier.responses['201'] && createTier.responses['400'] && createTier.responses['409']);
  t.same(document.components.schemas.TierCreate.required, ['name', 'limits']);
  t.equal(document.components.schemas.TierCreate.additionalProperties, false);
  const listKeys = document.paths['/v1/keys'].get;
  t.same(
    listKeys.parameters.map((parameter: { name: string }) => parameter.name),
    ['tier', 'active', 'q', 'limit', 'cursor'],
  );
  t.ok(document.paths['/v1/keys/{id}'].get.parameters.some((p: { name: string; in: string }) => p.name === 'id' && p.in === 'path'));
  const refs = JSON.stringify(document).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) t.ok(document.components.schemas[ref.split('/').at(-1) ?? ''], `${ref} resolves`);
});
