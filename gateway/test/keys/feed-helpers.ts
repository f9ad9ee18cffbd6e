// Test starters for the gateway feed: a projection written through the same contract scripts the
// control plane's publisher runs (contracts/lua), so these tests need no control plane.
import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import type { KeyView, TierView } from '../../../contracts/feed.js';
import { type FeedRedis, type PublishResult, publishChange, stagingKeys, swapProjection } from '../../../contracts/lua/feed-scripts.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { keyView as publishedKeyView, tierView } from '../../../test-support/views.js';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function connect(url: string = SHARED_REDIS_URL): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
  // Tests that restart Redis would otherwise print every failed reconnect.
  redis.on('error', () => {});
  return redis;
}

export function connectCluster(nodes: string): Cluster {
  return new Cluster(
    nodes.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host: host ?? '127.0.0.1', port: Number(port) };
    }),
  );
}

export const freeTier: TierView = tierView({ name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window' });
export const proTier: TierView = tierView({ name: 'pro', limits: [{ window: '1m', limit: 500 }], algorithm: 'sliding_window' });

export function keyView(id: string, tier = 'free', extra: Partial<KeyView> = {}): KeyView {
  return publishedKeyView({ id, tier, ...extra });
}

/** Stands in for the control plane: full rebuilds and single changes through the contract scripts. */
export function testPublisher(redis: FeedRedis, prefix: string) {
  // Each change as a later commit than the one before (migration 0020's row revisions).
  let revision = 0;
  return {
    async rebuild(keys: Record<string, KeyView>, tiers: TierView[]): Promise<string> {
      const meta = projectionKeys(prefix).meta;
      const [epoch, version] = await redis.hmget(meta, 'epoch', 'version');
      const newEpoch = randomBytes(6).toString('hex');
      const staged = stagingKeys(prefix, newEpoch);
      const keyEntries = Object.entries(keys).map(([hash, view]) => [hash, JSON.stringify(view)]);
      if (keyEntries.length > 0) await redis.hset(staged.keys, Object.fromEntries(keyEntries));
      if (tiers.length > 0) {
        await redis.hset(staged.tiers, Object.fromEntries(tiers.map((tier) => [tier.name, JSON.stringify(tier)])));
      }
      const swapped = await swapProjection(redis, prefix, {
        expectedEpoch: epoch ?? null,
        expectedVersion: version ?? null,
        newEpoch,
      });
      if (!swapped) throw new Error('test rebuild was refused');
      return newEpoch;
    },
    key: (hash: string, view: KeyView | null) =>
      published(publishChange(redis, prefix, 'key', hash, view === null ? null : JSON.stringify(view), ++revision)),
    tier: (name: string, view: TierView | null) =>
      published(publishChange(redis, prefix, 'tier', name, view === null ? null : JSON.stringify(view), ++revision)),
  };
}

async function published(pending: Promise<PublishResult>): Promise<number> {
  const result = await pending;
  if (result.outcome !== 'published') throw new Error(`change not published: ${result.outcome}`);
  return result.version;
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export async function removePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}
