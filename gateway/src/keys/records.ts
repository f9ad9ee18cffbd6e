// Key and tier records built from the projection's views. A key's record is small (one object of
// seven fields; its limits and tier are shared with every key of the tier unless it overrides them),
// because a gateway holds one per key: a million of them.
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

/** What a key says about itself, apart from its tier: enough to rebuild its record for a new tier. */
export interface KeyFacts {
  readonly id: string;
  readonly tier: string;
  /** The key's own limits, or null for its tier's. */
  readonly ownLimits: readonly WindowLimit[] | null;
  /** The key's own mode, or null for its tier's. */
  readonly ownMode: Mode | null;
  readonly active: boolean;
  readonly expiresAtMs: number | null;
}

/**
 * The record the table stores. Not frozen one by one (that costs a third of a load), readonly by
 * type; `ownMode` is kept so a tier change can rebuild the record without the key's view.
 */
export class StoredKeyRecord implements KeyRecord {
  constructor(
    readonly id: string,
    readonly tier: TierRecord,
    readonly limits: readonly WindowLimit[],
    readonly mode: Mode,
    readonly active: boolean,
    readonly expiresAtMs: number | null,
    readonly ownMode: Mode | null,
  ) {}
}

function expiryOf(view: KeyView): number | null {
  if (view.expires_at === null) return null;
  const ms = Date.parse(view.expires_at);
  // An unparsable date must not turn into "never expires".
  return Number.isNaN(ms) ? 0 : ms;
}

export function keyFactsOfView(view: KeyView): KeyFacts {
  return {
    id: view.id,
    tier: view.tier,
    ownLimits: view.limits ? resolveLimits(view.limits) : null,
    ownMode: view.mode ?? null,
    active: view.active,
    expiresAtMs: expiryOf(view),
  };
}

/** The record of a view whose tier is known (keyFactsOfView and buildStoredRecord in one step). */
export function recordOfView(view: KeyView, tier: TierRecord): StoredKeyRecord {
  const ownMode = view.mode ?? null;
  return new StoredKeyRecord(view.id, tier, view.limits ? resolveLimits(view.limits) : tier.limits, ownMode ?? tier.mode, view.active, expiryOf(view), ownMode);
}

export function keyFactsOfRecord(record: StoredKeyRecord): KeyFacts {
  return {
    id: record.id,
    tier: record.tier.name,
    // A key on its tier's limits shares the tier's list; an override is a list of its own.
    ownLimits: record.limits === record.tier.limits ? null : record.limits,
    ownMode: record.ownMode,
    active: record.active,
    expiresAtMs: record.expiresAtMs,
  };
}

export function buildStoredRecord(facts: KeyFacts, tier: TierRecord): StoredKeyRecord {
  return new StoredKeyRecord(
    facts.id,
    tier,
    facts.ownLimits ?? tier.limits,
    facts.ownMode ?? tier.mode,
    facts.active,
    facts.expiresAtMs,
    facts.ownMode,
  );
}
