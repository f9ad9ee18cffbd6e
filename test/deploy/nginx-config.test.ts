// nginx/nginx.conf under Debian's nginx: `nginx -t` with the compose hostnames mapped, plain and
// with HTTPS switched on, and what HTTPS changes for a client (redirect, HSTS, the scheme passed
// on). Traffic through nginx to real gateways is test/stack/stack.test.ts's.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { prepareNginx, startNginx, testNginxConfig } from './helpers/nginx.js';
import { waitForUrl } from './helpers/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-nginx-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// One server stands in for every upstream: it records the headers each request arrived with.
const seen: IncomingHttpHeaders[] = [];
const backend = createServer((request, response) => {
  seen.push(request.headers);
  request.resume();
  request.on('end', () => response.end('{"from":"backend"}'));
});
await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
t.teardown(() => backend.close());
const backendAddress = `127.0.0.1:${(backend.address() as AddressInfo).port}`;
const upstreams = { 'gateway-1:8080': backendAddress, 'gateway-2:8080': backendAddress, 'control-plane:8081': backendAddress };

t.test('nginx -t accepts the config with the compose hostnames mapped and no certificate', async (t) => {
  const setup = await prepareNginx(join(dir, 'plain'), upstreams);
  t.match(await testNginxConfig(setup), /test is successful/);
});

t.test('nginx -t accepts the config with the HTTPS include and a certificate in place', async (t) => {
  const setup = await prepareNginx(join(dir, 'tls-check'), upstreams, { tls: true });
  t.match(await testNginxConfig(setup), /test is successful/);
});

function getHttps(port: number, path: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, servername: 'localhost' }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers }));
    });
    request.on('error', reject);
    request.end();
  });
}

t.test('with HTTPS on, plain HTTP redirects and HTTPS answers carry HSTS and tell upstreams the scheme', async (t) => {
  const setup = await prepareNginx(join(dir, 'tls'), upstreams, { tls: true });
  const nginx = startNginx(setup);
  t.teardown(() => nginx.stop('SIGQUIT'));
  await waitForUrl(`http://127.0.0.1:${setup.httpPort}/`, nginx, 20_000, 301);

  const plain = await fetch(`http://127.0.0.1:${setup.httpPort}/orders?id=7`, { redirect: 'manual' });
  t.equal(plain.status, 301);
  t.equal(plain.headers.get('location'), 'https://127.0.0.1/orders?id=7');

  const before = seen.length;
  const secure = await getHttps(setup.httpsPort ?? 0, '/orders');
  t.equal(secure.status, 200);
  t.match(secure.headers['strict-transport-security'], /^max-age=\d{8,}; includeSubDomains$/);
  t.equal(seen.length, before + 1, 'the request reached the upstream');
  t.equal(seen.at(-1)?.['x-forwarded-proto'], 'https');
});

t.test('without HTTPS, plain HTTP is served and no HSTS is sent', async (t) => {
  const setup = await prepareNginx(join(dir, 'plain-run'), upstreams);
  const nginx = startNginx(setup);
  t.teardown(() => nginx.stop('SIGQUIT'));
  await waitForUrl(`http://127.0.0.1:${setup.httpPort}/`, nginx, 20_000);
  const response = await fetch(`http://127.0.0.1:${setup.httpPort}/orders`, { redirect: 'manual' });
  t.equal(response.status, 200);
  t.equal(response.headers.get('strict-transport-security'), null);
  t.equal(seen.at(-1)?.['x-forwarded-proto'], 'http');
});
