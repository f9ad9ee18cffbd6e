// Builds the immutable key table the hot path reads: every record is complete (effective limits,
// algorithm, expiry) so a request does one Map lookup and nothing else.
// The feed never mutates a table; it builds a new one and swaps the reference.
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { type Limit, type WindowLimit, toWindowLimits } from '../../../contracts/limits.js';
import type { KeyRecord, KeyTable, TierRecord } from './key-record.js';

export interface KeyTableInput {
  /** SHA-256 hex of the secret → key view. */
  readonly keys: ReadonlyMap<string, KeyView>;
  /** Tier name → tier view. */
  readonly tiers: ReadonlyMap<string, TierView>;
  readonly version: number;
  readonly epoch: string;
  /** False only for the placeholder table served before the first load. */
  readonly loaded?: boolean;
}

/** A key table plus what the feed and metrics need to know about it. */
export interface BuiltKeyTable extends KeyTable {
  readonly epoch: string;
  /** Keys left out because their tier is unknown to this projection. */
  readonly skippedKeys: number;
  /** Active keys per tier (tollgate_gateway_active_keys{tier}); every known tier is present. */
  readonly activeKeysByTier: ReadonlyMap<string, number>;
  /** The views the table was built from, so the feed can apply a change copy-on-write. */
  readonly keyViews: ReadonlyMap<string, KeyView>;
  readonly tierViews: ReadonlyMap<string, TierView>;
}

class ImmutableKeyTable implements BuiltKeyTable {
  readonly size: number;

  constructor(
    readonly records: ReadonlyMap<string, KeyRecord>,
    readonly version: number,
    readonly epoch: string,
    readonly loaded: boolean,
    readonly skippedKeys: number,
    readonly activeKeysByTier: ReadonlyMap<string, number>,
    readonly keyViews: ReadonlyMap<string, KeyView>,
    readonly tierViews: ReadonlyMap<string, TierView>,
  ) {
    this.size = records.size;
  }

  get(secretHash: string): KeyRecord | undefined {
    return this.records.get(secretHash);
  }
}

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

/**
 * Tier records by name, built once per table build and shared by every key of the tier (a table of
 * 100k keys is rebuilt on each tier change, so this keeps the swap cheap).
 */
export type TierRecordCache = Map<string, TierRecord>;

function tierRecordOf(view: TierView, cache: TierRecordCache): TierRecord {
  let record = cache.get(view.name);
  if (record === undefined) {
    record = buildTierRecord(view);
    cache.set(view.name, record);
  }
  return record;
}

/** One record, or null when the key's tier is unknown. */
export function buildKeyRecord(view: KeyView, tiers: ReadonlyMap<string, TierView>, tierRecords: TierRecordCache = new Map()): KeyRecord | null {
  const tierView = tiers.get(view.tier);
  if (!tierView) return null;
  const tier = tierRecordOf(tierView, tierRecords);
  const expiresAtMs = view.expires_at === null ? null : Date.parse(view.expires_at);
  // Records are readonly by type; not frozen one by one (that costs a third of a rebuild). What
  // they share is frozen, since one object serves every key of a tier.
  return {
    id: view.id,
    tier,
    limits: view.limits ? resolveLimits(view.limits) : tier.limits,
    mode: view.mode ?? tier.mode,
    active: view.active,
    // An unparsable date must not turn into "never expires".
    expiresAtMs: expiresAtMs === null ? null : Number.isNaN(expiresAtMs) ? 0 : expiresAtMs,
  };
}

export function buildKeyTable(input: KeyTableInput): BuiltKeyTable {
  const records = new Map<string, KeyRecord>();
  const activeKeysByTier = new Map<string, number>();
  for (const name of input.tiers.keys()) activeKeysByTier.set(name, 0);
  let skippedKeys = 0;
  const tierRecords: TierRecordCache = new Map();
  for (const [hash, view] of input.keys) {
    const record = buildKeyRecord(view, input.tiers, tierRecords);
    if (!record) {
      skippedKeys += 1;
      continue;
    }
    records.set(hash, record);
    if (record.active) activeKeysByTier.set(record.tier.name, (activeKeysByTier.get(record.tier.name) ?? 0) + 1);
  }
  return new ImmutableKeyTable(
    records,
    input.version,
    input.epoch,
    input.loaded ?? true,
    skippedKeys,
    activeKeysByTier,
    input.keys,
    input.tiers,
  );
}

export interface KeyChanges {
  /** The full key views after the changes (the base's views with the changes applied). */
  readonly keys: ReadonlyMap<string, KeyView>;
  /** Hashes added, changed or removed. */
  readonly changedHashes: Iterable<string>;
  /** The full tier views after the changes; omitted when no tier changed. */
  readonly tiers?: ReadonlyMap<string, TierView>;
  /** Tier names added, changed or removed: every key of these tiers is rebuilt. */
  readonly changedTiers?: ReadonlySet<string>;
  readonly version: number;
}

/**
 * A new table with some keys or tiers changed: copies the base's records and rebuilds only the
 * changed keys and the keys of changed tiers, instead of every record. The base is not touched.
 */
export function applyKeyChanges(base: BuiltKeyTable, changes: KeyChanges): BuiltKeyTable {
  const tiers = changes.tiers ?? base.tierViews;
  if (!(base instanceof ImmutableKeyTable)) {
    return buildKeyTable({ keys: changes.keys, tiers, version: changes.version, epoch: base.epoch });
  }
  const changedTiers = changes.changedTiers ?? new Set<string>();
  const rebuild = new Set(changes.changedHashes);
  if (changedTiers.size > 0) {
    // Keys that were or are on a changed tier (a key's tier may have changed too: both views count).
    for (const [hash, view] of base.keyViews) if (changedTiers.has(view.tier)) rebuild.add(hash);
    for (const [hash, view] of changes.keys) if (changedTiers.has(view.tier)) rebuild.add(hash);
  }
  const records = new Map(base.records);
  const activeKeysByTier = new Map(base.activeKeysByTier);
  for (const name of changedTiers) {
    if (tiers.has(name)) activeKeysByTier.set(name, activeKeysByTier.get(name) ?? 0);
    else activeKeysByTier.delete(name);
  }
  let skippedKeys = base.skippedKeys;
  const tierRecords: TierRecordCache = new Map();
  for (const hash of rebuild) {
    const old = base.records.get(hash);
    if (old?.active && activeKeysByTier.has(old.tier.name)) {
      activeKeysByTier.set(old.tier.name, (activeKeysByTier.get(old.tier.name) ?? 1) - 1);
    }
    if (!old && base.keyViews.has(hash)) skippedKeys -= 1;
    records.delete(hash);
    const view = changes.keys.get(hash);
    if (!view) continue;
    const record = buildKeyRecord(view, tiers, tierRecords);
    if (!record) {
      skippedKeys += 1;
      continue;
    }
    records.set(hash, record);
    if (record.active) activeKeysByTier.set(record.tier.name, (activeKeysByTier.get(record.tier.name) ?? 0) + 1);
  }
  return new ImmutableKeyTable(
    records,
    changes.version,
    base.epoch,
    true,
    skippedKeys,
    activeKeysByTier,
    changes.keys,
    tiers,
  );
}

/** The table served before the first projection is loaded: knows no key, not ready. */
export function emptyKeyTable(): BuiltKeyTable {
  return buildKeyTable({ keys: new Map(), tiers: new Map(), version: 0, epoch: '', loaded: false });
}
