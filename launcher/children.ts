// Child processes of the multi-process mode: one service each, run from the same build as the
// launcher (dist/…/main.js after `npm run build`, or the .ts sources when the launcher itself runs
// under tsx), with the launcher's stdout and stderr, so their JSON logs read as one stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  /** Resolves with the exit code, or the signal's name when killed by one. */
  readonly exited: Promise<number | string>;
}

/** `service` is relative to the repository root without extension, e.g. `gateway/src/main`. */
export function serviceEntry(service: string): string {
  const ownFile = fileURLToPath(import.meta.url);
  const extension = ownFile.endsWith('.ts') ? '.ts' : '.js';
  return fileURLToPath(new URL(`../${service}${extension}`, import.meta.url));
}

export function startChild(name: string, entry: string, env: NodeJS.ProcessEnv): Child {
  // execArgv carries a loader such as `--import tsx` when the launcher runs from sources.
  const child = spawn(process.execPath, [...process.execArgv, entry], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 1));
    child.once('error', () => resolve(1));
  });
  return { name, process: child, exited };
}

/** SIGTERM to every child still running; resolves when all have exited (SIGKILL after graceMs). */
export async function stopChildren(children: readonly Child[], graceMs: number): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.process.exitCode !== null || child.process.signalCode !== null) return;
      child.process.kill('SIGTERM');
      const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
      await child.exited;
      clearTimeout(timer);
    }),
  );
}

/** Polls `url` until it answers 200; rejects after `timeoutMs` or when `gaveUp` resolves first. */
export async function waitUntilReady(url: string, timeoutMs: number, gaveUp: Promise<unknown>): Promise<void> {
  let over = false;
  void gaveUp.then(() => {
    over = true;
  });
  const deadline = Date.now() + timeoutMs;
  while (!over && Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(over ? `a service exited before ${url} was ready` : `${url} was not ready within ${timeoutMs / 1000} s`);
}
