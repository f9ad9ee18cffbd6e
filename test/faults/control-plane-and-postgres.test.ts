// The control plane and PostgreSQL break under steady load through two gateways with request
// logging on: the control plane is killed with SIGKILL and started again, then PostgreSQL (a server
// of this file's own) is restarted. Traffic is not touched by either; request events wait in the
// Redis stream and become rows, once each, when the writer runs again.
import t from 'tap';
import { startPostgresInstance } from '../../test-support/postgres-instance.js';
import { startRedisServer } from '../../test-support/redis-server.js';
import { checkPhase, printPhase, runPhase } from './helpers/phase.js';
import { startStack } from './helpers/stack.js';
import { startFaultyUpstream } from './helpers/upstream.js';

const TIGHT_LIMIT = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const redis = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction']);
const postgresServer = await startPostgresInstance();
const databaseUrl = await postgresServer.createDatabase('tollgate_faults');
const upstreams = [await startFaultyUpstream(), await startFaultyUpstream()];
const stack = await startStack({ redis, databaseUrl, routes: { '/a': upstreams[0]!.url, '/b': upstreams[1]!.url } });
t.teardown(async () => {
  await stack.close();
  await redis.stop();
  await Promise.all(upstreams.map((upstream) => upstream.stop()));
  await postgresServer.remove();
});

t.test('control plane killed with SIGKILL and started again', async (t) => {
  const open = await stack.createKey('cp-kill-open', 1_000_000);
  const tight = await stack.createKey('cp-kill-tight', TIGHT_LIMIT, true);
  const result = await runPhase({
    name: 'control plane killed with SIGKILL',
    stack,
    upstreams,
    paths: ['/a/x', '/b/x'],
    open,
    tight,
    tightLimit: TIGHT_LIMIT,
    async fault() {
      const startMs = Date.now();
      stack.expectExit(stack.controlPlane);
      await stack.controlPlane.stop('SIGKILL');
      await sleep(3000);
      await stack.startControlPlane();
      return { startMs, endMs: Date.now() };
    },
  });
  printPhase(t, result);
  await checkPhase(t, result, { faultStatuses: [], recoveryBoundMs: 1000 });
});

t.test('PostgreSQL restarted', async (t) => {
  const open = await stack.createKey('pg-restart-open', 1_000_000);
  const tight = await stack.createKey('pg-restart-tight', TIGHT_LIMIT, true);
  const result = await runPhase({
    name: 'PostgreSQL restarted',
    stack,
    upstreams,
    paths: ['/a/x', '/b/x'],
    open,
    tight,
    tightLimit: TIGHT_LIMIT,
    async fault() {
      const startMs = Date.now();
      await postgresServer.stop();
      await sleep(3000);
      await postgresServer.start();
      return { startMs, endMs: Date.now() };
    },
  });
  printPhase(t, result);
  await checkPhase(t, result, { faultStatuses: [], recoveryBoundMs: 1000 });
});
