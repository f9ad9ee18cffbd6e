// The change-feed behaviour suite against both implementations: Redis (projection + pub/sub, on the
// shared Redis under a prefix of the test's own) and the in-process feed of the embedded mode.
import { Redis } from 'ioredis';
import t from 'tap';
import { createMemoryChangeFeed } from '../../control-plane/src/feed/memory-feed.js';
import { createRedisChangePublisher } from '../../control-plane/src/feed/redis-publisher.js';
import { createRedisFeedSource } from '../../gateway/src/keys/redis-feed-source.js';
import { createRedisConnection } from '../../contracts/redis-connection.js';
import { uniquePrefix } from '../../test-support/redis-server.js';
import { feedBehaviour, silentLogger } from './feed-behaviour.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const admin = new Redis(REDIS_URL);
t.teardown(() => admin.quit());

feedBehaviour('in-process feed', async (projection) => {
  const feed = createMemoryChangeFeed({ source: projection, logger: silentLogger });
  return { publisher: feed, source: feed, close: async () => {} };
});

feedBehaviour('Redis feed', async (projection) => {
  const prefix = uniquePrefix('contract-feed');
  const publisherRedis = createRedisConnection({ url: REDIS_URL , behaviour: 'patient', connectionName: 'test-publisher' });
  const reader = createRedisConnection({ url: REDIS_URL, behaviour: 'patient', connectionName: 'test-contract-feed-reader' });
  const subscriber = createRedisConnection({ url: REDIS_URL, behaviour: 'patient', autoPipelining: false, connectionName: 'test-contract-feed-subscriber' });
  const publisher = createRedisChangePublisher({ redis: publisherRedis, prefix, source: projection, logger: silentLogger });
  const source = createRedisFeedSource({ redis: reader, subscriber, prefix, logger: silentLogger });
  return {
    publisher,
    source,
    async close() {
      reader.disconnect();
      subscriber.disconnect();
      publisherRedis.disconnect();
      const keys = await admin.keys(`${prefix}:*`);
      if (keys.length > 0) await admin.del(...keys);
    },
  };
});
