// Real nginx on the project's nginx.conf, rendered for a test: upstream hosts and listen ports
// mapped to loopback, HTTPS switched on by placing nginx/tls/https.conf and a certificate beside
// it, exactly as the image does. Runs in the foreground with its own pid file.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../../../test-support/ports.js';
import { startService, type Service } from './processes.js';
import { renderNginxConfig, type AddressMap } from './render-config.js';

const run = promisify(execFile);
const NGINX_DIR = fileURLToPath(new URL('../../../nginx/', import.meta.url));

export interface NginxSetup {
  readonly dir: string;
  readonly configPath: string;
  readonly httpPort: number;
  /** The JSON access log (a file of the test's own instead of /var/log/nginx/access.log). */
  readonly accessLogPath: string;
  /** Set when HTTPS is on. */
  readonly httpsPort?: number;
}

/** Writes the rendered config (and, with `tls`, the HTTPS include and a self-signed certificate). */
export async function prepareNginx(dir: string, upstreams: AddressMap, options: { tls?: boolean } = {}): Promise<NginxSetup> {
  mkdirSync(dir, { recursive: true });
  const httpPort = await freePort();
  const configPath = join(dir, 'nginx.conf');
  const accessLogPath = join(dir, 'access.log');
  const text = readFileSync(join(NGINX_DIR, 'nginx.conf'), 'utf8');
  writeFileSync(
    configPath,
    renderNginxConfig(text, upstreams, { '80': `127.0.0.1:${httpPort}` }, { '/var/log/nginx/access.log': accessLogPath }),
  );
  if (!options.tls) return { dir, configPath, httpPort, accessLogPath };
  const httpsPort = await freePort();
  mkdirSync(join(dir, 'tls.d'), { recursive: true });
  mkdirSync(join(dir, 'certs'), { recursive: true });
  const include = readFileSync(join(NGINX_DIR, 'tls/https.conf'), 'utf8');
  writeFileSync(join(dir, 'tls.d/https.conf'), renderNginxConfig(include, {}, { '443': `127.0.0.1:${httpsPort}` }));
  await run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-keyout', join(dir, 'certs/privkey.pem'), '-out', join(dir, 'certs/fullchain.pem'),
  ]);
  return { dir, configPath, httpPort, accessLogPath, httpsPort };
}

/** `nginx -t` on the rendered config; resolves with its output, rejects when it fails. */
export async function testNginxConfig(setup: NginxSetup): Promise<string> {
  const { stderr } = await run('nginx', ['-t', '-c', setup.configPath, '-p', setup.dir, '-e', 'stderr', '-g', `pid ${join(setup.dir, 'nginx.pid')};`]);
  return stderr;
}

export function startNginx(setup: NginxSetup): Service {
  return startService('nginx', 'nginx', ['-c', setup.configPath, '-p', setup.dir, '-e', 'stderr', '-g', `daemon off; pid ${join(setup.dir, 'nginx.pid')};`]);
}
