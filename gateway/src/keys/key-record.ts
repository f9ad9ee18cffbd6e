// A key as the hot path sees it: everything precomputed when the key table is built, so a request
// does a map lookup and nothing else to learn its limits. What a tier says is kept once per tier
// and shared by its keys' records. Records are immutable: admission caches what applies per record.
import type { Algorithm, Mode, WindowLimit } from '../../../contracts/limits.js';

export interface TierRecord {
  readonly name: string;
  /** The tier's own limits, sorted by window. */
  readonly limits: readonly WindowLimit[];
  readonly algorithm: Algorithm;
  /** IANA zone of the day and month windows. */
  readonly timezone: string;
  readonly mode: Mode;
  /** Most requests of one key in flight; null: no cap. */
  readonly concurrency: number | null;
  /** Limits for this tier's keys on the routes it names (instead of the routes file's), named `<route>:<window>`. */
  readonly routeLimits: ReadonlyMap<string, readonly WindowLimit[]>;
}

export interface KeyRecord {
  /** Public id (`key_…`), used in Redis keys, logs and the X-Tollgate-Key-Id header. */
  readonly id: string;
  readonly tier: TierRecord;
  /** Effective limits (the key's override or its tier's), sorted by window. */
  readonly limits: readonly WindowLimit[];
  /** Effective mode (the key's override or its tier's). */
  readonly mode: Mode;
  readonly active: boolean;
  /** Epoch milliseconds, or null for never. */
  readonly expiresAtMs: number | null;
}

/**
 * Read side of the in-memory key table. A table object never changes what it answers: the feed
 * applies a change by making a new table (see cache.ts for how that stays cheap).
 */
export interface KeyTable {
  /** By SHA-256 hex of the secret (as the projection names keys). */
  get(secretHash: string): KeyRecord | undefined;
  /** By the secret itself, hashed here: the hot path's lookup. */
  forSecret(secret: string): KeyRecord | undefined;
  readonly size: number;
  /** Config version applied last (tollgate_gateway_config_version). */
  readonly version: number;
  /** Projection epoch the version counts in (changes when the control plane rebuilds it). */
  readonly epoch: string;
  /** True once a projection has been loaded (readiness). */
  readonly loaded: boolean;
  /** Different for every table a process makes: what a per-table memo compares. */
  readonly generation: number;
}
