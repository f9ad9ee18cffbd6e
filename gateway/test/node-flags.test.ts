// The gateway's Node flags reach it however it is started the documented ways.
import { readFileSync } from 'node:fs';
import t from 'tap';
import { GATEWAY_NODE_FLAGS } from '../src/node-flags.js';

const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

t.test('npm run start:gateway and npm start pass the gateway its Node flags', async (t) => {
  for (const script of ['start:gateway', 'start']) {
    for (const flag of GATEWAY_NODE_FLAGS) t.match(scripts[script], ` ${flag} `, `${script} has ${flag}`);
  }
});

t.test('every flag is one Node accepts', async (t) => {
  for (const flag of GATEWAY_NODE_FLAGS) t.ok(process.allowedNodeEnvironmentFlags.has(flag.split('=')[0] as string), flag);
});
