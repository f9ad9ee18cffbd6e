import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/tick-feedback-after-idle.mjs', import.meta.url));
const TSX = import.meta.resolve('tsx');

/** The states of nextTick's tick-literal feedback slots after an idle spell, as V8 prints them. */
function tickLiteralFeedback(keep: boolean): string[] {
  // V8 prints to stdout with plain writes, which a non-blocking pipe may cut short: a file takes all.
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-tick-maps-'));
  const path = join(dir, 'debug-print.txt');
  const fd = openSync(path, 'w');
  try {
    spawnSync(process.execPath, [`--import=${TSX}`, '--allow-natives-syntax', '--expose-gc', FIXTURE, keep ? 'keep' : 'plain'], {
      stdio: ['ignore', fd, 'inherit'],
      timeout: 60_000,
    });
    const output = readFileSync(path, 'utf8');
    return [...output.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1] as string);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('with the tick object maps kept, nextTick stays monomorphic through full collections while idle', async (t) => {
  const states = tickLiteralFeedback(true);
  t.equal(states.length, 4, 'the four properties of the tick literal');
  t.same(states, ['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
});

t.test('without them, the same idle spell turns nextTick megamorphic (what the gateway guards against)', async (t) => {
  const states = tickLiteralFeedback(false);
  t.equal(states.length, 4);
  t.ok(states.includes('MEGAMORPHIC'), `states: ${states.join(', ')}`);
});
