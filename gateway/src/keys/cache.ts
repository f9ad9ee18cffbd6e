// The key table the hot path reads: table key (secret digest) → stored key → its record under the
// key's tier, one Map lookup and a tier lookup among a few.
//
// Changes cost what they change, not the table. Successive versions share one Map of stored keys,
// which the feed changes in place, in one synchronous step per batch of changes (no request runs in
// between, so none sees half of a change). A tier change touches no key at all: each version has
// its own small map of tier records, and a key's record is bound to its tier when it is read
// (records.ts). A table object still never changes what it answers: when a new version is made,
// the one it replaces keeps the stored keys it had for the keys that changed, and looks the others
// up in its successor (a version chain, as persistent arrays do it). Only the newest version is
// read in service, directly; an older one is walked only by whoever still holds it, and is garbage
// once nobody does. A reload (new epoch) builds a new Map and swaps the reference.
import type { KeyView, TierView } from '../../../contracts/feed.js';
import type { KeyRecord, KeyTable, TierRecord } from './key-record.js';
import { type StoredKey, buildTierRecord, storedKeyOf } from './records.js';
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
  /** Tier name → its view after the changes, or null when it was removed. */
  readonly tiers: ReadonlyMap<string, TierView | null>;
  readonly version: number;
}

export class StaleKeyTableError extends Error {
  readonly code = 'KEY_TABLE_STALE';
}

type Undo = Map<string, StoredKey | undefined>;

// A process-wide counter: what lets a memo recognise a table without holding it (secret-memo.ts).
let generations = 0;

/** What successive versions of one table share; only the newest version (`head`) changes it. */
class SharedStore {
  readonly keys = new Map<string, StoredKey>();
  /** The tiers of the newest version: replaced, never changed, when a tier changes. */
  tiers: ReadonlyMap<string, TierRecord> = new Map();
  /** Keys and active keys per tier name, known tier or not. */
  readonly keysByTier = new Map<string, number>();
  readonly activeByTier = new Map<string, number>();
  /** One string per tier name, shared by every key of the tier (not one per key as parsed). */
  private readonly tierNames = new Map<string, string>();
  head: KeyTableVersion | null = null;

  tierName(name: string): string {
    const shared = this.tierNames.get(name);
    if (shared !== undefined) return shared;
    this.tierNames.set(name, name);
    return name;
  }

  /** Replaces (or with null removes) one key; `undo` receives what the key was before. */
  put(key: string, next: StoredKey | null, undo: Undo | null): void {
    const old = this.keys.get(key);
    if (undo !== null && !undo.has(key)) undo.set(key, old);
    if (old !== undefined) this.count(old, -1);
    if (next === null) {
      this.keys.delete(key);
      return;
    }
    this.keys.set(key, next);
    this.count(next, 1);
  }

  count(stored: StoredKey, delta: number): void {
    this.keysByTier.set(stored.tier, (this.keysByTier.get(stored.tier) ?? 0) + delta);
    if (stored.active) this.activeByTier.set(stored.tier, (this.activeByTier.get(stored.tier) ?? 0) + delta);
  }

  /** Seals the store's state as a new version; the previous head keeps `undo` and defers to it. */
  publish(version: number, epoch: string, loaded: boolean, undo: Undo | null): KeyTableVersion {
    let known = 0;
    const activeKeysByTier = new Map<string, number>();
    for (const name of this.tiers.keys()) {
      known += this.keysByTier.get(name) ?? 0;
      activeKeysByTier.set(name, this.activeByTier.get(name) ?? 0);
    }
    const next = new KeyTableVersion(this, this.tiers, version, epoch, loaded, known, this.keys.size - known, activeKeysByTier);
    this.head?.supersede(undo ?? new Map(), next);
    this.head = next;
    return next;
  }
}

class KeyTableVersion implements BuiltKeyTable {
  readonly generation = ++generations;
  /** Null while this is the newest version; then the stored keys it had for keys changed since. */
  private undo: ReadonlyMap<string, StoredKey | undefined> | null = null;
  private successor: KeyTableVersion | null = null;

  constructor(
    readonly store: SharedStore,
    private readonly tiers: ReadonlyMap<string, TierRecord>,
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

  private find(key: string): KeyRecord | undefined {
    const stored = this.undo === null ? this.store.keys.get(key) : this.storedAt(key);
    if (stored === undefined) return undefined;
    const tier = this.tiers.get(stored.tier);
    return tier === undefined ? undefined : stored.recordUnder(tier);
  }

  /** For a version older than the newest: what did not change since is what the next one says. */
  private storedAt(key: string): StoredKey | undefined {
    if (this.undo?.has(key)) return this.undo.get(key);
    // A loop, not a recursion: a table held through a bulk load may be thousands of versions behind.
    for (let version = this.successor; version !== null; version = version.successor) {
      if (version.undo === null) return version.store.keys.get(key);
      if (version.undo.has(key)) return version.undo.get(key);
    }
    return undefined;
  }

  hashes(): string[] {
    const keys = new Set<string>([...this.store.keys.keys(), ...(this.undo?.keys() ?? [])]);
    for (let version = this.successor; version !== null; version = version.successor) {
      for (const key of version.undo?.keys() ?? []) keys.add(key);
    }
    return [...keys].filter((key) => this.find(key) !== undefined).map(hexHashOf);
  }

  isNewest(): boolean {
    return this.undo === null;
  }

  supersede(undo: ReadonlyMap<string, StoredKey | undefined>, successor: KeyTableVersion): void {
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
    const records = new Map<string, TierRecord>();
    for (const [name, view] of tiers) records.set(this.store.tierName(name), buildTierRecord(view));
    this.store.tiers = records;
  }

  /** One Map.set per key, the counts made once at the end: this runs a million times at start. */
  add(secretHash: string, view: KeyView): void {
    this.store.keys.set(tableKeyOf(secretHash), storedKeyOf(view, this.store.tierName(view.tier)));
  }

  finish(loaded = true): BuiltKeyTable {
    for (const stored of this.store.keys.values()) this.store.count(stored, 1);
    return this.store.publish(this.head.version, this.head.epoch, loaded, null);
  }
}

export function buildKeyTable(input: KeyTableInput): BuiltKeyTable {
  const loader = new KeyTableLoader(input, input.tiers);
  for (const [hash, view] of input.keys) loader.add(hash, view);
  return loader.finish(input.loaded ?? true);
}

/**
 * The next version of `base` with some keys and tiers changed, in time proportional to the change:
 * a tier change rebinds its keys to the new tier as they are read, without visiting them. `base`
 * keeps answering as before. Only the newest version of a table can be changed.
 */
export function applyKeyChanges(base: BuiltKeyTable, changes: KeyTableChanges): BuiltKeyTable {
  if (!(base instanceof KeyTableVersion) || !base.isNewest()) {
    throw new StaleKeyTableError('only the newest version of a key table can be changed');
  }
  const { store } = base;
  if (changes.tiers.size > 0) {
    const tiers = new Map(store.tiers);
    for (const [name, view] of changes.tiers) {
      if (view) tiers.set(store.tierName(name), buildTierRecord(view));
      else tiers.delete(name);
    }
    store.tiers = tiers;
  }
  const undo: Undo = new Map();
  for (const [hash, view] of changes.keys) store.put(tableKeyOf(hash), view && storedKeyOf(view, store.tierName(view.tier)), undo);
  return store.publish(changes.version, base.epoch, true, undo);
}

/** The table served before the first projection is loaded: knows no key, not ready. */
export function emptyKeyTable(): BuiltKeyTable {
  return buildKeyTable({ keys: new Map(), tiers: new Map(), version: 0, epoch: '', loaded: false });
}
