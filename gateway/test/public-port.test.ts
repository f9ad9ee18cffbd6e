// The public port's listening sockets: clients that connect at once to a busy gateway wait in the
// kernel's queue rather than having their handshakes dropped, and where Node can share a port the
// gateway accepts several new connections per turn of its event loop instead of one.
import t from 'tap';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { emptyKeyTable } from '../src/keys/cache.js';
import { ACCEPT_SOCKETS, PUBLIC_LISTEN_BACKLOG } from '../src/public-port.js';
import { route, startTestGateway } from './helpers/gateway.js';

const run = promisify(execFile);
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
/** SO_REUSEPORT through server.listen({ reusePort }): Node 22.12 and later, on Linux. */
const portCanBeShared = process.platform === 'linux' && (major > 22 || (major === 22 && minor >= 12));

const gateway = await startTestGateway({ routes: [route('/', 'http://127.0.0.1:9', { name: 'default' })], keys: emptyKeyTable });
t.teardown(() => gateway.close());
const port = new URL(gateway.url).port;

/** The listening sockets on the public port, as ss lists them (Send-Q is a queue's size). */
async function listeningSockets(): Promise<{ queue: number }[]> {
  const { stdout } = await run('ss', ['-Hltn', `( sport = :${port} )`]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ queue: Number(line.trim().split(/\s+/)[2]) }));
}

t.test(`each listening socket queues up to ${PUBLIC_LISTEN_BACKLOG} connections (or the kernel's cap, if lower)`, async (t) => {
  const somaxconn = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8')).trim());
  const sockets = await listeningSockets();
  t.ok(sockets.length > 0);
  t.same(
    sockets.map((socket) => socket.queue),
    sockets.map(() => Math.min(PUBLIC_LISTEN_BACKLOG, somaxconn)),
  );
});

t.test(`the port has ${ACCEPT_SOCKETS} listening sockets where Node can share it, else one`, async (t) => {
  t.equal((await listeningSockets()).length, portCanBeShared ? ACCEPT_SOCKETS : 1, `Node ${process.versions.node}`);
});

t.test('a gateway whose event loop was busy accepts several waiting connections per turn', { skip: portCanBeShared ? false : `Node ${process.versions.node} cannot share a port` }, async (t) => {
  const clients = 64;
  let accepted = 0;
  const count = (): void => void (accepted += 1);
  gateway.gateway.server.on('connection', count);
  t.teardown(() => gateway.gateway.server.off('connection', count));
  const child = spawn(process.execPath, [
    '-e',
    `const net = require('node:net'); for (let i = 0; i < ${clients}; i++) net.connect(${port}, '127.0.0.1').on('error', () => {}); setTimeout(() => {}, 30000);`,
  ]);
  t.teardown(() => child.kill());
  // Busy (synchronously) until every client's handshake is done and waits in the kernel's queues.
  const deadline = Date.now() + 10_000;
  let waiting = 0;
  while (waiting < clients && Date.now() < deadline) {
    waiting = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`]).toString().split('\n').filter((line) => line.trim() !== '').length;
  }
  t.equal(waiting, clients, 'every client connected while the loop was busy');
  // Two turns of the loop (the first may be over when the wait ends): one socket accepts at most
  // two connections in them, eight sockets one or two each, however the kernel spread the 64.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  t.ok(accepted >= ACCEPT_SOCKETS / 2 && accepted > 2, `${accepted} accepted in two turns`);
});

t.test('a second gateway on a port the first holds fails with EADDRINUSE instead of sharing it', async (t) => {
  await t.rejects(
    startTestGateway({ routes: [route('/', 'http://127.0.0.1:9', { name: 'default' })], keys: emptyKeyTable, config: { port: gateway.port } }),
    { code: 'EADDRINUSE' },
  );
  t.equal((await listeningSockets()).length, portCanBeShared ? ACCEPT_SOCKETS : 1, 'the first keeps its sockets');
});

t.test('requests on connections taken by any of the sockets are served, and drain closes them all', async (t) => {
  const other = await startTestGateway({ routes: [route('/', 'http://127.0.0.1:9', { name: 'default' })], keys: emptyKeyTable });
  const port = other.port;
  const statuses = await Promise.all(
    Array.from({ length: 32 }, async () => {
      const response = await fetch(`${other.url}/x`, { headers: { connection: 'close' } });
      await response.arrayBuffer();
      return response.status;
    }),
  );
  t.same([...new Set(statuses)], [401], 'every connection answered (401: no key)');
  await other.close();
  const { stdout } = await run('ss', ['-Hltn', `( sport = :${port} )`]);
  t.equal(stdout.trim(), '', 'no socket listens after close');
});
