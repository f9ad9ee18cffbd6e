// The control plane's side of the change feed. Services call it after a transaction commits;
// implementations keep the gateways' projection current (Redis projection + pub/sub, or in-process
// for the embedded mode) and rebuild it from PostgreSQL when it is lost.
import type { KeyView, TierView } from '../../../contracts/feed.js';

export interface ProjectionEntry {
  readonly hash: string;
  readonly view: KeyView;
  /** The row's revision (see ChangePublisher). */
  readonly revision: number;
}

export interface TierEntry {
  readonly view: TierView;
  readonly revision: number;
}

/**
 * A projection entry no row names any more (a key hash before its rotation, a revoked key, a deleted
 * tier), by its field in the projection's revisions: a rebuild raises it like a row's, so a stale
 * change of the entry stays out even after Redis lost its data (migration 0030).
 */
export interface RetiredEntry {
  readonly field: string;
  readonly revision: number;
}

export interface ProjectionData {
  readonly keys: ProjectionEntry[];
  readonly tiers: TierEntry[];
  readonly retired: RetiredEntry[];
}

/** Everything gateways need, read from PostgreSQL (the source of truth) for a rebuild. */
export interface ProjectionSource {
  loadAll(): Promise<ProjectionData>;
}

/** A change's field in the projection's revisions: `<kind>:<id>`, as feed-publish.lua builds it. */
export function revisionField(kind: 'key' | 'tier', id: string): string {
  return `${kind}:${id}`;
}

/** A key hash's field in the projection's revisions. */
export function keyRevisionField(hash: string): string {
  return revisionField('key', hash);
}

/** A tier's field in the projection's revisions. */
export function tierRevisionField(name: string): string {
  return revisionField('tier', name);
}

/** The loaded revisions by field, the ones the projection keeps: live rows' and retired entries'. */
export function revisionFields(data: ProjectionData): (readonly [string, number])[] {
  return [
    ...data.keys.map((entry) => [keyRevisionField(entry.hash), entry.revision] as const),
    ...data.tiers.map((entry) => [tierRevisionField(entry.view.name), entry.revision] as const),
    ...data.retired.map((entry) => [entry.field, entry.revision] as const),
  ];
}

/**
 * `revision` is the changed row's revision after the change (migration 0020): a change with a
 * revision no higher than the one already applied for that key hash or tier name is older than
 * what the projection holds, and is dropped, so changes published out of commit order never undo
 * a newer one.
 */
export interface ChangePublisher {
  /** `view` null removes the key (revoked or rotated away). */
  publishKey(secretHash: string, view: KeyView | null, revision: number): Promise<void>;
  /** `view` null removes the tier. */
  publishTier(name: string, view: TierView | null, revision: number): Promise<void>;
  /** Rebuild the projection now, then keep watching for a Redis that came back empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}
