// The key table is indexed by the SHA-256 hex of each secret; the secret itself is never stored.
import { hash } from 'node:crypto';

/** crypto.hash is the one-shot form: no Hash object per request. */
export function hashApiKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}
