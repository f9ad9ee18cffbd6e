// The gateway's FeedSource on Redis: the projection read as meta and tiers in one MULTI, then the
// keys with HSCAN, page by page, each page parsed while Redis prepares the next (one HGETALL of a
// million keys is a reply of 200 MB, held whole by Redis and by the client before one key is
// used). The pages may see changes made during the scan; the follower replays the messages after
// the head it read first, which makes the table exact. The change channel is on a dedicated
// subscriber connection. On a Cluster the subscriber is the Cluster itself (PUBLISH reaches every
// node); a lost Cluster subscription is caught by the follower's periodic version check.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type FeedListener,
  type FeedSnapshot,
  type FeedSource,
  type KeyView,
  META_EPOCH_FIELD,
  META_VERSION_FIELD,
  type SnapshotReader,
  type TierView,
  tierViewSchema,
} from '../../../contracts/feed.js';
import { changeChannel, projectionKeys } from '../../../contracts/redis-keys.js';
import { parseKeyView } from './parse-key-view.js';

/** Keys per HSCAN page: big enough that round trips do not dominate, small enough not to stall Redis. */
const DEFAULT_SCAN_COUNT = 5000;

export type FeedRedis = Redis | Cluster;

export interface RedisFeedSourceOptions {
  /** A normal client, for reads. */
  readonly redis: FeedRedis;
  /** A connection of its own: a subscribed connection can do nothing else. */
  readonly subscriber: FeedRedis;
  readonly prefix: string;
  readonly logger: Logger;
  /** Keys per HSCAN page. */
  readonly scanCount?: number;
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
  const scanCount = String(options.scanCount ?? DEFAULT_SCAN_COUNT);

  const readSnapshot = async (reader: SnapshotReader): Promise<{ invalidEntries: number } | null> => {
    const replies = await redis.multi().hgetall(keys.tiers).hgetall(keys.meta).exec();
    if (!replies) throw new FeedReadError('snapshot transaction was aborted');
    for (const [error] of replies) if (error) throw new FeedReadError('snapshot read failed', { cause: error });
    const [tierHash, metaHash] = replies.map(([, value]) => value as Record<string, string>);
    const head = readVersion(metaHash ?? {});
    if (!head) return null;
    const tiers = parseEntries<TierView>(tierHash ?? {}, (value) => tierViewSchema.safeParse(value));
    reader.begin(head, tiers.entries);
    let invalid = tiers.invalid;
    const askPage = (cursor: string) => {
      const asked = redis.hscan(keys.keys, cursor, 'COUNT', scanCount);
      // Awaited below unless parsing the page before it threw: then its failure has no one to hear it.
      asked.catch(() => {});
      return asked;
    };
    let page = askPage('0');
    for (;;) {
      const [cursor, fields] = await page;
      if (cursor !== '0') {
        // Asked before this page is parsed, so Redis and this process work at the same time; an
        // auto-pipelining client sends it at setImmediate, so that turn comes first.
        page = askPage(cursor);
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (let index = 0; index + 1 < fields.length; index += 2) {
        const view = parseKeyView(fields[index + 1] as string);
        if (view) reader.key(fields[index] as string, view);
        else invalid += 1;
      }
      if (cursor === '0') break;
    }
    // A rebuild swapped another projection in during the scan: the pages mix two of them.
    if ((await redis.hget(keys.meta, META_EPOCH_FIELD)) !== head.epoch) {
      throw new FeedReadError('the projection was rebuilt while it was read');
    }
    return { invalidEntries: invalid };
  };

  return {
    readSnapshot,

    async snapshot(): Promise<FeedSnapshot | null> {
      let head: { epoch: string; version: number } | null = null;
      let tiers: ReadonlyMap<string, TierView> = new Map();
      const views = new Map<string, KeyView>();
      const result = await readSnapshot({
        begin: (first, tierViews) => {
          head = first;
          tiers = tierViews;
        },
        key: (hash, view) => views.set(hash, view),
      });
      if (!result || !head) return null;
      return { ...(head as { epoch: string; version: number }), keys: views, tiers, invalidEntries: result.invalidEntries };
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
