// The public port's accept queue: clients that connect at once to a busy gateway wait in the
// kernel for it to accept them instead of having their handshakes dropped and retried seconds later.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { emptyKeyTable } from '../../src/keys/cache.js';
import { route, startTestGateway } from '../helpers/gateway.js';

const run = promisify(execFile);

const gateway = await startTestGateway({ routes: [route('/', 'http://127.0.0.1:9', { name: 'default' })], keys: emptyKeyTable });
t.teardown(() => gateway.close());

t.test('the public port queues up to 4096 connections (or the kernel cap, if lower)', async (t) => {
  const port = new URL(gateway.url).port;
  const somaxconn = Number((await readFile('/proc/sys/net/core/somaxconn', 'utf8')).trim());
  // For a listening socket, ss's Send-Q column is the accept queue's size.
  const { stdout } = await run('ss', ['-Hltn', `( sport = :${port} )`]);
  const sendQueue = Number(stdout.trim().split(/\s+/)[2]);
  t.equal(sendQueue, Math.min(4096, somaxconn), stdout.trim());
});
