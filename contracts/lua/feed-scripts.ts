// Loader and typed wrappers for the change-feed scripts (feed-publish.lua, feed-swap.lua). The
// scripts are read once and registered with ioredis defineCommand (EVALSHA, reloaded after a
// NOSCRIPT); nothing else calls them. Every key they touch carries the `{config}` hash tag, so they
// run on Redis Cluster too.
import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';
import { changeChannel, projectionKeys } from '../redis-keys.js';

export type FeedRedis = Redis | Cluster;

const PUBLISH_COMMAND = 'tollgateFeedPublish';
const SWAP_COMMAND = 'tollgateFeedSwap';
const RAISE_COMMAND = 'tollgateFeedRaiseRevisions';

let publishSource: string | undefined;
let swapSource: string | undefined;
let raiseSource: string | undefined;

function loadSources(): { publish: string; swap: string; raise: string } {
  publishSource ??= readFileSync(new URL('./feed-publish.lua', import.meta.url), 'utf8');
  swapSource ??= readFileSync(new URL('./feed-swap.lua', import.meta.url), 'utf8');
  raiseSource ??= readFileSync(new URL('./feed-raise-revisions.lua', import.meta.url), 'utf8');
  return { publish: publishSource, swap: swapSource, raise: raiseSource };
}

interface FeedCommands {
  [PUBLISH_COMMAND](hash: string, meta: string, revisions: string, ...argv: string[]): Promise<number>;
  [SWAP_COMMAND](...args: string[]): Promise<number>;
  [RAISE_COMMAND](revisions: string, ...fieldsAndRevisions: string[]): Promise<number>;
}

function commands(redis: FeedRedis): FeedCommands {
  const candidate = redis as unknown as Partial<FeedCommands>;
  if (typeof candidate[PUBLISH_COMMAND] !== 'function') {
    const sources = loadSources();
    redis.defineCommand(PUBLISH_COMMAND, { numberOfKeys: 4, lua: sources.publish });
    redis.defineCommand(SWAP_COMMAND, { numberOfKeys: 6, lua: sources.swap });
    redis.defineCommand(RAISE_COMMAND, { numberOfKeys: 1, lua: sources.raise });
  }
  return redis as unknown as FeedCommands;
}

export type ChangeKind = 'key' | 'tier';

/**
 * What became of one change: `published` with its version; `missing` when the projection is gone
 * (Redis came back empty: the caller must rebuild, not write a partial one); `stale` when the
 * projection already holds that row at the same or a later revision (nothing was written).
 */
export type PublishResult =
  | { readonly outcome: 'published'; readonly version: number }
  | { readonly outcome: 'missing' }
  | { readonly outcome: 'stale' };

/** Writes one change to the projection and publishes it, unless it is older than what is there. */
export async function publishChange(
  redis: FeedRedis,
  prefix: string,
  kind: ChangeKind,
  id: string,
  valueJson: string | null,
  revision: number,
): Promise<PublishResult> {
  const keys = projectionKeys(prefix);
  const target = kind === 'key' ? keys.keys : keys.tiers;
  const version = Number(
    await commands(redis)[PUBLISH_COMMAND](
      target,
      keys.meta,
      keys.revisions,
      keys.changes,
      changeChannel(prefix),
      kind,
      id,
      valueJson ?? '',
      String(revision),
    ),
  );
  if (version === -1) return { outcome: 'missing' };
  if (version === -2) return { outcome: 'stale' };
  return { outcome: 'published', version };
}

/** Where a rebuild stages the new projection before the swap (same hash tag as the projection). */
export function stagingKeys(prefix: string, epoch: string): { keys: string; tiers: string } {
  const keys = projectionKeys(prefix);
  return { keys: `${keys.keys}:staging:${epoch}`, tiers: `${keys.tiers}:staging:${epoch}` };
}

/**
 * Raises the applied revisions (`kind:id` → revision) to those of rows read from PostgreSQL, for a
 * rebuild (feed-raise-revisions.lua); in chunks, so no one script call blocks Redis for long.
 */
export async function raiseRevisions(redis: FeedRedis, prefix: string, revisions: readonly (readonly [string, number])[]): Promise<void> {
  const target = projectionKeys(prefix).revisions;
  const chunk = 500;
  for (let start = 0; start < revisions.length; start += chunk) {
    const args = revisions.slice(start, start + chunk).flatMap(([field, revision]) => [field, String(revision)]);
    await commands(redis)[RAISE_COMMAND](target, ...args);
  }
}

export interface SwapArgs {
  /** Meta as read before loading from PostgreSQL; null fields when the meta hash was missing. */
  readonly expectedEpoch: string | null;
  readonly expectedVersion: string | null;
  readonly newEpoch: string;
}

/** Swaps the staged projection in and publishes `rebuilt`; false when the projection changed since it was read. */
export async function swapProjection(redis: FeedRedis, prefix: string, args: SwapArgs): Promise<boolean> {
  const keys = projectionKeys(prefix);
  const staged = stagingKeys(prefix, args.newEpoch);
  const swapped = await commands(redis)[SWAP_COMMAND](
    keys.keys,
    keys.tiers,
    keys.meta,
    staged.keys,
    staged.tiers,
    keys.changes,
    changeChannel(prefix),
    args.expectedEpoch ?? '',
    args.expectedVersion ?? '',
    args.newEpoch,
  );
  return Number(swapped) === 1;
}

/** When each of the last changes (up to 1000) was applied, by version: epoch ms. */
export async function changeTimes(redis: FeedRedis, prefix: string): Promise<Map<number, number>> {
  const members = await redis.zrange(projectionKeys(prefix).changes, '0', '-1');
  const times = new Map<number, number>();
  for (const member of members) {
    const [version, ms] = member.split(':');
    if (version !== undefined && ms !== undefined) times.set(Number(version), Number(ms));
  }
  return times;
}
