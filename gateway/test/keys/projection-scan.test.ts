// Reading a projection in HSCAN pages: every key arrives, changes made during the read end up exact,
// and a rebuild during the read is refused rather than mixed in.
import t, { type Test } from 'tap';
import type { KeyView } from '../../../contracts/feed.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import { startKeyFeed } from '../../src/keys/feed.js';
import { createRedisFeedSource } from '../../src/keys/redis-feed-source.js';
import { createRedisConnection } from '../../../contracts/redis-connection.js';
import { SHARED_REDIS_URL, connect, freeTier, keyView, proTier, removePrefix, silentLogger, testPublisher, waitFor } from './feed-helpers.js';

const redis = connect();
t.teardown(() => redis.quit());

function isolated(t: Test, label: string) {
  const prefix = uniquePrefix(label);
  t.teardown(() => removePrefix(redis, prefix));
  return { prefix, publisher: testPublisher(redis, prefix) };
}

function manyKeys(count: number, tier = 'free'): Record<string, KeyView> {
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [`h${i}`, keyView(`key_${i}`, tier)]));
}

/** A follower reading `scanCount` keys per page, closed at the end of the test. */
function follow(t: Test, prefix: string, scanCount: number) {
  const reader = createRedisConnection({ url: SHARED_REDIS_URL, behaviour: 'patient', connectionName: 'test-scan-reader' });
  const subscriber = createRedisConnection({ url: SHARED_REDIS_URL, behaviour: 'patient', autoPipelining: false, connectionName: 'test-scan-subscriber' });
  reader.on('error', () => {});
  subscriber.on('error', () => {});
  const feed = startKeyFeed({ redis: reader, subscriber, prefix, logger: silentLogger, retryMs: 20, scanCount });
  t.teardown(async () => {
    await feed.close();
    reader.disconnect();
    subscriber.disconnect();
  });
  return feed;
}

/** The projection as Redis holds it now: hash → key id and tier. */
async function projectionNow(prefix: string): Promise<Record<string, string>> {
  const stored = await redis.hgetall(projectionKeys(prefix).keys);
  return Object.fromEntries(
    Object.entries(stored).map(([hash, text]) => {
      const view = JSON.parse(text) as KeyView;
      return [hash, `${view.id}/${view.tier}`];
    }),
  );
}

t.test('a projection read in many small pages loads every key', async (t) => {
  const { prefix, publisher } = isolated(t, 'scan-pages');
  await publisher.rebuild(manyKeys(3000), [freeTier]);
  const feed = follow(t, prefix, 25);
  await feed.ready;
  t.equal(feed.size, 3000);
  t.equal(feed.get('h2999')?.id, 'key_2999');
  t.same(Object.fromEntries(feed.table().activeKeysByTier), { free: 3000 });
});

t.test('keys changed while the projection is read are exact once the follower is ready', async (t) => {
  const { prefix, publisher } = isolated(t, 'scan-changes');
  await publisher.rebuild(manyKeys(2000), [freeTier, proTier]);
  const feed = follow(t, prefix, 10);
  // Changes race the read: new keys, removed keys, keys moved to another tier.
  let last = 0;
  for (let i = 0; i < 150; i += 1) {
    if (i % 3 === 0) last = await publisher.key(`new${i}`, keyView(`key_new${i}`));
    else if (i % 3 === 1) last = await publisher.key(`h${i * 7}`, null);
    else last = await publisher.key(`h${i * 11}`, keyView(`key_${i * 11}`, 'pro'));
  }
  await feed.ready;
  await waitFor(() => feed.version === last, 2000, `version ${last}`);
  const expected = await projectionNow(prefix);
  const loaded = Object.fromEntries(
    feed
      .table()
      .hashes()
      .map((hash) => [hash, `${feed.get(hash)?.id}/${feed.get(hash)?.tier.name}`]),
  );
  t.same(loaded, expected);
});

t.test('a rebuild during a read fails the read instead of mixing two projections', async (t) => {
  const { prefix, publisher } = isolated(t, 'scan-rebuild');
  await publisher.rebuild(manyKeys(1000), [freeTier]);
  const source = createRedisFeedSource({ redis, subscriber: redis, prefix, logger: silentLogger, scanCount: 5 });
  let rebuilt: Promise<string> | null = null;
  if (!source.readSnapshot) throw new Error('the Redis source reads in pages');
  const read = source.readSnapshot({
    // Sent on the reader's own connection while it scans: it lands between two pages.
    begin: () => {
      rebuilt = publisher.rebuild({ other: keyView('key_other') }, [freeTier]);
    },
    key: () => {},
  });
  await t.rejects(read, { code: 'FEED_READ_FAILED' });
  await rebuilt;
});

t.test('a follower that read during a rebuild serves the rebuilt projection only', async (t) => {
  const { prefix, publisher } = isolated(t, 'scan-rebuild-follow');
  await publisher.rebuild(manyKeys(2000), [freeTier]);
  const feed = follow(t, prefix, 10);
  const epoch = await publisher.rebuild({ other: keyView('key_other') }, [freeTier]);
  await feed.ready;
  await waitFor(() => feed.table().epoch === epoch, 2000, 'the rebuilt projection');
  t.same(feed.table().hashes(), ['other']);
});
