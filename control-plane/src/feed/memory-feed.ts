// The change feed of the embedded mode: one process, no Redis. It is both the control
// plane's ChangePublisher and the gateway's FeedSource, so a gateway in the same process follows it
// exactly as it follows Redis (snapshot + versioned messages). Messages are delivered as JSON text
// in a microtask, like pub/sub: asynchronously, in order, never sharing mutable state.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type ChangeMessage,
  type FeedListener,
  type FeedSnapshot,
  type FeedSource,
  type KeyView,
  type TierView,
  encodeChangeMessage,
} from '../../../contracts/feed.js';
import { revisionField, revisionFields, type ChangePublisher, type ProjectionSource } from './publisher.js';

export interface MemoryChangeFeedOptions {
  readonly source: ProjectionSource;
  readonly logger: Logger;
}

export type MemoryChangeFeed = ChangePublisher &
  FeedSource & {
    /** When each of the last changes (up to 1000) was made, by version: epoch ms. */
    changeTimes(): ReadonlyMap<number, number>;
  };

/** Change times kept, as the Redis feed keeps them. */
const CHANGE_TIMES_KEPT = 1000;

export function createMemoryChangeFeed(options: MemoryChangeFeedOptions): MemoryChangeFeed {
  const logger = options.logger.child({ component: 'memory-feed' });
  const listeners = new Set<FeedListener>();
  let keys = new Map<string, KeyView>();
  let tiers = new Map<string, TierView>();
  // The highest revision applied per `kind:id`, deletions included (see ChangePublisher).
  const revisions = new Map<string, number>();
  /** Records `revision` for `field` unless one as high is there; false when it was not higher. */
  const raiseRevision = (field: string, revision: number): boolean => {
    if ((revisions.get(field) ?? Number.NEGATIVE_INFINITY) >= revision) return false;
    revisions.set(field, revision);
    return true;
  };
  let epoch = '';
  let version = 0;
  const times = new Map<number, number>();
  const stamp = (): void => {
    times.set(version, Date.now());
    // Maps iterate in insertion order, and versions only grow: the first is the oldest.
    if (times.size > CHANGE_TIMES_KEPT) times.delete(times.keys().next().value as number);
  };
  let loaded = false;
  let loading: Promise<void> | null = null;
  // A change published while a load is in flight may be missing from what it read: load again.
  let changedDuringLoad = false;

  const emit = (message: ChangeMessage) => {
    const text = encodeChangeMessage(message);
    for (const listener of listeners) queueMicrotask(() => listener.onMessage(text));
  };

  const load = async () => {
    do {
      changedDuringLoad = false;
      const data = await options.source.loadAll();
      keys = new Map(data.keys.map((entry) => [entry.hash, entry.view]));
      tiers = new Map(data.tiers.map((entry) => [entry.view.name, entry.view]));
      // Raised, never reset: the revisions of deleted rows (gone from the source) stay.
      for (const [field, revision] of revisionFields(data)) raiseRevision(field, revision);
      epoch = randomBytes(9).toString('base64url');
      // A new epoch goes on from the old version, as the Redis projection's swap does.
      version = loaded ? version + 1 : 0;
      loaded = true;
      stamp();
    } while (changedDuringLoad);
    logger.info({ keys: keys.size, tiers: tiers.size }, 'in-memory projection loaded');
    emit({ kind: 'rebuilt', epoch, version });
  };

  const change = (kind: 'key' | 'tier', id: string, value: KeyView | TierView | null, revision: number) => {
    if (loading) changedDuringLoad = true;
    if (!loaded) return;
    // Older than what is applied: published out of commit order, so dropped.
    if (!raiseRevision(revisionField(kind, id), revision)) return;
    version += 1;
    stamp();
    if (kind === 'key') {
      const view = value as KeyView | null;
      if (view) keys.set(id, view);
      else keys.delete(id);
      emit({ kind, epoch, version, id, value: view });
    } else {
      const view = value as TierView | null;
      if (view) tiers.set(id, view);
      else tiers.delete(id);
      emit({ kind, epoch, version, id, value: view });
    }
  };

  return {
    async publishKey(secretHash, view, revision) {
      change('key', secretHash, view, revision);
    },
    async publishTier(name, view, revision) {
      change('tier', name, view, revision);
    },
    async start() {
      loading ??= load().finally(() => {
        loading = null;
      });
      await loading;
    },
    async close() {
      listeners.clear();
      await loading;
    },
    async snapshot(): Promise<FeedSnapshot | null> {
      if (!loaded) return null;
      // Copies: the reader gets a state that later changes do not touch.
      return { epoch, version, keys: new Map(keys), tiers: new Map(tiers), invalidEntries: 0 };
    },
    async head() {
      return loaded ? { epoch, version } : null;
    },
    changeTimes() {
      return times;
    },
    async subscribe(listener) {
      listeners.add(listener);
      return async () => {
        listeners.delete(listener);
      };
    },
  };
}
