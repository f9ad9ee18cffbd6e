// Redis servers of a test's own, on free ports, for tests that break Redis for real (stop it,
// restart it empty, freeze it) or need a Redis Cluster. The machine's Redis on 6379 is shared by
// every test file, so tests that only need a working Redis use it with a key prefix instead.
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stop the process (SHUTDOWN NOSAVE, then SIGKILL if it lingers). */
  stop(): Promise<void>;
  /** SIGTERM: Redis writes its append-only file (or snapshot) and exits, as on a clean restart. */
  shutdown(): Promise<void>;
  /** Deletes its data files (append-only file, snapshot), so that the next start() is empty. */
  clear(): void;
  /** Start it again on the same port: empty, unless it persists to its dir and was not cleared. */
  start(): Promise<void>;
  /** The process id of the running server. */
  readonly pid: number;
  /** SIGSTOP / SIGCONT: a Redis that holds connections but answers nothing. */
  freeze(): void;
  thaw(): void;
}

async function waitForPing(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      if (stdout.trim() === 'PONG') return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis on port ${port} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
      await new Promise((resolve) => setTimeout(resolve, 20));
    } catch {
      return;
    }
  }
}

export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-redis-'));
  let pid = 0;
  const launch = async () => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs],
      { stdio: 'ignore', detached: false },
    );
    pid = child.pid ?? 0;
    child.unref();
    await waitForPing(port);
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // already gone
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await waitForExit(pid, 5000);
    },
    async shutdown() {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await waitForExit(pid, 30_000);
    },
    clear() {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    },
    start: launch,
    get pid() {
      return pid;
    },
    freeze() {
      process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      process.kill(pid, 'SIGCONT');
    },
  };
}

export interface RedisCluster {
  /** `host:port,host:port,…` as REDIS_CLUSTER_NODES takes it. */
  readonly nodes: string;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

/** Three masters, no replicas: enough to prove that a key's Redis keys share one slot. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  for (let i = 0; i < 3; i += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
    servers.push(
      await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')]),
    );
  }
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`);
  await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const states = await Promise.all(
      servers.map(async (server) => (await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'])).stdout),
    );
    if (states.every((info) => info.includes('cluster_state:ok'))) break;
    if (Date.now() > deadline) throw new Error('redis cluster did not reach cluster_state:ok');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    nodes: addresses.join(','),
    ports: servers.map((server) => server.port),
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
    },
  };
}

/** A prefix unique to one test, for keys and channels on the shared Redis. */
export function uniquePrefix(label: string): string {
  return `test:${label}:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
