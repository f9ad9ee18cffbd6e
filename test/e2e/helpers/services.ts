// The services as real processes for end-to-end tests: control plane and gateways run from their
// sources through tsx, with only the environment a test passes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TSX = import.meta.resolve('tsx');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface Service {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `entry` is relative to the repository root, e.g. `gateway/src/main.ts`. */
export function startService(entry: string, env: Record<string, string>): Service {
  const child = spawn(process.execPath, [`--import=${TSX}`, entry], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Polls `probe` (errors count as not yet) until it is true or `deadlineMs` has passed. */
export async function waitUntil(probe: () => Promise<boolean>, deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if (await probe()) return true;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
