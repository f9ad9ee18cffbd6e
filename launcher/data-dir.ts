// TOLLGATE_DATA_DIR (default ./.tollgate): the embedded database, the generated admin token and a
// lock file. Two launchers on one directory would open the same PGlite files and corrupt them, so
// the second one stops at start instead.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DEFAULT_DATA_DIR = './.tollgate';
const LOCK_FILE = 'launcher.pid';

export class DataDirError extends Error {
  constructor(
    readonly code: 'data_dir_unusable' | 'data_dir_in_use',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DataDirError';
  }
}

export function resolveDataDir(env: Record<string, string | undefined>): string {
  const configured = env.TOLLGATE_DATA_DIR?.trim();
  return resolve(configured === undefined || configured === '' ? DEFAULT_DATA_DIR : configured);
}

/** Creates the directory (owner only: it holds the admin token) if it does not exist. */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new DataDirError('data_dir_unusable', `invalid configuration: TOLLGATE_DATA_DIR cannot be created: ${dir}`, {
      cause: error,
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory for this process; the returned function gives it back. */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new DataDirError('data_dir_unusable', `invalid configuration: TOLLGATE_DATA_DIR is not writable: ${dir}`, {
          cause: error,
        });
      }
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && isAlive(owner)) {
        throw new DataDirError('data_dir_in_use', `TOLLGATE_DATA_DIR ${dir} is in use by another tollgate (pid ${owner})`);
      }
      // Left behind by a launcher that was killed: take it over.
      rmSync(path, { force: true });
    }
  }
  throw new DataDirError('data_dir_in_use', `TOLLGATE_DATA_DIR ${dir} is in use by another tollgate`);
}
