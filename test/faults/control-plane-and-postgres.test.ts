// The control plane and PostgreSQL break under steady load through two gateways with request
// logging on: the control plane is killed with SIGKILL and started again, then PostgreSQL (a server
// of this file's own) is restarted. Traffic is not touched by either; request events wait in the
// Redis stream and become rows, once each, when the writer runs again.
import t from 'tap';
import { startPostgresInstance } from '../../test-support/postgres-instance.js';
import { faultUnderLoad, setUpFaults, sleep } from './helpers/fault-setup.js';

const postgresServer = await startPostgresInstance();
const setup = await setUpFaults(t, { label: 'faults_cp', databaseUrl: await postgresServer.createDatabase('tollgate_faults') });
// After the stack's own teardown: the control plane stops before its database.
t.teardown(() => postgresServer.remove());
const { stack } = setup;

t.test('control plane killed with SIGKILL and started again', async (t) => {
  await faultUnderLoad(t, setup, 'control plane killed with SIGKILL', {
    slug: 'cp-kill',
    faultStatuses: [],
    recoveryBoundMs: 1000,
    async fault() {
      const startMs = Date.now();
      stack.expectExit(stack.controlPlane);
      await stack.controlPlane.stop('SIGKILL');
      await sleep(3000);
      await stack.startControlPlane();
      return { startMs, endMs: Date.now() };
    },
  });
});

t.test('PostgreSQL restarted', async (t) => {
  await faultUnderLoad(t, setup, 'PostgreSQL restarted', {
    slug: 'pg-restart',
    faultStatuses: [],
    recoveryBoundMs: 1000,
    async fault() {
      const startMs = Date.now();
      await postgresServer.stop();
      await sleep(3000);
      await postgresServer.start();
      return { startMs, endMs: Date.now() };
    },
  });
});
