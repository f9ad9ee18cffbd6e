// `npm start`. Chooses the mode from the environment and runs it:
//   neither REDIS_URL nor DATABASE_URL  one process, embedded stores (run-embedded.ts)
//   both                                 control plane and gateway as child processes (run-multi-process.ts)
//   only one                             exit 1 with one line
// The heavy modules (PGlite, the services) load only after the settings are known to be usable.
import { existsSync } from 'node:fs';
import { chooseMode } from './mode.js';

const startedAtMs = performance.now();
// Real environment variables win over .env (process.loadEnvFile never overwrites).
if (existsSync('.env')) process.loadEnvFile('.env');

const mode = chooseMode(process.env);
if (mode.kind === 'invalid') {
  process.stderr.write(`${mode.message}\n`);
  process.exit(1);
} else if (mode.kind === 'embedded') {
  const { runEmbedded } = await import('./run-embedded.js');
  await runEmbedded(process.env, startedAtMs);
} else {
  const { runMultiProcess } = await import('./run-multi-process.js');
  await runMultiProcess(process.env, startedAtMs);
}
