// Starters for the publisher tests: an in-memory ProjectionSource standing in for PostgreSQL, and a
// raw subscriber that records the change messages as gateways would receive them.
import type { Cluster, Redis } from 'ioredis';
import pino from 'pino';
import { type ChangeMessage, type KeyView, type TierView, parseChangeMessage } from '../../../contracts/feed.js';
import { changeChannel, projectionKeys } from '../../../contracts/redis-keys.js';
import type { ProjectionData, ProjectionSource } from '../../src/feed/publisher.js';
import { keyView as publishedKeyView, tierView } from '../../../test-support/views.js';

export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const silentLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export const freeTier: TierView = tierView({ name: 'free', limits: [{ window: '1m', limit: 5 }], algorithm: 'sliding_window' });

export function keyView(id: string, tier = 'free'): KeyView {
  return publishedKeyView({ id, tier });
}

/** What PostgreSQL would hold; `loadDelayMs` widens race windows between load and swap. */
export class MemorySource implements ProjectionSource {
  readonly keys = new Map<string, KeyView>();
  readonly tiers = new Map<string, TierView>([[freeTier.name, freeTier]]);
  /** Row revisions by `key:<hash>` / `tier:<name>`; 0 (older than any laterRevision) when not set. */
  readonly revisions = new Map<string, number>();
  /** Revisions of entries that left the projection (a rotated-away hash, a deleted tier), by field. */
  readonly retired = new Map<string, number>();
  loads = 0;

  constructor(
    keys: Record<string, KeyView> = {},
    public loadDelayMs = 0,
  ) {
    for (const [hash, view] of Object.entries(keys)) this.keys.set(hash, view);
  }

  async loadAll(): Promise<ProjectionData> {
    this.loads += 1;
    // Copy first: that is the moment the "transaction" reads.
    const revision = (field: string) => this.revisions.get(field) ?? 0;
    const keys = [...this.keys].map(([hash, view]) => ({ hash, view, revision: revision(`key:${hash}`) }));
    const tiers = [...this.tiers.values()].map((view) => ({ view, revision: revision(`tier:${view.name}`) }));
    const retired = [...this.retired].map(([field, revision]) => ({ field, revision }));
    if (this.loadDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.loadDelayMs));
    return { keys, tiers, retired };
  }
}

export async function readProjection(redis: Redis | Cluster, prefix: string) {
  const keys = projectionKeys(prefix);
  const [keyHash, tierHash, meta] = await Promise.all([
    redis.hgetall(keys.keys),
    redis.hgetall(keys.tiers),
    redis.hgetall(keys.meta),
  ]);
  return {
    keys: Object.fromEntries(Object.entries(keyHash).map(([hash, text]) => [hash, JSON.parse(text) as KeyView])),
    tiers: Object.fromEntries(Object.entries(tierHash).map(([name, text]) => [name, JSON.parse(text) as TierView])),
    meta,
  };
}

/** Records every change message on the prefix's channel; `bad` counts texts that are not one. */
export async function recordMessages(subscriber: Redis | Cluster, prefix: string) {
  const channel = changeChannel(prefix);
  const messages: ChangeMessage[] = [];
  let bad = 0;
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    const message = parseChangeMessage(text);
    if (message) messages.push(message);
    else bad += 1;
  });
  await subscriber.subscribe(channel);
  return {
    messages,
    get bad() {
      return bad;
    },
  };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function removePrefix(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
}
