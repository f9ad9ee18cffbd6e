// A PostgreSQL server of a test's own (initdb and pg_ctl from the machine's PostgreSQL 15, a data
// directory in /tmp, a free port, trust auth), for tests that stop or restart PostgreSQL: the
// machine's server on 5432 is shared by every test file and every session, so it is never touched.
// PostgreSQL refuses to run as root, so as root the commands run as the `postgres` user.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { freePort } from './ports.js';

const run = promisify(execFile);

const BIN_DIRS = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'];

export interface PostgresInstance {
  readonly port: number;
  /** The server's own `postgres` database. */
  readonly adminUrl: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown: open connections are closed, the data stays. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and removes its data directory. */
  remove(): Promise<void>;
}

function binDir(): string {
  const found = BIN_DIRS.find((dir) => existsSync(join(dir, 'pg_ctl')));
  if (found === undefined) throw new Error(`no PostgreSQL server binaries in ${BIN_DIRS.join(', ')}`);
  return found;
}

/** Runs a PostgreSQL server binary, as `postgres` when this process is root. */
async function pgCommand(command: string, args: readonly string[]): Promise<void> {
  const path = join(binDir(), command);
  if (userInfo().uid === 0) await run('runuser', ['-u', 'postgres', '--', path, ...args]);
  else await run(path, [...args]);
}

export async function startPostgresInstance(): Promise<PostgresInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: group } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(group.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  await pgCommand('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  // fsync off: a test's data need not survive a power cut, and the shared disk is slow.
  const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => pgCommand('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  const stop = () => pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    async createDatabase(name) {
      const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await admin.unsafe(`CREATE DATABASE "${name}"`);
      } finally {
        await admin.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop,
    start,
    async remove() {
      await stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
