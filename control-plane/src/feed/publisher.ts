// The control plane's side of the change feed. Services call it after a transaction commits;
// implementations keep the gateways' projection current (Redis projection + pub/sub, or in-process
// for the embedded mode) and rebuild it from PostgreSQL when it is lost.
import type { KeyView, TierView } from '../../../contracts/feed.js';

export interface ProjectionEntry {
  readonly hash: string;
  readonly view: KeyView;
}

/** Everything gateways need, read from PostgreSQL (the source of truth) for a rebuild. */
export interface ProjectionSource {
  loadAll(): Promise<{ keys: ProjectionEntry[]; tiers: TierView[] }>;
}

export interface ChangePublisher {
  /** `view` null removes the key (revoked or rotated away). */
  publishKey(secretHash: string, view: KeyView | null): Promise<void>;
  /** `view` null removes the tier. */
  publishTier(name: string, view: TierView | null): Promise<void>;
  /** Rebuild the projection now, then keep watching for a Redis that came back empty. */
  start(): Promise<void>;
  close(): Promise<void>;
}
