// What the key table stores per key, and the records the hot path gets from it. A gateway holds a
// million keys, so what it stores per key is one small object with the key's own facts; the
// record a request reads (the key bound to its tier: effective limits and mode) is made when the
// key is first looked up under a tier and kept with it, so it stays the same object (admission
// caches what applies per record) until the key or its tier changes.
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { type Limit, type Mode, type WindowLimit, toWindowLimits } from '../../../contracts/limits.js';
import type { KeyRecord, TierRecord } from './key-record.js';

function resolveLimits(limits: readonly Limit[], route?: string): readonly WindowLimit[] {
  return Object.freeze(toWindowLimits(limits, route).map((item) => Object.freeze(item)));
}

/** A tier as its keys' records share it. */
export function buildTierRecord(view: TierView): TierRecord {
  const routeLimits = new Map<string, readonly WindowLimit[]>();
  for (const [route, limits] of Object.entries(view.route_limits ?? {})) routeLimits.set(route, resolveLimits(limits, route));
  return Object.freeze({
    name: view.name,
    limits: resolveLimits(view.limits),
    algorithm: view.algorithm,
    timezone: view.timezone,
    mode: view.mode,
    concurrency: view.concurrency,
    routeLimits,
  });
}

/** One key as the table stores it: immutable facts, plus its record under the tier it was last read with. */
export class StoredKey {
  private boundTier: TierRecord | null = null;
  private record: KeyRecord | null = null;

  constructor(
    readonly id: string,
    /** The tier's name (one string shared by all keys of the tier). */
    readonly tier: string,
    /** The key's own limits, or null for its tier's. */
    readonly ownLimits: readonly WindowLimit[] | null,
    /** The key's own mode, or null for its tier's. */
    readonly ownMode: Mode | null,
    readonly active: boolean,
    /** Epoch milliseconds, or null for never. */
    readonly expiresAtMs: number | null,
  ) {}

  /** The key's record under `tier`: the same object each time while the tier record is the same. */
  recordUnder(tier: TierRecord): KeyRecord {
    if (this.boundTier !== tier || this.record === null) {
      // Records are readonly by type, not frozen one by one (a cost on every key's first request).
      this.record = {
        id: this.id,
        tier,
        limits: this.ownLimits ?? tier.limits,
        mode: this.ownMode ?? tier.mode,
        active: this.active,
        expiresAtMs: this.expiresAtMs,
      };
      this.boundTier = tier;
    }
    return this.record;
  }
}

/** `tierName` is the shared string of the key's tier name (see KeyTableLoader). */
export function storedKeyOf(view: KeyView, tierName: string): StoredKey {
  let expiresAtMs: number | null = null;
  if (view.expires_at !== null) {
    const ms = Date.parse(view.expires_at);
    // An unparsable date must not turn into "never expires".
    expiresAtMs = Number.isNaN(ms) ? 0 : ms;
  }
  return new StoredKey(view.id, tierName, view.limits ? resolveLimits(view.limits) : null, view.mode ?? null, view.active, expiresAtMs);
}
