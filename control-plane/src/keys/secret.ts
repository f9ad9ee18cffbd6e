// API key secrets and ids. Characters come from crypto.randomBytes with rejection sampling: bytes
// of 248 and above are dropped, so each of the 62 characters is exactly equally likely.
import { createHash, randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const UNBIASED_BYTE_LIMIT = 62 * 4;

export const SECRET_PREFIX = 'tg_';
export const SECRET_RANDOM_CHARS = 43;
export const KEY_ID_RANDOM_CHARS = 22;
export const VISIBLE_PREFIX_LENGTH = 8;

export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface NewSecret {
  readonly secret: string;
  readonly hash: string;
  /** The first 8 characters, shown so people can recognise a key. */
  readonly prefix: string;
}

export function generateSecret(): NewSecret {
  const secret = SECRET_PREFIX + randomBase62(SECRET_RANDOM_CHARS);
  return { secret, hash: sha256Hex(secret), prefix: secret.slice(0, VISIBLE_PREFIX_LENGTH) };
}

export function generateKeyId(): string {
  return `key_${randomBase62(KEY_ID_RANDOM_CHARS)}`;
}
