// The services as production runs them: compiled JavaScript from dist/ (`npm run build`, which
// `npm run test:faults` does first) started with node, each with only the environment it is given.
// A handle can be killed with any signal, restarted with the same settings, and asked its RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TAIL_CHARS = 20_000;

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface NodeService {
  readonly name: string;
  readonly pid: number;
  /** Resolves when the current process exits. */
  readonly exited: Promise<Exit>;
  /** True while the current process runs. */
  running(): boolean;
  /** The last part of its stdout and stderr, for failure messages. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
  /** Starts the process again with the same settings (after it exited). */
  restart(): void;
  /** Resident set size of the running process, in bytes (from /proc). */
  rssBytes(): number;
}

/** `entry` is relative to dist/, e.g. `gateway/src/main.js`. */
export function distEntry(entry: string): string {
  const path = `${ROOT}dist/${entry}`;
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

export function startNodeService(name: string, entry: string, env: Record<string, string>, nodeFlags: readonly string[] = []): NodeService {
  const script = distEntry(entry);
  let child: ChildProcess;
  let exited: Promise<Exit>;
  let exit: Exit | null = null;
  let output = '';
  const keep = (chunk: string): void => {
    output = (output + chunk).slice(-TAIL_CHARS);
  };
  const launch = (): void => {
    exit = null;
    child = spawn(process.execPath, [...nodeFlags, script], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
    exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        resolve(exit);
      });
    });
  };
  launch();
  return {
    name,
    get pid() {
      return child.pid ?? 0;
    },
    get exited() {
      return exited;
    },
    running: () => exit === null,
    output: () => output,
    async stop(signal = 'SIGTERM', graceMs = 40_000) {
      if (exit !== null) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    restart() {
      if (exit === null) throw new Error(`${name} still runs`);
      launch();
    },
    rssBytes: () => (exit === null ? rssOf(child.pid ?? 0) : 0),
  };
}

/** Polls `url` until it answers 200; throws with the service's output after `timeoutMs`. */
export async function waitReady(url: string, service: NodeService, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!service.running()) throw new Error(`${service.name} exited before it was ready:\n${service.output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${service.name} was not ready at ${url} within ${timeoutMs} ms:\n${service.output()}`);
}
