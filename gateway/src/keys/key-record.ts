// A key as the hot path sees it: everything precomputed when the key table is built, so a request
// does a map lookup and nothing else to learn its limits.
import type { Algorithm, WindowLimit } from '../../../contracts/limits.js';

export interface KeyRecord {
  /** Public id (`key_…`), used in Redis keys, logs and the X-Tollgate-Key-Id header. */
  readonly id: string;
  readonly tier: string;
  /** Effective limits (the key's override or its tier's), sorted by window. */
  readonly limits: readonly WindowLimit[];
  readonly algorithm: Algorithm;
  readonly active: boolean;
  /** Epoch milliseconds, or null for never. */
  readonly expiresAtMs: number | null;
}

/** Read side of the in-memory key table; the feed swaps whole tables, never mutates one. */
export interface KeyTable {
  /** By SHA-256 hex of the secret. */
  get(secretHash: string): KeyRecord | undefined;
  readonly size: number;
  /** Config version applied last (tollgate_gateway_config_version). */
  readonly version: number;
  /** True once a projection has been loaded (readiness). */
  readonly loaded: boolean;
}
