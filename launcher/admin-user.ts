// The first admin UI user for `npm start`: ADMIN_USER (default admin) with ADMIN_PASSWORD when set
// (then nothing is stored), else a password generated on the first run and kept in the data
// directory beside the admin token, so the banner can show it again at every start.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DEFAULT_ADMIN_USER } from '../control-plane/src/index.js';
import { keptSecret } from './admin-token.js';

const PASSWORD_FILE = 'admin-password';

export interface AdminUser {
  readonly username: string;
  readonly password: string;
  /** Where the password was read from or written to; null when it came from ADMIN_PASSWORD. */
  readonly file: string | null;
  readonly generated: boolean;
}

export function resolveAdminUser(env: Record<string, string | undefined>, dataDir: string): AdminUser {
  const username = env.ADMIN_USER?.trim() || DEFAULT_ADMIN_USER;
  const configured = env.ADMIN_PASSWORD;
  if (configured !== undefined && configured !== '') return { username, password: configured, file: null, generated: false };
  const file = join(dataDir, PASSWORD_FILE);
  // 128 bits in 22 URL-safe characters: easy to paste, nothing to quote.
  const { value, generated } = keptSecret(file, () => randomBytes(16).toString('base64url'));
  return { username, password: value, file, generated };
}
