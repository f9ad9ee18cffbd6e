// Runs launcher/main.ts (what `npm start` runs after its build) as a child process through tsx, for
// what only a real process shows: the banner, signals, exit codes and a restart on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../launcher/main.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** PGlite opens (and on the first run initialises) its files in seconds; a loaded machine is slower. */
export const START_DEADLINE_MS = 150_000;

export interface SpawnedLauncher {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resolves with the banner once printed; rejects if the process exits first or the deadline passes. */
  banner(deadlineMs?: number): Promise<string>;
}

/** `env` is the whole environment (plus PATH), so the machine's REDIS_URL or DATABASE_URL never leak in. */
export function spawnLauncher(env: Record<string, string>, cwd: string): SpawnedLauncher {
  const child = spawn(process.execPath, [`--import=${TSX}`, MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  let exitCode: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code;
      resolve(code);
    }),
  );
  const banner = async (deadlineMs = START_DEADLINE_MS): Promise<string> => {
    const deadline = Date.now() + deadlineMs;
    while (Date.now() < deadline) {
      const text = bannerText(out);
      if (text !== null) return text;
      if (exitCode !== undefined) throw new Error(`launcher exited with ${exitCode} before its banner: ${err}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no banner within ${deadlineMs} ms; stderr: ${err}`);
  };
  return { child, stdout: () => out, stderr: () => err, exited, banner };
}

/** The plain-text lines of stdout (everything that is not a JSON log line), once the banner ended. */
export function bannerText(stdout: string): string | null {
  const lines = stdout.split('\n').filter((line) => !line.startsWith('{'));
  const text = lines.join('\n');
  return /Ready in [\d.]+ s\./.test(text) ? text : null;
}

/** The value after `label` on its banner line, e.g. bannerValue(text, 'admin token'). */
export function bannerValue(text: string, pattern: RegExp): string {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`banner has no match for ${pattern}:\n${text}`);
  return match[1];
}
