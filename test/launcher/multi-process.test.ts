// `npm start` with REDIS_URL and DATABASE_URL: the control plane and a gateway as child
// processes against the machine's Redis (under a prefix of this file's own) and a PostgreSQL
// database of this file's own; signals are passed on and a dead child stops the rest.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import t from 'tap';
import { freePort } from '../../test-support/ports.js';
import { createTestDatabase } from '../../test-support/postgres-database.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { bannerValue, spawnLauncher, type SpawnedLauncher } from './helpers/spawn-launcher.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const cwd = mkdtempSync(join(tmpdir(), 'tollgate-launcher-multi-'));
const database = await createTestDatabase('launcher_multi');
const prefix = uniquePrefix('launcher-multi');
const redis = new Redis(REDIS_URL);
const launchers: SpawnedLauncher[] = [];

t.teardown(async () => {
  for (const launcher of launchers) {
    if (launcher.child.exitCode === null && launcher.child.signalCode === null) {
      launcher.child.kill('SIGTERM');
      await launcher.exited;
    }
  }
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await database.drop();
  rmSync(cwd, { recursive: true, force: true });
});

async function start(): Promise<{ launcher: SpawnedLauncher; banner: string; gatewayPort: number }> {
  const gatewayPort = await freePort();
  const launcher = spawnLauncher(
    {
      REDIS_URL,
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: prefix,
      TOLLGATE_DATA_DIR: join(cwd, 'data'),
      GATEWAY_PORT: String(gatewayPort),
      GATEWAY_OPS_PORT: String(await freePort()),
      CONTROL_PLANE_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    },
    cwd,
  );
  launchers.push(launcher);
  return { launcher, banner: await launcher.banner(), gatewayPort };
}

/** Pids of the launcher's child processes whose command line contains `marker`. */
function childPids(parent: number, marker: string): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => Number.parseInt(line.trim(), 10));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('the services run as processes, the demo key is enforced and SIGTERM stops everything with exit 0', async (t) => {
  const { launcher, banner, gatewayPort } = await start();
  t.match(banner, /multi-process mode/);
  const secret = bannerValue(banner, /secret (tg_[0-9A-Za-z]+)/);
  const statuses: number[] = [];
  for (let i = 0; i < 6; i += 1) {
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/hello`, { headers: { 'x-api-key': secret } });
    await response.arrayBuffer();
    statuses.push(response.status);
  }
  t.same(statuses, [200, 200, 200, 200, 200, 429]);
  const pid = launcher.child.pid ?? 0;
  const children = [...childPids(pid, 'control-plane/src/main'), ...childPids(pid, 'gateway/src/main')];
  t.equal(children.length, 2, 'one control plane and one gateway process');

  launcher.child.kill('SIGTERM');
  t.equal(await launcher.exited, 0);
  t.same(children.filter(isRunning), [], 'both services stopped');
});

t.test('when the gateway process dies the launcher stops the control plane and exits non-zero', async (t) => {
  const { launcher } = await start();
  const pid = launcher.child.pid ?? 0;
  const [gateway] = childPids(pid, 'gateway/src/main');
  const [controlPlane] = childPids(pid, 'control-plane/src/main');
  t.ok(gateway && controlPlane, 'both children found');
  process.kill(gateway ?? 0, 'SIGKILL');
  t.equal(await launcher.exited, 1);
  t.notOk(isRunning(controlPlane ?? 0), 'the control plane was stopped');
});
