// The control plane and `migrate` as processes: configuration errors, start, migrate, SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { freePort } from '../../test-support/ports.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const MIGRATE_CLI = fileURLToPath(new URL('../src/migrate-cli.ts', import.meta.url));
// Absolute, because the processes run in an empty directory (no stray .env).
const TSX_LOADER = import.meta.resolve('tsx');
const VALID_TOKEN = 'process-test-token-0123456789';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Spawned {
  readonly exited: Promise<Exit>;
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
}

function run(script: string, env: Record<string, string>, cwd = mkdtempSync(join(tmpdir(), 'tollgate-cp-'))): Spawned {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, script], {
    cwd,
    // Only what we pass: the parent's DATABASE_URL or ADMIN_TOKEN must not leak in.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  return { exited, pid: child.pid, kill: (signal) => child.kill(signal) };
}

t.test('invalid settings stop the process with exit 1 and one line naming the variable', async (t) => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'invalid configuration: ADMIN_TOKEN is required'],
    [{ ADMIN_TOKEN: 'short' }, 'invalid configuration: ADMIN_TOKEN must be at least 16 characters'],
    [{ CONTROL_PLANE_PORT: 'eighty' }, 'invalid configuration: CONTROL_PLANE_PORT must be a port number from 0 to 65535'],
    [{ CONTROL_PLANE_PORT: '70000' }, 'invalid configuration: CONTROL_PLANE_PORT must be a port number from 0 to 65535'],
    [{ CONTROL_PLANE_HOST: 'every where' }, 'invalid configuration: CONTROL_PLANE_HOST must be an IP address or a host name'],
    [{ LOG_LEVEL: 'loud' }, 'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ DATABASE_URL: 'mysql://db/tollgate' }, 'invalid configuration: DATABASE_URL must be a URL starting with postgres:// or postgresql://'],
    [{ REDIS_URL: 'localhost:6379' }, 'invalid configuration: REDIS_URL must be a URL starting with redis:// or rediss://'],
    [{ REDIS_CLUSTER_NODES: 'a:1,b' }, 'invalid configuration: REDIS_CLUSTER_NODES must be a comma-separated list of host:port ("b" is not host:port)'],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'invalid configuration: REDIS_KEY_PREFIX must be 1 to 64 letters, digits or : _ . -'],
    [{ REQUEST_LOG_RETENTION_DAYS: '0' }, 'invalid configuration: REQUEST_LOG_RETENTION_DAYS must be a whole number of days, at least 1'],
    [{ ADMIN_USER: 'alice' }, 'invalid configuration: ADMIN_PASSWORD is required when ADMIN_USER is set'],
    [{ ADMIN_USER: 'has space', ADMIN_PASSWORD: 'a long enough password' }, 'invalid configuration: ADMIN_USER must be 1 to 64 letters, digits or _ . @ - (starting with a letter or digit)'],
    [{ ADMIN_SESSION_IDLE_TIMEOUT: '30' }, 'invalid configuration: ADMIN_SESSION_IDLE_TIMEOUT must be a duration of at least 1m, such as 30m, 12h or 7d'],
    [{ ADMIN_SESSION_MAX_AGE: '30s' }, 'invalid configuration: ADMIN_SESSION_MAX_AGE must be a duration of at least 1m, such as 30m, 12h or 7d'],
    [{ CONTROL_PLANE_TRUSTED_PROXIES: '10.0.0.0/33' }, 'invalid configuration: CONTROL_PLANE_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDRs ("10.0.0.0/33" is neither)'],
    [{ CONTROL_PLANE_TRUSTED_PROXIES: '127.0.0.1, nginx' }, 'invalid configuration: CONTROL_PLANE_TRUSTED_PROXIES must be a comma-separated list of IP addresses or CIDRs ("nginx" is neither)'],
  ];
  const results = await Promise.all(
    cases.map(([env]) => run(MAIN, { ...(env.ADMIN_TOKEN || Object.keys(env).length === 0 ? {} : { ADMIN_TOKEN: VALID_TOKEN }), ...env }).exited),
  );
  cases.forEach(([env, line], index) => {
    const result = results[index];
    t.equal(result?.code, 1, JSON.stringify(env));
    t.equal(result?.stderr, `${line}\n`, JSON.stringify(env));
    t.equal(result?.stdout, '', JSON.stringify(env));
  });
});

t.test('a .env file is read and the real environment wins over it', async (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'tollgate-cp-env-'));
  writeFileSync(join(cwd, '.env'), 'ADMIN_TOKEN=short\nLOG_LEVEL=loud\n');
  const fromFile = await run(MAIN, {}, cwd).exited;
  t.equal(fromFile.stderr, 'invalid configuration: ADMIN_TOKEN must be at least 16 characters\n');
  const envWins = await run(MAIN, { ADMIN_TOKEN: VALID_TOKEN }, cwd).exited;
  t.equal(envWins.stderr, 'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent\n');
});

t.test('migrate applies every migration to DATABASE_URL and says so', async (t) => {
  const database = await createTestDatabase('migrate_cli');
  t.teardown(() => database.drop());
  const first = await run(MIGRATE_CLI, { DATABASE_URL: database.url }).exited;
  t.equal(first.code, 0, first.stderr);
  t.match(first.stdout, /applied 0001_initial\n/);
  t.match(first.stdout, /migrations: \d+ applied, 0 already applied\n$/);
});

t.test('the control plane migrates, serves, and exits 0 on SIGTERM', async (t) => {
  const database = await createTestDatabase('main');
  const redis = await startRedisServer();
  t.teardown(async () => {
    await redis.stop();
    await database.drop();
  });
  const port = await freePort();
  const proc = run(MAIN, {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    ADMIN_TOKEN: VALID_TOKEN,
    CONTROL_PLANE_PORT: String(port),
    LOG_LEVEL: 'info',
  });
  t.teardown(() => proc.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  let ready = 0;
  while (Date.now() < deadline && ready !== 200) {
    ready = await fetch(`${base}/readyz`).then((r) => r.status, () => 0);
    if (ready !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  t.equal(ready, 200, 'ready within 20 s');
  const created = await fetch(`${base}/v1/tiers`, {
    method: 'POST',
    headers: { authorization: `Bearer ${VALID_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'free', limits: [{ window: '1m', limit: 10 }] }),
  });
  t.equal(created.status, 201, 'the migrated database takes a tier');
  proc.kill('SIGTERM');
  const exit = await proc.exited;
  t.equal(exit.code, 0, exit.stderr);
  t.notOk(exit.stdout.includes(VALID_TOKEN), 'the token is never logged');
  t.match(exit.stdout, /"msg":"stopped"/);
});
