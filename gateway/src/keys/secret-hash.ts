// The key table is indexed by the SHA-256 of each secret; the secret itself is never stored.
// The projection names a key by the digest in hex (64 characters); the table keeps the 32 raw bytes
// as a one-byte string instead (48 bytes per key on the heap, not 80: about an eighth of a key's
// memory at a million keys).
import { hash } from 'node:crypto';

/** Marks a table key that is not a digest (tests name keys `h1`): a one-byte string never equals it. */
const NOT_A_DIGEST = '\u0100';
/** Decodes hex without a Buffer per key (a million keys are decoded at start). */
const scratch = Buffer.alloc(32);

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
  // Hex decoding stops at the first character that is not hex: fewer than 32 bytes, not a digest.
  // (Either case decodes; the control plane writes lower case, and hexHashOf gives it back so.)
  if (hexHash.length === 64 && scratch.write(hexHash, 0, 'hex') === 32) return scratch.toString('latin1', 0, 32);
  return NOT_A_DIGEST + hexHash;
}

/** The projection hash a table key came from (tableKeyOf reversed). */
export function hexHashOf(tableKey: string): string {
  return tableKey.startsWith(NOT_A_DIGEST) ? tableKey.slice(1) : Buffer.from(tableKey, 'latin1').toString('hex');
}
