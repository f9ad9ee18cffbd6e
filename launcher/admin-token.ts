// The control plane's bearer token for `npm start`: ADMIN_TOKEN when set (then nothing is stored),
// else one generated on the first run and kept in the data directory, readable by its owner only,
// so the same token works after a restart.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const TOKEN_FILE = 'admin-token';

export interface AdminToken {
  readonly token: string;
  /** Where it was read from or written to; null when it came from ADMIN_TOKEN. */
  readonly file: string | null;
  readonly generated: boolean;
}

export function resolveAdminToken(env: Record<string, string | undefined>, dataDir: string): AdminToken {
  const configured = env.ADMIN_TOKEN?.trim();
  if (configured !== undefined && configured !== '') return { token: configured, file: null, generated: false };
  const file = join(dataDir, TOKEN_FILE);
  // 256 bits, URL-safe so it pastes into a shell and a header unquoted.
  const { value, generated } = keptSecret(file, () => `tga_${randomBytes(32).toString('base64url')}`);
  return { token: value, file, generated };
}

/** The secret kept in `file`, or a new one from `generate` written there (owner-only) when none is. */
export function keptSecret(file: string, generate: () => string): { readonly value: string; readonly generated: boolean } {
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored !== '') {
      // Tighten a file someone loosened: it is a credential.
      chmodSync(file, 0o600);
      return { value: stored, generated: false };
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = generate();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { value, generated: true };
}
