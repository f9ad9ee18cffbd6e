// The gateway's Node flags reach it however it is started the documented ways.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { GATEWAY_NODE_FLAGS } from '../../src/runtime/node-flags.js';

const scripts = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

t.test('npm run start:gateway and npm start pass the gateway its Node flags', async (t) => {
  for (const script of ['start:gateway', 'start']) {
    for (const flag of GATEWAY_NODE_FLAGS) t.match(scripts[script], ` ${flag} `, `${script} has ${flag}`);
  }
});

t.test('every flag is one this Node accepts', async (t) => {
  // V8 flags are not all allowed in NODE_OPTIONS, so ask node itself: an unknown flag stops it.
  for (const flag of GATEWAY_NODE_FLAGS) {
    const run = spawnSync(process.execPath, [flag, '-e', '0'], { encoding: 'utf8' });
    t.equal(run.status, 0, `${flag}: ${run.stderr.trim()}`);
  }
});

t.test('the check refuses a flag node does not know', async (t) => {
  const run = spawnSync(process.execPath, ['--no-such-tollgate-flag', '-e', '0'], { encoding: 'utf8' });
  t.not(run.status, 0);
});
