// What a Dockerfile linter does not check: the user, command, dependencies and health check each
// image target ends up with, and what the build context lets in.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dockerignore from '@balena/dockerignore';
import t from 'tap';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/index.js';
import { baseImage, effectiveStep, readDockerfile, stageChain } from './helpers/dockerfile.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readDockerfile(join(ROOT, 'Dockerfile'));
const TARGETS = { gateway: 'dist/gateway/src/main.js', 'control-plane': 'dist/control-plane/src/main.js' } as const;

t.test('the gateway and control-plane targets start their compiled entry points with node', async (t) => {
  for (const [target, entry] of Object.entries(TARGETS)) {
    const cmd = effectiveStep(dockerfile, target, 'CMD');
    t.ok(cmd?.exec, `${target} has an exec-form CMD (node is PID 1 and receives SIGTERM)`);
    t.equal(cmd?.exec?.[0], 'node', `${target} runs node directly, not npm`);
    t.equal(cmd?.exec?.at(-1), entry, `${target} runs ${entry}`);
    t.equal(effectiveStep(dockerfile, target, 'ENTRYPOINT'), undefined, `${target} has no entrypoint wrapper`);
    // The compiled file comes from a source file the build includes.
    const source = entry.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    t.ok(existsSync(join(ROOT, source)), `${source} exists`);
  }
});

t.test("the gateway image starts node with the gateway's V8 flags", async (t) => {
  const exec = effectiveStep(dockerfile, 'gateway', 'CMD')?.exec ?? [];
  const flags = exec.slice(1, -1);
  t.same([...flags].sort(), [...GATEWAY_NODE_FLAGS].sort());
});

t.test('every final stage runs as a user other than root', async (t) => {
  for (const target of Object.keys(TARGETS)) {
    const user = effectiveStep(dockerfile, target, 'USER')?.text.trim();
    t.ok(user, `${target} sets a user`);
    t.notOk(/^(root|0)(:|$)/.test(user ?? 'root'), `${target} runs as ${user}`);
  }
});

t.test('the final stages install production dependencies only and take no node_modules from the build', async (t) => {
  for (const target of Object.keys(TARGETS)) {
    const chain = stageChain(dockerfile, target);
    t.notOk(chain.some((stage) => stage.name === 'build'), `${target} is not built on the build stage`);
    const steps = chain.flatMap((stage) => stage.steps);
    const installs = steps.filter((step) => step.keyword === 'RUN' && /\bnpm (ci|install|i)\b/.test(step.text));
    t.ok(installs.length > 0, `${target} installs dependencies`);
    for (const install of installs) t.match(install.text, /npm ci\b[^&|;]*--omit=dev/, `${target}: ${install.text}`);
    for (const copy of steps.filter((step) => step.keyword === 'COPY')) {
      t.notMatch(copy.text, /node_modules/, `${target} copies no node_modules: COPY ${copy.text}`);
      t.notMatch(copy.text, /^\.\s/, `${target} does not copy the whole context: COPY ${copy.text}`);
      if (copy.flags.from !== undefined) t.match(copy.text, /^\/app\/dist\s/, `${target} takes only dist/ from another stage`);
    }
  }
});

t.test('every image is built on a tagged Node slim image', async (t) => {
  for (const stage of dockerfile.stages) {
    const image = baseImage(dockerfile, stage.name);
    t.match(image, /^node:\d+-slim$/, `${stage.name} is built on ${image}`);
  }
});

async function serveReadyz(status: number): Promise<Server> {
  const server = createServer((request, response) => {
    response.statusCode = request.url === '/readyz' ? status : 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return server;
}

async function exitCode(command: readonly string[], env: Record<string, string>): Promise<number> {
  const [file = '', ...args] = command;
  try {
    await run(file === 'node' ? process.execPath : file, args, { env: { ...process.env, ...env }, timeout: 10_000 });
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? 1;
  }
}

t.test("each final stage's HEALTHCHECK passes while /readyz answers 200 and fails otherwise", async (t) => {
  const portVariable = { gateway: 'GATEWAY_OPS_PORT', 'control-plane': 'CONTROL_PLANE_PORT' } as const;
  for (const target of Object.keys(TARGETS) as (keyof typeof TARGETS)[]) {
    const command = effectiveStep(dockerfile, target, 'HEALTHCHECK')?.exec;
    t.ok(command, `${target} has an exec-form HEALTHCHECK`);
    if (!command) continue;
    t.equal(command[0], 'node', `${target}'s health check needs no curl`);
    const ready = await serveReadyz(200);
    const notReady = await serveReadyz(503);
    const port = (server: Server) => String((server.address() as AddressInfo).port);
    t.equal(await exitCode(command, { [portVariable[target]]: port(ready) }), 0, `${target}: healthy on 200`);
    t.not(await exitCode(command, { [portVariable[target]]: port(notReady) }), 0, `${target}: unhealthy on 503`);
    const closed = port(notReady);
    ready.close();
    await new Promise((resolve) => notReady.close(resolve));
    t.not(await exitCode(command, { [portVariable[target]]: closed }), 0, `${target}: unhealthy when nothing listens`);
  }
});

function repositoryFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === '.git' || name === 'dist' || name === '.tap') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...repositoryFiles(path));
    else out.push(relative(ROOT, path));
  }
  return out;
}

t.test('the build context leaves out secrets and local output and keeps every file the build reads', async (t) => {
  // A CommonJS module whose typings describe `module.exports.default`, which it also sets.
  const ignore = dockerignore.default({ ignorecase: false }).add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
  for (const path of ['.env', 'compose/.env', 'node_modules/ioredis/package.json', 'dist/gateway/src/main.js', '.git/HEAD', 'coverage/x']) {
    t.ok(ignore.ignores(path), `${path} stays out`);
  }
  const needed = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/copy-assets.mjs'];
  for (const path of needed) t.notOk(ignore.ignores(path), `${path} is in the context`);
  const sources = repositoryFiles(ROOT).filter(
    (path) => /^(contracts|gateway\/src|control-plane\/src|launcher|migrations)\//.test(path) && !path.includes('/test/'),
  );
  t.ok(sources.length > 50, 'sources found');
  t.same(sources.filter((path) => ignore.ignores(path)), [], 'no source of the services, the launcher or a migration is left out');
});
