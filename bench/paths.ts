// Where things are, whether the bench runs compiled (dist/bench/*.js) or through tsx (bench/*.ts).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const compiled = resolve(here, '..').endsWith('/dist');

export const repoRoot = compiled ? resolve(here, '../..') : resolve(here, '..');
export const distRoot = resolve(repoRoot, 'dist');
export const resultsDir = resolve(repoRoot, 'bench/results');

export const gatewayMain = resolve(distRoot, 'gateway/src/main.js');
export const controlPlaneMain = resolve(distRoot, 'control-plane/src/main.js');
export const migrateCli = resolve(distRoot, 'control-plane/src/migrate-cli.js');

/** Why a compiled service cannot be started, or null when it can. */
export function missingReason(path: string, what: string): string | null {
  return existsSync(path) ? null : `${what} is not built (${path} missing; run npm run build)`;
}
