// Starting and stopping the bench's child processes: forked systems under test that report their
// port over IPC, and spawned services (gateway, control plane) that are ready when an HTTP probe
// answers 200. Each child's output is kept in a short tail for error messages instead of printed.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pin } from './placement.js';

const TAIL_BYTES = 4096;

export class BenchProcessError extends Error {
  readonly code = 'BENCH_PROCESS';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchProcessError';
  }
}

export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last few KiB of the child's stdout and stderr. */
  tail(): string;
  stop(): Promise<void>;
}

function keepTail(child: ChildProcess): () => string {
  let tail = '';
  const append = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => tail;
}

function stopper(child: ChildProcess, graceMs: number): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve();
        return;
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** The module beside this one, as .ts under tsx and .js once compiled. */
export function siblingModule(relative: string): string {
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`${relative}${extension}`, import.meta.url));
}

/**
 * Forks a bench child (bench/children/*), under `wrapper` when given (valgrind), and waits for its
 * `ready` message with the port.
 */
export async function forkChild(
  name: string,
  modulePath: string,
  env: Record<string, string>,
  cpuList: string,
  options: { timeoutMs?: number; wrapper?: readonly string[]; nodeArgs?: readonly string[] } = {},
): Promise<RunningProcess & { port: number }> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const nodeArgs = options.nodeArgs ?? [];
  // fork runs `execPath ...execArgv module`: valgrind's flags, then node and its flags, then the module.
  const launch = options.wrapper
    ? { execPath: options.wrapper[0], execArgv: [...options.wrapper.slice(1), process.execPath, ...nodeArgs] }
    : { execArgv: [...process.execArgv, ...nodeArgs] };
  const child = fork(modulePath, [], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...launch });
  pin(child.pid ?? 0, cpuList);
  const tail = keepTail(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new BenchProcessError(`${name} did not start within ${timeoutMs} ms\n${tail()}`)), timeoutMs);
    child.once('message', (message: { type?: string; port?: number }) => {
      if (message.type === 'ready' && typeof message.port === 'number') {
        clearTimeout(timer);
        resolve(message.port);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchProcessError(`${name} exited with code ${code} before it was ready\n${tail()}`));
    });
  });
  return { name, child, port, tail, stop: stopper(child, 5_000) };
}

/**
 * Spawns `node <script>` (a compiled service), under `wrapper` when given (valgrind), and waits
 * until `readyUrl` answers 200.
 */
export async function spawnService(
  name: string,
  script: string,
  env: Record<string, string>,
  readyUrl: string,
  cpuList: string,
  options: { nodeArgs?: readonly string[]; wrapper?: readonly string[]; timeoutMs?: number } = {},
): Promise<RunningProcess> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const command = [...(options.wrapper ?? []), process.execPath, ...(options.nodeArgs ?? []), script];
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pin(child.pid ?? 0, cpuList);
  const tail = keepTail(child);
  const running: RunningProcess = { name, child, tail, stop: stopper(child, 35_000) };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new BenchProcessError(`${name} exited with code ${child.exitCode} before it was ready\n${tail()}`);
    }
    try {
      const response = await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.status === 200) return running;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await running.stop();
  throw new BenchProcessError(`${name} was not ready at ${readyUrl} within ${timeoutMs} ms\n${tail()}`);
}
