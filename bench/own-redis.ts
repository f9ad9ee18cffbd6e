// A Redis of the run's own (the default when redis-server is installed and REDIS_URL unset): the
// machine's Redis on 6379 may be shared with other work (test suites), which then adds its load to
// every Redis-backed system under test, and it runs wherever the OS puts it. The run's own is pinned
// with the load generator, off the system-under-test core, as a Redis on its own host would be, and
// runs at a higher scheduling priority than the load generator there: autocannon keeps that core busy,
// and a Redis waiting behind it for the CPU would add queueing delay that a Redis host of its own
// does not have. Both the gateway and the fastify peer use whichever Redis the run uses, so the
// comparison stays fair.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { pin } from './placement.js';
import { BenchProcessError } from './processes.js';

export interface OwnRedis {
  readonly url: string;
  /** The nice value it runs at (what was asked, or 0 when the OS refused a raise). */
  readonly nice: number;
  stop(): Promise<void>;
}

async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused until the server listens: connect() rejects, and the event needs a listener too.
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      client.disconnect();
    }
  }
  throw new BenchProcessError(`the bench's own redis-server at ${url} did not answer within ${timeoutMs} ms`);
}

/** Sets a process's nice value; a raise needs privileges, so a refusal leaves it at 0. */
function renice(pid: number, nice: number): number {
  if (nice === 0) return 0;
  try {
    setPriority(pid, nice);
    return nice;
  } catch {
    return 0;
  }
}

/**
 * Starts the server; `cpuList` pins it (Placement.serviceCpu), '' leaves it to the OS; `nice` is its
 * scheduling priority (BenchConfig.ownRedisNice).
 */
export async function startOwnRedis(cpuList = '', nice = 0): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  pin(child.pid ?? 0, cpuList);
  const actualNice = child.pid === undefined ? 0 : renice(child.pid, nice);
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPing(url, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, nice: actualNice, stop };
}
