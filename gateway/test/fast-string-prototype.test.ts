import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/string-prototype-after-ioredis.mjs', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** Whether String.prototype has fast properties once ioredis is loaded, and after the fix when run. */
function stringPrototypeState(fix: boolean): { loaded: boolean; fixed: boolean | null } {
  const child = spawnSync(process.execPath, [`--import=${TSX}`, '--allow-natives-syntax', FIXTURE, fix ? 'fix' : 'plain'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.status !== 0) throw new Error(`fixture failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { loaded: boolean; fixed: boolean | null };
}

t.test('loading ioredis leaves String.prototype a dictionary (what the gateway guards against)', async (t) => {
  t.equal(stringPrototypeState(false).loaded, false);
});

t.test('makeStringPrototypeFast gives String.prototype fast properties again', async (t) => {
  const state = stringPrototypeState(true);
  t.equal(state.loaded, false, 'slow after ioredis');
  t.equal(state.fixed, true, 'fast after the fix');
});
