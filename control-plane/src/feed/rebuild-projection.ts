// Rebuilds the gateways' projection from PostgreSQL: stage the whole projection under a new epoch,
// then swap it in with one script that refuses if anything was published since we read the meta
// (the staged data could be older than that change). Refused swaps are retried with a fresh load.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type FeedRedis, raiseRevisions, stagingKeys, swapProjection } from '../../../contracts/lua/feed-scripts.js';
import { META_EPOCH_FIELD, META_VERSION_FIELD } from '../../../contracts/feed.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { revisionFields, type ProjectionSource } from './publisher.js';

/** Staged hashes expire if their writer dies before the swap. */
const STAGING_TTL_SECONDS = 300;
const CHUNK_FIELDS = 500;

export class FeedRebuildError extends Error {
  readonly code = 'FEED_REBUILD_CONTENDED';
}

export interface RebuildOptions {
  readonly redis: FeedRedis;
  readonly prefix: string;
  readonly source: ProjectionSource;
  readonly logger: Logger;
  readonly maxAttempts?: number;
}

export interface RebuildResult {
  readonly epoch: string;
  readonly keys: number;
  readonly tiers: number;
  readonly attempts: number;
}

async function stage(redis: FeedRedis, key: string, entries: readonly (readonly [string, string])[]): Promise<void> {
  const writes: Promise<unknown>[] = [];
  for (let start = 0; start < entries.length; start += CHUNK_FIELDS) {
    const chunk = Object.fromEntries(entries.slice(start, start + CHUNK_FIELDS));
    writes.push(redis.hset(key, chunk));
    if (start === 0) writes.push(redis.expire(key, STAGING_TTL_SECONDS));
  }
  await Promise.all(writes);
}

export async function rebuildProjection(options: RebuildOptions): Promise<RebuildResult> {
  const { redis, prefix, source, logger } = options;
  const maxAttempts = options.maxAttempts ?? 10;
  const meta = projectionKeys(prefix).meta;
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    // Read the meta BEFORE loading: a change committed after our load is published after this
    // read, bumps the version, and makes the swap refuse our older data.
    const [expectedEpoch, expectedVersion] = await redis.hmget(meta, META_EPOCH_FIELD, META_VERSION_FIELD);
    const data = await source.loadAll();
    const epoch = randomBytes(9).toString('base64url');
    const staged = stagingKeys(prefix, epoch);
    await Promise.all([
      stage(
        redis,
        staged.keys,
        data.keys.map((entry) => [entry.hash, JSON.stringify(entry.view)] as const),
      ),
      stage(
        redis,
        staged.tiers,
        data.tiers.map((entry) => [entry.view.name, JSON.stringify(entry.view)] as const),
      ),
    ]);
    // After the staging, not beside it: sharing one auto-pipeline with the staging commands, the
    // script's reply went missing in ioredis 5 ("results[i] is not iterable", every rebuild test).
    await raiseRevisions(redis, prefix, revisionFields(data));
    const swapped = await swapProjection(redis, prefix, {
      expectedEpoch: expectedEpoch ?? null,
      expectedVersion: expectedVersion ?? null,
      newEpoch: epoch,
    });
    if (swapped) {
      return { epoch, keys: data.keys.length, tiers: data.tiers.length, attempts: attempt };
    }
    logger.debug({ attempt }, 'projection changed during rebuild; loading again');
    await new Promise((resolve) => setTimeout(resolve, Math.min(20 * attempt, 200)));
  }
  throw new FeedRebuildError(`projection kept changing during ${maxAttempts} rebuild attempts`);
}
