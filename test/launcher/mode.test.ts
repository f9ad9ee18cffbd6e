// `npm start` refuses half a production configuration: both REDIS_URL and DATABASE_URL, or neither.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { spawnLauncher } from './helpers/spawn-launcher.js';

const cwd = mkdtempSync(join(tmpdir(), 'tollgate-launcher-mode-'));
t.teardown(() => rmSync(cwd, { recursive: true, force: true }));

t.test('with only REDIS_URL set it exits 1 with one line saying both are needed', async (t) => {
  const launcher = spawnLauncher({ REDIS_URL: 'redis://127.0.0.1:6379', TOLLGATE_DATA_DIR: join(cwd, 'data') }, cwd);
  t.equal(await launcher.exited, 1);
  const lines = launcher.stderr().trim().split('\n');
  t.equal(lines.length, 1);
  t.match(lines[0], /DATABASE_URL/);
  t.match(lines[0], /needs both REDIS_URL and DATABASE_URL/);
  t.equal(launcher.stdout(), '');
});

t.test('with only DATABASE_URL set it exits 1 with one line naming REDIS_URL', async (t) => {
  const launcher = spawnLauncher({ DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/tollgate' }, cwd);
  t.equal(await launcher.exited, 1);
  t.match(launcher.stderr(), /^invalid configuration: REDIS_URL is not set but DATABASE_URL is; .*\n$/);
});
