// The gateway's FeedSource on Redis: the projection hashes read in one MULTI (a consistent
// snapshot) and the change channel on a dedicated subscriber connection. On a Cluster the
// subscriber is the Cluster itself (PUBLISH reaches every node); a lost Cluster subscription is
// caught by the follower's periodic version check.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type FeedListener,
  type FeedSnapshot,
  type FeedSource,
  type KeyView,
  META_EPOCH_FIELD,
  META_VERSION_FIELD,
  type TierView,
  keyViewSchema,
  tierViewSchema,
} from '../../../contracts/feed.js';
import { changeChannel, projectionKeys } from '../../../contracts/redis-keys.js';

export type FeedRedis = Redis | Cluster;

export interface RedisFeedSourceOptions {
  /** A normal client, for reads. */
  readonly redis: FeedRedis;
  /** A connection of its own: a subscribed connection can do nothing else. */
  readonly subscriber: FeedRedis;
  readonly prefix: string;
  readonly logger: Logger;
}

export class FeedReadError extends Error {
  readonly code = 'FEED_READ_FAILED';
}

function parseEntries<T>(
  hash: Record<string, string>,
  parse: (value: unknown) => { success: true; data: T } | { success: false },
): { entries: Map<string, T>; invalid: number } {
  const entries = new Map<string, T>();
  let invalid = 0;
  for (const [field, text] of Object.entries(hash)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      invalid += 1;
      continue;
    }
    const result = parse(value);
    if (result.success) entries.set(field, result.data);
    else invalid += 1;
  }
  return { entries, invalid };
}

function readVersion(meta: Record<string, string>): { epoch: string; version: number } | null {
  const epoch = meta[META_EPOCH_FIELD];
  const version = Number(meta[META_VERSION_FIELD]);
  if (!epoch || !Number.isSafeInteger(version)) return null;
  return { epoch, version };
}

export function createRedisFeedSource(options: RedisFeedSourceOptions): FeedSource {
  const { redis, subscriber, prefix } = options;
  const keys = projectionKeys(prefix);
  const channel = changeChannel(prefix);

  return {
    async snapshot(): Promise<FeedSnapshot | null> {
      const replies = await redis.multi().hgetall(keys.keys).hgetall(keys.tiers).hgetall(keys.meta).exec();
      if (!replies) throw new FeedReadError('snapshot transaction was aborted');
      for (const [error] of replies) if (error) throw new FeedReadError('snapshot read failed', { cause: error });
      const [keyHash, tierHash, metaHash] = replies.map(([, value]) => value as Record<string, string>);
      const head = readVersion(metaHash ?? {});
      if (!head) return null;
      const parsedKeys = parseEntries<KeyView>(keyHash ?? {}, (value) => keyViewSchema.safeParse(value));
      const parsedTiers = parseEntries<TierView>(tierHash ?? {}, (value) => tierViewSchema.safeParse(value));
      return {
        ...head,
        keys: parsedKeys.entries,
        tiers: parsedTiers.entries,
        invalidEntries: parsedKeys.invalid + parsedTiers.invalid,
      };
    },

    async head() {
      const [epoch, version] = await redis.hmget(keys.meta, META_EPOCH_FIELD, META_VERSION_FIELD);
      return readVersion({ [META_EPOCH_FIELD]: epoch ?? '', [META_VERSION_FIELD]: version ?? '' });
    },

    async subscribe(listener: FeedListener) {
      const onMessage = (from: string, message: string) => {
        if (from === channel) listener.onMessage(message);
      };
      // Any `ready` after the first subscription is a reconnect: messages may have been missed.
      // ioredis emits `ready` before it resubscribes; subscribing again (idempotent, same
      // connection, so answered after the resubscription) makes the reload start only once
      // messages flow again, so nothing published between the two is missed.
      const onReady = () => {
        subscriber.subscribe(channel).then(
          () => listener.onReconnect(),
          () => listener.onReconnect(),
        );
      };
      subscriber.on('message', onMessage);
      await subscriber.subscribe(channel);
      subscriber.on('ready', onReady);
      // A Cluster moves its subscription to another node by itself when a node leaves, silently.
      subscriber.on('-node', onReady);
      return async () => {
        subscriber.off('message', onMessage);
        subscriber.off('ready', onReady);
        subscriber.off('-node', onReady);
        try {
          await subscriber.unsubscribe(channel);
        } catch {
          // the connection is going away anyway
        }
      };
    },
  };
}
