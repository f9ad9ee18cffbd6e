// The key table the hot path reads: table key (secret digest) → complete record, one Map lookup.
//
// Changes cost what they change, not the table: successive versions share one Map, which the feed
// changes in place, in one synchronous step per batch of changes (no request runs in between, so
// none sees half of a change). A table object still never changes what it answers: when a new
// version is made, the one it replaces keeps, for the keys that changed, the records it had, and
// looks the others up in its successor (a version chain, as persistent arrays do it). Only the
// newest version is read in service, directly; an older one is walked only by whoever still holds
// it, and is garbage once nobody does. A reload (new epoch) builds a new Map and swaps the reference.
import type { KeyView, TierView } from '../../../contracts/feed.js';
import type { KeyRecord, KeyTable, TierRecord } from './key-record.js';
import { type KeyFacts, type StoredKeyRecord, buildStoredRecord, buildTierRecord, keyFactsOfRecord, keyFactsOfView, recordOfView } from './records.js';
import { hexHashOf, secretDigest, tableKeyOf } from './secret-hash.js';

export { buildTierRecord } from './records.js';

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
  /** Keys left out because their tier is unknown to this projection. */
  readonly skippedKeys: number;
  /** Active keys per tier (tollgate_gateway_active_keys{tier}); every known tier is present. */
  readonly activeKeysByTier: ReadonlyMap<string, number>;
  /** The SHA-256 hex of every key in this table (diagnostics and tests; not for the hot path). */
  hashes(): string[];
}

export interface KeyTableChanges {
  /** Key hash (SHA-256 hex) → its view after the changes, or null when it was removed. */
  readonly keys: ReadonlyMap<string, KeyView | null>;
  /** Tier name → its view after the changes, or null when it was removed. Every key of these is rebuilt. */
  readonly tiers: ReadonlyMap<string, TierView | null>;
  readonly version: number;
}

export class StaleKeyTableError extends Error {
  readonly code = 'KEY_TABLE_STALE';
}

let generations = 0;

/** What successive versions of one table share; only the newest version (`head`) changes it. */
class SharedStore {
  readonly records = new Map<string, StoredKeyRecord>();
  /** Keys whose tier this projection does not know: kept to be built when the tier appears. */
  readonly orphans = new Map<string, KeyFacts>();
  readonly tierViews = new Map<string, TierView>();
  readonly tierRecords = new Map<string, TierRecord>();
  readonly activeKeysByTier = new Map<string, number>();
  head: KeyTableVersion | null = null;

  setTier(name: string, view: TierView | null): void {
    if (view) {
      this.tierViews.set(name, view);
      this.tierRecords.set(name, buildTierRecord(view));
      if (!this.activeKeysByTier.has(name)) this.activeKeysByTier.set(name, 0);
    } else {
      this.tierViews.delete(name);
      this.tierRecords.delete(name);
    }
  }

  /** Replaces (or with null removes) one key, keeping the counts; `undo` receives its record before. */
  put(key: string, facts: KeyFacts | null, undo: Map<string, StoredKeyRecord | undefined> | null): void {
    const old = this.records.get(key);
    if (undo !== null && !undo.has(key)) undo.set(key, old);
    if (old !== undefined) {
      this.records.delete(key);
      if (old.active) this.count(old.tier.name, -1);
    } else if (this.orphans.size > 0) {
      this.orphans.delete(key);
    }
    if (facts === null) return;
    const tier = this.tierRecords.get(facts.tier);
    if (tier === undefined) {
      this.orphans.set(key, facts);
      return;
    }
    const record = buildStoredRecord(facts, tier);
    this.records.set(key, record);
    if (record.active) this.count(tier.name, 1);
  }

  /** The active keys per tier, counted afresh (after a load). */
  countActiveKeys(): void {
    const byTier = new Map<TierRecord, number>();
    for (const record of this.records.values()) if (record.active) byTier.set(record.tier, (byTier.get(record.tier) ?? 0) + 1);
    for (const name of this.tierViews.keys()) this.activeKeysByTier.set(name, 0);
    for (const [tier, count] of byTier) this.activeKeysByTier.set(tier.name, count);
  }

  private count(tier: string, delta: number): void {
    const now = this.activeKeysByTier.get(tier);
    if (now !== undefined) this.activeKeysByTier.set(tier, now + delta);
  }

  /** Every key (with the facts to rebuild it) that is, or waits to be, on one of `tiers`. */
  keysOfTiers(tiers: ReadonlySet<string>): [string, KeyFacts][] {
    const found: [string, KeyFacts][] = [];
    for (const [key, record] of this.records) if (tiers.has(record.tier.name)) found.push([key, keyFactsOfRecord(record)]);
    for (const [key, facts] of this.orphans) if (tiers.has(facts.tier)) found.push([key, facts]);
    return found;
  }

  /** Seals the store's state as a new version; the previous head keeps `undo` and defers to it. */
  publish(version: number, epoch: string, loaded: boolean, undo: Map<string, StoredKeyRecord | undefined> | null): KeyTableVersion {
    for (const name of this.activeKeysByTier.keys()) if (!this.tierViews.has(name)) this.activeKeysByTier.delete(name);
    const next = new KeyTableVersion(this, version, epoch, loaded, this.records.size, this.orphans.size, new Map(this.activeKeysByTier));
    this.head?.supersede(undo ?? new Map(), next);
    this.head = next;
    return next;
  }
}

class KeyTableVersion implements BuiltKeyTable {
  readonly generation = ++generations;
  /** Null while this is the newest version; then the records it had for keys changed since. */
  private undo: ReadonlyMap<string, StoredKeyRecord | undefined> | null = null;
  private successor: KeyTableVersion | null = null;

  constructor(
    readonly store: SharedStore,
    readonly version: number,
    readonly epoch: string,
    readonly loaded: boolean,
    readonly size: number,
    readonly skippedKeys: number,
    readonly activeKeysByTier: ReadonlyMap<string, number>,
  ) {}

  get(secretHash: string): KeyRecord | undefined {
    return this.find(tableKeyOf(secretHash));
  }

  forSecret(secret: string): KeyRecord | undefined {
    return this.find(secretDigest(secret));
  }

  find(key: string): StoredKeyRecord | undefined {
    if (this.undo === null) return this.store.records.get(key);
    if (this.undo.has(key)) return this.undo.get(key);
    // Older than the newest: what did not change since is what the next version says (a loop, not
    // a recursion: a table held through a bulk load may be thousands of versions behind).
    let version = this.successor;
    while (version !== null && version.undo !== null) {
      if (version.undo.has(key)) return version.undo.get(key);
      version = version.successor;
    }
    return this.store.records.get(key);
  }

  hashes(): string[] {
    const keys = new Set<string>();
    this.collectKeys(keys);
    return [...keys].filter((key) => this.find(key) !== undefined).map(hexHashOf);
  }

  private collectKeys(into: Set<string>): void {
    for (const key of this.store.records.keys()) into.add(key);
    for (let version: KeyTableVersion | null = this.successor; version !== null; version = version.successor) {
      for (const key of version.undo?.keys() ?? []) into.add(key);
    }
    for (const key of this.undo?.keys() ?? []) into.add(key);
  }

  isNewest(): boolean {
    return this.undo === null;
  }

  supersede(undo: ReadonlyMap<string, StoredKeyRecord | undefined>, successor: KeyTableVersion): void {
    this.undo = undo;
    this.successor = successor;
  }
}

/**
 * Builds a table key by key, as a projection is read (a million keys are never held as views).
 * The same key may be added twice (a Redis scan may return it twice): the last one counts.
 */
export class KeyTableLoader {
  private readonly store = new SharedStore();

  constructor(
    private readonly head: { readonly epoch: string; readonly version: number },
    tiers: ReadonlyMap<string, TierView>,
  ) {
    for (const [name, view] of tiers) this.store.setTier(name, view);
  }

  /** One Map.set per key, the counts made once at the end: this runs a million times at start. */
  add(secretHash: string, view: KeyView): void {
    const { records, orphans, tierRecords } = this.store;
    const key = tableKeyOf(secretHash);
    const tier = tierRecords.get(view.tier);
    if (tier !== undefined) {
      records.set(key, recordOfView(view, tier));
      if (orphans.size > 0) orphans.delete(key);
    } else {
      orphans.set(key, keyFactsOfView(view));
      records.delete(key);
    }
  }

  finish(loaded = true): BuiltKeyTable {
    this.store.countActiveKeys();
    return this.store.publish(this.head.version, this.head.epoch, loaded, null);
  }
}

export function buildKeyTable(input: KeyTableInput): BuiltKeyTable {
  const loader = new KeyTableLoader(input, input.tiers);
  for (const [hash, view] of input.keys) loader.add(hash, view);
  return loader.finish(input.loaded ?? true);
}

/**
 * The next version of `base` with some keys and tiers changed, in time proportional to the change
 * (a tier change also visits the table once to find its keys). `base` keeps answering as before.
 * Only the newest version of a table can be changed.
 */
export function applyKeyChanges(base: BuiltKeyTable, changes: KeyTableChanges): BuiltKeyTable {
  if (!(base instanceof KeyTableVersion) || !base.isNewest()) {
    throw new StaleKeyTableError('only the newest version of a key table can be changed');
  }
  const { store } = base;
  const undo = new Map<string, StoredKeyRecord | undefined>();
  if (changes.tiers.size > 0) {
    for (const [name, view] of changes.tiers) store.setTier(name, view);
    const changedTiers = new Set(changes.tiers.keys());
    for (const [key, facts] of store.keysOfTiers(changedTiers)) store.put(key, facts, undo);
  }
  for (const [hash, view] of changes.keys) store.put(tableKeyOf(hash), view && keyFactsOfView(view), undo);
  return store.publish(changes.version, base.epoch, true, undo);
}

/** The table served before the first projection is loaded: knows no key, not ready. */
export function emptyKeyTable(): BuiltKeyTable {
  return buildKeyTable({ keys: new Map(), tiers: new Map(), version: 0, epoch: '', loaded: false });
}
