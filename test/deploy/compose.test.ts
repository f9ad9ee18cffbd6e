// compose/compose.yaml as a whole stack: what docker-compose parses, what it refuses, and how its
// services fit the nginx and Prometheus configs they run with. (dclint, the schema lint, runs in
// `npm run lint`.)
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parse } from 'yaml';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMPOSE_DIR = join(ROOT, 'compose');

interface Service {
  image?: string;
  build?: { context: string; target: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
  ports?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  restart?: string;
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet: string }[] } }>;
}

const composeText = readFileSync(join(COMPOSE_DIR, 'compose.yaml'), 'utf8');
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services;
const SECRETS = { POSTGRES_PASSWORD: 'pg-secret', ADMIN_TOKEN: 'admin-token-0123456789', ADMIN_PASSWORD: 'ui-secret', GRAFANA_ADMIN_PASSWORD: 'grafana-secret' };

async function hasDockerCompose(): Promise<boolean> {
  try {
    await run('docker-compose', ['version']);
    return true;
  } catch {
    return false;
  }
}

async function composeConfig(env: Record<string, string>, files = ['compose.yaml']): Promise<{ code: number; out: string }> {
  const args = files.flatMap((file) => ['-f', file]).concat('config');
  try {
    // A clean environment: only PATH and the variables given, so no .env of the machine leaks in.
    const { stdout } = await run('docker-compose', args, { cwd: COMPOSE_DIR, env: { PATH: process.env.PATH ?? '', ...env } });
    return { code: 0, out: stdout };
  } catch (error) {
    const failure = error as { code?: number; stderr?: string };
    return { code: failure.code ?? 1, out: failure.stderr ?? '' };
  }
}

const composeMissing = !(await hasDockerCompose()) && !process.env.CI ? 'docker-compose (v1, Debian) is not installed' : false;

t.test('docker-compose parses the stack, with the TLS file layered on top as well', { skip: composeMissing }, async (t) => {
  const plain = await composeConfig(SECRETS);
  t.equal(plain.code, 0, plain.out);
  const parsed = parse(plain.out) as ComposeFile;
  t.same(Object.keys(parsed.services).sort(), Object.keys(services).sort());
  const tls = await composeConfig({ ...SECRETS, TLS_CERT_DIR: '/etc/ssl/tollgate' }, ['compose.yaml', 'compose.tls.yaml']);
  t.equal(tls.code, 0, tls.out);
  t.match((parse(tls.out) as ComposeFile).services.nginx?.ports?.join(' '), /443/);
});

t.test('docker-compose refuses to start the stack while a secret is missing and names it', { skip: composeMissing }, async (t) => {
  for (const name of Object.keys(SECRETS)) {
    const env: Record<string, string> = { ...SECRETS };
    delete env[name];
    const result = await composeConfig(env);
    t.not(result.code, 0, `without ${name}`);
    t.match(result.out, `set ${name} in compose/.env`);
  }
});

t.test('no password or token is written in the compose files', async (t) => {
  const texts = [composeText, readFileSync(join(COMPOSE_DIR, 'compose.tls.yaml'), 'utf8')];
  for (const [name, service] of Object.entries(services)) {
    for (const [variable, value] of Object.entries(service.environment ?? {})) {
      if (/PASSWORD|TOKEN|SECRET/.test(variable)) t.match(String(value), /^\$\{[A-Z_]+:\?[^}]+\}$/, `${name} ${variable} comes from .env`);
      if (/_URL$/.test(variable)) {
        const credentials = /^\w+:\/\/[^:/@]+:([^@]+)@/.exec(String(value));
        if (credentials) t.match(credentials[1], /^\$\{[A-Z_]+:\?[^}]+\}$/, `${name} ${variable}'s password comes from .env`);
      }
    }
  }
  for (const text of texts) {
    t.notMatch(text, /^\s*-?\s*[A-Z_]*(PASSWORD|TOKEN|SECRET)[A-Z_]*[:=]\s*['"]?(?!\$\{)\S/m, 'no literal secret assignment');
  }
});

t.test('Redis never evicts keys and keeps an append-only file flushed every second', async (t) => {
  const command = (services.redis?.command ?? []).join(' ');
  t.match(command, /--maxmemory-policy noeviction\b/);
  t.match(command, /--appendonly yes\b/);
  t.match(command, /--appendfsync everysec\b/);
  t.ok(services.redis?.volumes?.some((volume) => /^redis-data:\/data$/.test(volume)), 'the append-only file lives on a named volume');
});

t.test('stateful services keep their data on named volumes the file declares', async (t) => {
  const declared = new Set(Object.keys(compose.volumes ?? {}));
  for (const name of ['postgres', 'redis', 'prometheus', 'grafana']) {
    const named = (services[name]?.volumes ?? []).map((volume) => volume.split(':')[0] ?? '').filter((source) => !source.startsWith('.'));
    t.ok(named.length > 0, `${name} has a named volume`);
    for (const volume of named) t.ok(declared.has(volume), `${volume} is declared`);
  }
});

t.test('every dependency is waited for until healthy, or until done for the one-shot migration', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
      const target = services[dependency];
      t.ok(target, `${name} depends on ${dependency}, a service of the file`);
      if (dependency === 'migrate') {
        t.equal(condition, 'service_completed_successfully', `${name} waits for migrate to finish`);
      } else {
        t.equal(condition, 'service_healthy', `${name} waits for ${dependency} to be healthy`);
        const imageHasHealthcheck = target?.build !== undefined;
        t.ok(target?.healthcheck?.test !== undefined || (imageHasHealthcheck && !target?.healthcheck?.disable), `${dependency} has a health check`);
      }
    }
  }
  t.equal(services.migrate?.restart, 'no', 'the migration runs once');
  t.same(services['control-plane']?.depends_on?.migrate, { condition: 'service_completed_successfully' });
});

function gatewayServices(): string[] {
  return Object.entries(services)
    .filter(([, service]) => service.build?.target === 'gateway')
    .map(([name]) => name)
    .sort();
}

t.test('two gateway replicas run from the gateway target with time to drain on stop', async (t) => {
  const gateways = gatewayServices();
  t.same(gateways, ['gateway-1', 'gateway-2']);
  for (const name of gateways) {
    const seconds = Number.parseInt(services[name]?.stop_grace_period ?? '10', 10);
    t.ok(seconds > 30, `${name} gets ${seconds} s after SIGTERM, more than the 30 s drain`);
  }
});

t.test('Prometheus scrapes every gateway replica and nginx balances over every one', async (t) => {
  const gateways = gatewayServices();
  const prometheus = parse(readFileSync(join(ROOT, 'observability/prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  };
  const job = prometheus.scrape_configs.find((config) => config.job_name === 'tollgate-gateway');
  const targets = (job?.static_configs ?? []).flatMap((group) => group.targets).sort();
  t.same(targets, gateways.map((name) => `${name}:9080`), 'one scrape target per replica, on its ops port');
  const nginx = readFileSync(join(ROOT, 'nginx/nginx.conf'), 'utf8');
  const pool = /upstream tollgate_gateways \{([^}]*)\}/.exec(nginx)?.[1] ?? '';
  const servers = [...pool.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((match) => match[1]).sort();
  t.same(servers, gateways.map((name) => `${name}:8080`), 'one upstream server per replica, on its public port');
  const controlPlane = prometheus.scrape_configs.find((config) => config.job_name === 'tollgate-control-plane');
  t.same(controlPlane?.static_configs.flatMap((group) => group.targets), ['control-plane:8081']);
});

t.test("the services trust exactly nginx's fixed address as their proxy", async (t) => {
  const networks = services.nginx?.networks as Record<string, { ipv4_address?: string }>;
  const address = networks.tollgate?.ipv4_address;
  t.match(address, /^\d+\.\d+\.\d+\.\d+$/);
  const subnet = compose.networks?.tollgate?.ipam?.config?.[0]?.subnet ?? '';
  t.ok(address?.startsWith(subnet.split('.').slice(0, 3).join('.') + '.'), `${address} lies in ${subnet}`);
  for (const name of gatewayServices()) t.equal(services[name]?.environment?.GATEWAY_TRUSTED_PROXIES, address, name);
  t.equal(services['control-plane']?.environment?.CONTROL_PLANE_TRUSTED_PROXIES, address);
});

t.test('only nginx is published to every interface; Prometheus and Grafana to loopback only', async (t) => {
  for (const [name, service] of Object.entries(services)) {
    for (const port of service.ports ?? []) {
      if (name === 'nginx') t.match(port, /^0\.0\.0\.0:/, `nginx ${port}`);
      else t.match(port, /^127\.0\.0\.1:/, `${name} ${port}`);
    }
  }
});

t.test('compose/.env.example lists every variable the compose files read', async (t) => {
  const example = readFileSync(join(COMPOSE_DIR, '.env.example'), 'utf8');
  const texts = composeText + readFileSync(join(COMPOSE_DIR, 'compose.tls.yaml'), 'utf8');
  const variables = new Set([...texts.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1] ?? ''));
  t.ok(variables.size >= 8);
  for (const variable of variables) t.match(example, new RegExp(`^#? ?${variable}=`, 'm'), variable);
});
