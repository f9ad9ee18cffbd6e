// Wiring for gateway main.ts: follow the Redis change feed into a live key table.
import type { Logger } from 'pino';
import type { BuiltKeyTable } from './cache.js';
import { type KeyFeed, followKeyFeed } from './follow-feed.js';
import { type FeedRedis, createRedisFeedSource } from './redis-feed-source.js';

export interface StartKeyFeedOptions {
  /** A normal client, for snapshot reads. */
  readonly redis: FeedRedis;
  /** A dedicated connection for the subscription. */
  readonly subscriber: FeedRedis;
  readonly prefix: string;
  readonly logger: Logger;
  readonly onSwap?: (table: BuiltKeyTable) => void;
  readonly retryMs?: number;
  readonly checkIntervalMs?: number;
  /** Keys per HSCAN page when the projection is read. */
  readonly scanCount?: number;
}

export function startKeyFeed(options: StartKeyFeedOptions): KeyFeed {
  const source = createRedisFeedSource(options);
  return followKeyFeed({ ...options, source });
}

export type { KeyFeed, KeyFeedStats } from './follow-feed.js';
