// An upstream breaks, and the gateways are rolled, under steady load through two gateways with
// request logging on: upstream A is stopped (its port refuses), then made to hang; then both
// gateways are restarted with SIGTERM one after the other. Route /b's upstream stays healthy.
import t from 'tap';
import { faultUnderLoad, setUpFaults, sleep } from './helpers/fault-setup.js';
import { UPSTREAM_TIMEOUT_MS } from './helpers/stack.js';

const setup = await setUpFaults(t, { label: 'faults_upstreams' });
const { stack } = setup;
const [upstreamA] = setup.upstreams;

t.test('an upstream stopped', async (t) => {
  await faultUnderLoad(t, setup, 'upstream stopped', {
    slug: 'upstream-stop',
    faultStatuses: [502],
    recoveryBoundMs: 1000,
    async fault() {
      const startMs = Date.now();
      await upstreamA.stop();
      await sleep(3000);
      await upstreamA.start();
      return { startMs, endMs: Date.now() };
    },
  });
});

t.test('an upstream that hangs', async (t) => {
  await faultUnderLoad(t, setup, 'upstream hangs', {
    slug: 'upstream-hang',
    faultStatuses: [504],
    // A request sent just before the hang ended may still wait out the upstream timeout.
    recoveryBoundMs: UPSTREAM_TIMEOUT_MS + 1000,
    async fault() {
      const startMs = Date.now();
      upstreamA.hang(true);
      await sleep(5000);
      upstreamA.hang(false);
      return { startMs, endMs: Date.now() };
    },
  });
});

t.test('both gateways rolled with SIGTERM, one after the other', async (t) => {
  const exits: (number | null)[] = [];
  const timings: string[] = [];
  await faultUnderLoad(t, setup, 'gateways rolled', {
    slug: 'roll',
    faultStatuses: [],
    recoveryBoundMs: 1000,
    // While a gateway restarts its port refuses connections, and a draining gateway closes idle
    // keep-alive connections, which a client reusing one at that moment sees reset. Neither carried
    // a request the gateway took (see the rows check); a load balancer or client retries them.
    clientErrors: ['ECONNREFUSED', 'ECONNRESET'],
    async fault() {
      const startMs = Date.now();
      for (const [index, gateway] of stack.gateways.entries()) {
        stack.expectExit(gateway.service);
        const stoppingMs = Date.now();
        exits.push((await gateway.service.stop('SIGTERM')).code);
        const startingMs = Date.now();
        await stack.startGateway(index);
        const readyMs = Date.now();
        timings.push(`${gateway.service.name} drained in ${startingMs - stoppingMs} ms, ready ${readyMs - startingMs} ms after its start`);
        await sleep(1000);
      }
      return { startMs, endMs: Date.now() };
    },
  });
  t.comment(`  exit codes ${exits.join(', ')}; ${timings.join('; ')}`);
  t.same(exits, [0, 0], 'each gateway drained and exited 0');
});
