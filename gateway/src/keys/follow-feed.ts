// Follows the change feed from any FeedSource (Redis, or in-process in the embedded mode) and keeps
// an immutable key table current. Order of operations: subscribe, then load the snapshot while
// buffering messages, then apply messages strictly in version order. Same epoch and version+1 is
// applied as a new version of the table, in time proportional to the change (cache.ts); an old
// version is ignored; a gap, another epoch, `rebuilt` or a reconnect reloads the snapshot into a
// new table, swapped in whole. While there is no projection (Redis restarted empty) the last good
// table stays in service and the load is retried.
import type { Logger } from 'pino';
import { type ChangeMessage, type FeedSource, type KeyView, type TierView, parseChangeMessage } from '../../../contracts/feed.js';
import { type BuiltKeyTable, KeyTableLoader, applyKeyChanges, emptyKeyTable } from './cache.js';
import type { KeyRecord, KeyTable } from './key-record.js';

/**
 * Messages buffered during a load (a million keys take seconds to read; keys created in bulk
 * meanwhile arrive by the thousand); past this, the load is simply repeated.
 */
const MAX_BUFFERED = 100_000;

export interface FollowFeedOptions {
  readonly source: FeedSource;
  readonly logger: Logger;
  /** Called after every swap (metrics: config version, active keys per tier). */
  readonly onSwap?: (table: BuiltKeyTable) => void;
  /** Wait between load attempts while the projection is missing or Redis is down. */
  readonly retryMs?: number;
  /** How often to compare the local version with the projection's, to catch a lost message. */
  readonly checkIntervalMs?: number;
}

export interface KeyFeedStats {
  readonly badMessages: number;
  readonly reloads: number;
  readonly applied: number;
}

/** The live key table: the KeyTable methods read the current table; table() returns it whole. */
export interface KeyFeed extends KeyTable {
  /** The current immutable table (take it once per request and use that reference). */
  table(): BuiltKeyTable;
  /** Resolves when the first projection is loaded (or when the feed is closed before that). */
  readonly ready: Promise<void>;
  readonly stats: KeyFeedStats;
  close(): Promise<void>;
}

type BatchResult = { table: BuiltKeyTable } | { reload: string };

/**
 * Applies messages (in any order) to a table as one new version, or says why a reload is needed
 * instead; the messages are all checked before the table is touched.
 */
function applyBatch(base: BuiltKeyTable, messages: readonly ChangeMessage[]): BatchResult {
  const keys = new Map<string, KeyView | null>();
  const tiers = new Map<string, TierView | null>();
  let version = base.version;
  const ordered = [...messages].sort((a, b) => a.version - b.version);
  for (const message of ordered) {
    if (message.epoch !== base.epoch) return { reload: 'another epoch' };
    if (message.version <= version) continue;
    if (message.kind === 'rebuilt') return { reload: 'rebuilt' };
    if (message.version !== version + 1) return { reload: 'version gap' };
    version = message.version;
    // Each message carries the whole view: the last one per id is the state after the batch.
    if (message.kind === 'key') keys.set(message.id, message.value);
    else tiers.set(message.id, message.value);
  }
  if (version === base.version) return { table: base };
  return { table: applyKeyChanges(base, { keys, tiers, version }) };
}

/** Reads the projection into a new table: piece by piece where the source can, else whole. */
async function loadTable(source: FeedSource): Promise<{ table: BuiltKeyTable; invalidEntries: number } | null> {
  let loader: KeyTableLoader | null = null;
  if (source.readSnapshot) {
    const result = await source.readSnapshot({
      begin: (head, tiers) => {
        loader = new KeyTableLoader(head, tiers);
      },
      key: (hash, view) => loader?.add(hash, view),
    });
    if (!result || !loader) return null;
    return { table: (loader as KeyTableLoader).finish(), invalidEntries: result.invalidEntries };
  }
  const snapshot = await source.snapshot();
  if (!snapshot) return null;
  loader = new KeyTableLoader(snapshot, snapshot.tiers);
  for (const [hash, view] of snapshot.keys) loader.add(hash, view);
  return { table: loader.finish(), invalidEntries: snapshot.invalidEntries };
}

export function followKeyFeed(options: FollowFeedOptions): KeyFeed {
  const { source } = options;
  const logger = options.logger.child({ component: 'key-feed' });
  const retryMs = options.retryMs ?? 250;
  const checkIntervalMs = options.checkIntervalMs ?? 2000;

  let current = emptyKeyTable();
  let closed = false;
  let loading = false;
  let reloadAgain = false;
  let buffered: ChangeMessage[] = [];
  let pending: ChangeMessage[] = [];
  let applyScheduled = false;
  let unsubscribe: (() => Promise<void>) | null = null;
  let checkTimer: NodeJS.Timeout | null = null;
  let behindSince: { epoch: string; version: number } | null = null;
  const stats = { badMessages: 0, reloads: 0, applied: 0 };
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  const swap = (table: BuiltKeyTable) => {
    if (table === current) return;
    current = table;
    try {
      options.onSwap?.(table);
    } catch (error) {
      logger.warn({ err: error }, 'key table swap hook failed');
    }
  };

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  // Logged on the first failed attempt of a reload and then every 40th, not every retry.
  const loadOnce = async (attempt: number): Promise<{ table: BuiltKeyTable; invalidEntries: number } | null> => {
    try {
      return await loadTable(source);
    } catch (error) {
      if (attempt % 40 === 0) logger.warn({ err: error, attempt }, 'key snapshot failed; keeping the last table');
      return null;
    }
  };

  const reload = async (reason: string): Promise<void> => {
    if (closed) return;
    if (loading) {
      reloadAgain = true;
      return;
    }
    loading = true;
    try {
      for (let attempt = 0; !closed; attempt += 1) {
        reloadAgain = false;
        const loaded = await loadOnce(attempt);
        if (closed) return;
        if (!loaded) {
          if (attempt % 40 === 0) logger.warn({ reason, attempt }, 'no key projection yet; keeping the last table');
          await sleep(retryMs);
          continue;
        }
        if (buffered.length > MAX_BUFFERED) {
          buffered = [];
          continue;
        }
        stats.reloads += 1;
        if (loaded.invalidEntries > 0) logger.warn({ invalid: loaded.invalidEntries }, 'invalid projection entries skipped');
        const result = applyBatch(loaded.table, buffered);
        buffered = [];
        if ('reload' in result) continue;
        swap(result.table);
        logger.info(
          { reason, version: result.table.version, keys: result.table.size, skipped: result.table.skippedKeys },
          'key table loaded',
        );
        markReady();
        if (!reloadAgain) return;
      }
    } finally {
      loading = false;
    }
  };

  const applyPending = () => {
    applyScheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    if (loading || !current.loaded) {
      for (const message of batch) buffered.push(message);
      return;
    }
    const result = applyBatch(current, batch);
    if ('reload' in result) {
      // No need to keep the batch: these messages are already in the snapshot the reload reads.
      void reload(result.reload);
      return;
    }
    stats.applied += batch.length;
    swap(result.table);
  };

  const onMessage = (raw: string) => {
    const message = parseChangeMessage(raw);
    if (!message) {
      stats.badMessages += 1;
      logger.warn({ bytes: raw.length }, 'malformed change message ignored');
      return;
    }
    if (loading || !current.loaded) {
      buffered.push(message);
      return;
    }
    pending.push(message);
    // Messages read from one socket chunk arrive synchronously: apply them as one swap.
    if (!applyScheduled) {
      applyScheduled = true;
      queueMicrotask(applyPending);
    }
  };

  const check = async () => {
    if (closed || loading || !current.loaded) return;
    try {
      const head = await source.head();
      if (!head) return;
      const behind = head.epoch !== current.epoch || head.version > current.version;
      // Behind twice with no progress in between: a message was lost, not merely in flight.
      if (behind && behindSince?.epoch === current.epoch && behindSince.version === current.version) {
        behindSince = null;
        await reload('version check');
        return;
      }
      behindSince = behind ? { epoch: current.epoch, version: current.version } : null;
    } catch (error) {
      logger.debug({ err: error }, 'version check failed');
    }
  };

  const start = async () => {
    loading = true;
    try {
      for (;;) {
        try {
          unsubscribe = await source.subscribe({ onMessage, onReconnect: () => void reload('reconnect') });
          break;
        } catch (error) {
          logger.warn({ err: error }, 'change feed subscribe failed; retrying');
          await sleep(retryMs);
          if (closed) return;
        }
      }
    } finally {
      loading = false;
    }
    if (closed) return;
    checkTimer = setInterval(() => void check(), checkIntervalMs);
    checkTimer.unref();
    await reload('start');
  };
  void start();

  return {
    get(secretHash: string): KeyRecord | undefined {
      return current.get(secretHash);
    },
    forSecret(secret: string): KeyRecord | undefined {
      return current.forSecret(secret);
    },
    get size() {
      return current.size;
    },
    get version() {
      return current.version;
    },
    get epoch() {
      return current.epoch;
    },
    get generation() {
      return current.generation;
    },
    get loaded() {
      return current.loaded;
    },
    table: () => current,
    ready,
    stats,
    async close() {
      closed = true;
      markReady();
      if (checkTimer) clearInterval(checkTimer);
      const stop = unsubscribe;
      unsubscribe = null;
      if (stop) await stop();
    },
  };
}
