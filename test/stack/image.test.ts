// The Dockerfile's stages carried out without Docker, on this machine's Node: the build stage on
// the context .dockerignore leaves (npm run build), the runtime stage as its COPY and RUN lines say
// (npm ci --omit=dev, dist/ and migrations/), then each target's CMD run as PID 1 of a PID
// namespace of its own, as in a container: its HEALTHCHECK passes, and SIGTERM lets an in-flight
// request finish before the process exits 0. compose's one-shot commands run from the same tree.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dockerignore from '@balena/dockerignore';
import t from 'tap';
import { parse } from 'yaml';
import { freePort } from '../../test-support/ports.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { effectiveStep, readDockerfile, stageChain } from '../deploy/helpers/dockerfile.js';
import { eventually, startService, waitForUrl, type Service } from '../deploy/helpers/processes.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readDockerfile(join(ROOT, 'Dockerfile'));
const work = mkdtempSync(join(tmpdir(), 'tollgate-image-'));
const context = join(work, 'context');
const build = join(work, 'build');
const runtime = join(work, 'runtime');
const started: Service[] = [];
t.teardown(async () => {
  for (const service of started) await service.stop('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else out.push(relative(ROOT, path));
  }
  return out;
}

// `docker build .`: the context is the repository less what .dockerignore names.
const ignore = dockerignore.default({ ignorecase: false }).add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
for (const file of walk(ROOT).filter((path) => !ignore.ignores(path))) {
  mkdirSync(dirname(join(context, file)), { recursive: true });
  cpSync(join(ROOT, file), join(context, file));
}

/** A COPY from the context, as the stage's line says (`COPY a b dest/`). */
function copyFromContext(text: string, to: string): void {
  const words = text.trim().split(/\s+/);
  const destination = words.pop() ?? '';
  for (const source of words) {
    const target = destination.endsWith('/') || words.length > 1 ? join(to, destination, source === '.' ? '' : source.split('/').pop() ?? '') : join(to, destination);
    cpSync(join(context, source), source === '.' ? join(to, destination) : target, { recursive: true });
  }
}

t.test('the build stage compiles every entry point the images and compose start', async (t) => {
  const steps = stageChain(dockerfile, 'build').flatMap((stage) => stage.steps);
  t.ok(steps.some((step) => step.keyword === 'RUN' && /^npm ci\b/.test(step.text)), 'the build stage installs with npm ci');
  t.ok(steps.some((step) => step.keyword === 'RUN' && step.text === 'npm run build'), 'and runs npm run build');
  mkdirSync(build);
  for (const step of steps.filter((step) => step.keyword === 'COPY')) copyFromContext(step.text, build);
  // npm ci from the same lockfile: the repository's node_modules, linked.
  symlinkSync(join(ROOT, 'node_modules'), join(build, 'node_modules'));
  await run('npm', ['run', 'build', '--silent'], { cwd: build, timeout: 300_000 });
  const compose = parse(readFileSync(join(ROOT, 'compose/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command?: string[] }>;
  };
  const entries = [
    ...['gateway', 'control-plane'].map((target) => effectiveStep(dockerfile, target, 'CMD')?.exec?.at(-1) ?? ''),
    ...Object.values(compose.services).flatMap((service) => (service.command?.[0] === 'node' ? [service.command.at(-1) ?? ''] : [])),
  ];
  t.ok(entries.length >= 4, entries.join(', '));
  for (const entry of entries) t.ok(existsSync(join(build, entry)), `${entry} exists after the build`);
  t.ok(existsSync(join(build, 'dist/contracts/lua/limiter.lua')), 'the Lua scripts are copied beside the compiled modules');
});

const runtimeSteps = stageChain(dockerfile, 'runtime').flatMap((stage) => stage.steps);

t.test('the runtime stage holds production dependencies only', async (t) => {
  mkdirSync(runtime);
  for (const step of runtimeSteps) {
    if (step.keyword === 'COPY' && step.flags.from === 'build') {
      const [source = '', destination = ''] = step.text.trim().split(/\s+/);
      cpSync(join(build, relative('/app', source)), join(runtime, destination), { recursive: true });
    } else if (step.keyword === 'COPY') {
      copyFromContext(step.text, runtime);
    } else if (step.keyword === 'RUN') {
      const install = /^npm ci ([^&]*)/.exec(step.text);
      t.ok(install, `RUN ${step.text} is an npm ci`);
      const args = ['ci', ...(install?.[1] ?? '').trim().split(/\s+/), '--prefer-offline'];
      await run('npm', args, { cwd: runtime, timeout: 300_000 });
    }
  }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  const present = Object.keys(manifest.devDependencies).filter((name) => existsSync(join(runtime, 'node_modules', name)));
  t.same(present, [], 'no dev dependency in node_modules');
  t.ok(existsSync(join(runtime, 'node_modules/ioredis')), 'production dependencies are there');
  t.ok(existsSync(join(runtime, 'migrations/0001_initial.sql')), 'the migrations are there');
});

/** A target's CMD as PID 1 of a new PID namespace, from the runtime tree, with its ENV lines. */
function startTarget(target: string, env: Record<string, string>): Service {
  const command = effectiveStep(dockerfile, target, 'CMD')?.exec ?? [];
  const imageEnv: Record<string, string> = {};
  for (const step of stageChain(dockerfile, target).flatMap((stage) => stage.steps)) {
    if (step.keyword !== 'ENV') continue;
    for (const pair of step.text.trim().split(/\s+/)) {
      const [name = '', value = ''] = pair.split('=');
      imageEnv[name] = value;
    }
  }
  const [, ...args] = command;
  const service = startService(target, 'unshare', ['--pid', '--fork', '--mount-proc', process.execPath, ...args], {
    cwd: runtime,
    env: { PATH: process.env.PATH ?? '', ...imageEnv, ...env },
  });
  started.push(service);
  return service;
}

/** The host pid of the namespace's PID 1 (the child of unshare). */
async function pidOne(service: Service): Promise<number> {
  return eventually('the namespaced process', 10_000, async () => {
    const { stdout } = await run('pgrep', ['-P', String(service.child.pid)]);
    const pid = Number(stdout.trim().split('\n')[0]);
    return pid > 0 ? pid : undefined;
  });
}

async function healthcheck(target: string, env: Record<string, string>): Promise<number> {
  const [, ...args] = effectiveStep(dockerfile, target, 'HEALTHCHECK')?.exec ?? [];
  try {
    await run(process.execPath, args, { cwd: runtime, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

t.test("the images' commands run as PID 1 without dev dependencies, pass their health checks and drain on SIGTERM", async (t) => {
  const database = await createTestDatabase('image');
  const redis = await startRedisServer();
  t.teardown(async () => {
    await redis.stop();
    await database.drop();
  });
  const compose = parse(readFileSync(join(ROOT, 'compose/compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, { command: string[] }>;
  };
  const [, ...migrateArgs] = compose.services.migrate?.command ?? [];
  const migrated = await run(process.execPath, migrateArgs, { cwd: runtime, env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url } });
  t.match(migrated.stdout, /migrations: \d+ applied/, "compose's migrate command");

  const adminToken = 'image-test-admin-token-0123456789';
  const controlPlanePort = await freePort();
  const controlPlaneEnv = { DATABASE_URL: database.url, REDIS_URL: redis.url, ADMIN_TOKEN: adminToken, CONTROL_PLANE_PORT: String(controlPlanePort), LOG_LEVEL: 'warn' };
  const controlPlane = startTarget('control-plane', controlPlaneEnv);
  await waitForUrl(`http://127.0.0.1:${controlPlanePort}/readyz`, controlPlane);
  t.equal(await healthcheck('control-plane', { CONTROL_PLANE_PORT: String(controlPlanePort) }), 0, 'control-plane HEALTHCHECK passes');

  // An upstream that takes a while, so a request is still in flight when SIGTERM arrives.
  const slow = createServer((request, response) => {
    request.resume();
    setTimeout(() => response.end('finished'), 1500);
  });
  await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => slow.close());
  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const base = `http://127.0.0.1:${controlPlanePort}`;
  await fetch(`${base}/v1/tiers`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'image', limits: [{ window: '1m', limit: 100 }] }) });
  const key = (await (await fetch(`${base}/v1/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'image', tier: 'image' }) })).json()) as { secret: string };

  const port = await freePort();
  const opsPort = await freePort();
  const gateway = startTarget('gateway', {
    REDIS_URL: redis.url,
    GATEWAY_PORT: String(port),
    GATEWAY_OPS_PORT: String(opsPort),
    GATEWAY_UPSTREAM: `http://127.0.0.1:${(slow.address() as AddressInfo).port}`,
    LOG_LEVEL: 'warn',
  });
  await waitForUrl(`http://127.0.0.1:${opsPort}/readyz`, gateway);
  t.equal(await healthcheck('gateway', { GATEWAY_OPS_PORT: String(opsPort) }), 0, 'gateway HEALTHCHECK passes');
  const pid = await pidOne(gateway);
  const flags = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  t.ok(flags.includes('--no-memory-reducer'), "the gateway runs with its V8 flags");

  const inFlight = fetch(`http://127.0.0.1:${port}/slow`, { headers: { 'x-api-key': key.secret } });
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.kill(pid, 'SIGTERM');
  const answer = await inFlight;
  t.equal(answer.status, 200, 'the in-flight request is answered');
  t.equal(await answer.text(), 'finished');
  t.equal(await gateway.exited, 0, 'the gateway exits 0');

  process.kill(await pidOne(controlPlane), 'SIGTERM');
  t.equal(await controlPlane.exited, 0, 'the control plane exits 0 on SIGTERM');
});
