// Where the gateway listens by default: the public port on every interface, the ops port
// (/metrics, /readyz) on loopback only, so it is not public unless a deployment says so.
import t from 'tap';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { loadConfig } from '../../src/config.js';
import { emptyKeyTable } from '../../src/keys/cache.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { createLogger } from '../../src/log.js';
import { createGateway } from '../../src/server.js';

/** An IPv4 address of this machine that is not loopback. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry !== undefined && entry.family === 'IPv4' && !entry.internal)?.address;
}

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

t.test('by default the ops port answers on loopback only and the public port on every interface', async (t) => {
  const address = outsideAddress();
  if (address === undefined) throw new Error('this test needs a network interface besides loopback');
  const store = new MemoryStore();
  const table = emptyKeyTable();
  const gateway = createGateway({
    config: loadConfig({ GATEWAY_UPSTREAM: 'http://127.0.0.1:9', GATEWAY_PORT: '0', GATEWAY_OPS_PORT: '0' }),
    keys: () => table,
    store,
    logger: createLogger('silent'),
  });
  const { port, opsPort } = await gateway.listen();
  t.teardown(async () => {
    await gateway.close(0);
    await store.close();
  });
  t.ok(await reachable('127.0.0.1', opsPort), 'ops on loopback');
  t.notOk(await reachable(address, opsPort), `ops not on ${address}`);
  t.ok(await reachable(address, port), `public port on ${address}`);
});

t.test('GATEWAY_OPS_HOST=0.0.0.0 opens the ops port to other hosts (containers)', async (t) => {
  const address = outsideAddress();
  if (address === undefined) throw new Error('this test needs a network interface besides loopback');
  const store = new MemoryStore();
  const table = emptyKeyTable();
  const gateway = createGateway({
    config: loadConfig({ GATEWAY_UPSTREAM: 'http://127.0.0.1:9', GATEWAY_PORT: '0', GATEWAY_OPS_PORT: '0', GATEWAY_OPS_HOST: '0.0.0.0' }),
    keys: () => table,
    store,
    logger: createLogger('silent'),
  });
  const { opsPort } = await gateway.listen();
  t.teardown(async () => {
    await gateway.close(0);
    await store.close();
  });
  t.ok(await reachable(address, opsPort));
});
