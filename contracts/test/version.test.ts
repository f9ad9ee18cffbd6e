import t from 'tap';
import { readFileSync } from 'node:fs';
import { TOLLGATE_VERSION } from '../version.js';

t.test('the version the services report is package.json’s', async (t) => {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(TOLLGATE_VERSION, manifest.version);
});
