// The key table is indexed by the SHA-256 of each secret; the secret itself is never stored.
// The projection names a key by the digest in hex (64 characters); the table keeps the 32 raw bytes
// as a one-byte string instead (48 bytes per key on the heap, not 80: about an eighth of a key's
// memory at a million keys).
import { hash } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Marks a table key that is not a digest (tests name keys `h1`): a one-byte string never equals it. */
const NOT_A_DIGEST = '\u0100';

/** crypto.hash is the one-shot form: no Hash object per request. */
export function hashApiKey(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The table key of a secret: its SHA-256 as 32 latin1 characters. */
export function secretDigest(secret: string): string {
  return hash('sha256', secret, 'binary');
}

/** The table key of a projection hash (SHA-256 hex); any other id is kept apart from every digest. */
export function tableKeyOf(hexHash: string): string {
  return SHA256_HEX.test(hexHash) ? Buffer.from(hexHash, 'hex').toString('latin1') : NOT_A_DIGEST + hexHash;
}

/** The projection hash a table key came from (tableKeyOf reversed). */
export function hexHashOf(tableKey: string): string {
  return tableKey.startsWith(NOT_A_DIGEST) ? tableKey.slice(1) : Buffer.from(tableKey, 'latin1').toString('hex');
}
