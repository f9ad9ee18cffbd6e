// ChangePublisher on Redis: each change is one script that writes the projection, bumps the version
// and publishes, atomically. A publish never fails the REST call: while Redis is away (or came back
// empty) the publisher marks itself dirty and rebuilds the whole projection from PostgreSQL as soon
// as Redis answers, which must happen within 10 s of Redis returning.
import type { Logger } from 'pino';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { type ChangeKind, type FeedRedis, publishChange } from '../../../contracts/lua/feed-scripts.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import type { ChangePublisher, ProjectionSource } from './publisher.js';
import { type RebuildResult, rebuildProjection } from './rebuild-projection.js';

export interface RedisChangePublisherOptions {
  readonly redis: FeedRedis;
  readonly prefix: string;
  readonly source: ProjectionSource;
  readonly logger: Logger;
  /** How often to check that the projection still exists (Redis may restart empty). */
  readonly checkIntervalMs?: number;
  /** Longest a REST call waits for a publish before leaving it to a rebuild. */
  readonly publishTimeoutMs?: number;
  /** How long start() waits for Redis before leaving the first rebuild to the watcher. */
  readonly readyTimeoutMs?: number;
  readonly onRebuilt?: (result: RebuildResult) => void;
}

export interface RedisChangePublisher extends ChangePublisher {
  /** Rebuild now (single flight); resolves null when it failed (logged; retried by the watcher). */
  rebuild(reason: string): Promise<RebuildResult | null>;
  /** True while some change may be missing from the projection. */
  readonly dirty: boolean;
}

class PublishTimeoutError extends Error {
  readonly code = 'FEED_PUBLISH_TIMEOUT';
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PublishTimeoutError(`no answer from redis within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

async function waitForReady(redis: FeedRedis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on('ready', onReady);
  });
}

export function createRedisChangePublisher(options: RedisChangePublisherOptions): RedisChangePublisher {
  const { redis, prefix, source } = options;
  const logger = options.logger.child({ component: 'feed-publisher' });
  const checkIntervalMs = options.checkIntervalMs ?? 1000;
  const publishTimeoutMs = options.publishTimeoutMs ?? 1000;
  const meta = projectionKeys(prefix).meta;

  // dirtySeq counts reasons to rebuild; a rebuild that started at seq N cleans up to N only, so a
  // publish refused while a rebuild is loading still gets its own rebuild.
  let dirtySeq = 1;
  let cleanSeq = 0;
  let rebuilding: Promise<RebuildResult | null> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const markDirty = () => {
    dirtySeq += 1;
  };

  const runRebuild = async (reason: string): Promise<RebuildResult | null> => {
    const seq = dirtySeq;
    try {
      const result = await rebuildProjection({ redis, prefix, source, logger });
      cleanSeq = Math.max(cleanSeq, seq);
      logger.info({ reason, keys: result.keys, tiers: result.tiers, attempts: result.attempts }, 'projection rebuilt');
      options.onRebuilt?.(result);
      return result;
    } catch (error) {
      logger.warn({ err: error, reason }, 'projection rebuild failed; will retry');
      return null;
    }
  };

  const rebuild = (reason: string): Promise<RebuildResult | null> => {
    rebuilding ??= runRebuild(reason).finally(() => {
      rebuilding = null;
    });
    return rebuilding;
  };

  const check = async () => {
    if (closed || rebuilding || redis.status !== 'ready') return;
    try {
      if (dirtySeq !== cleanSeq) {
        await rebuild('changes missed while redis was away');
        return;
      }
      if ((await withTimeout(redis.exists(meta), checkIntervalMs)) === 0) {
        markDirty();
        await rebuild('projection missing');
      }
    } catch (error) {
      logger.debug({ err: error }, 'projection check failed');
    }
  };
  const onReady = () => {
    void check();
  };

  const publish = async (kind: ChangeKind, id: string, view: KeyView | TierView | null, revision: number) => {
    if (closed) return;
    if (redis.status !== 'ready') {
      markDirty();
      logger.warn({ kind }, 'redis unavailable; change left to the next rebuild');
      return;
    }
    try {
      const result = await withTimeout(
        publishChange(redis, prefix, kind, id, view === null ? null : JSON.stringify(view), revision),
        publishTimeoutMs,
      );
      if (result.outcome === 'stale') logger.debug({ kind, revision }, 'change older than the projection dropped');
      if (result.outcome === 'missing') {
        markDirty();
        void rebuild('projection missing at publish');
      }
    } catch (error) {
      markDirty();
      logger.warn({ err: error, kind }, 'publish failed; change left to the next rebuild');
    }
  };

  return {
    get dirty() {
      return dirtySeq !== cleanSeq;
    },
    publishKey: (secretHash, view, revision) => publish('key', secretHash, view, revision),
    publishTier: (name, view, revision) => publish('tier', name, view, revision),
    rebuild,
    async start() {
      redis.on('ready', onReady);
      timer = setInterval(() => void check(), checkIntervalMs);
      timer.unref();
      if (await waitForReady(redis, options.readyTimeoutMs ?? 5000)) {
        await rebuild('start');
      } else {
        logger.warn('redis not ready at start; the projection will be rebuilt when it is');
      }
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      redis.off('ready', onReady);
      await rebuilding;
    },
  };
}
