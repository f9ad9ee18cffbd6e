import t, { type Test } from 'tap';
import { toWindowLimits } from '../../../contracts/limits.js';
import { changeChannel, projectionKeys } from '../../../contracts/redis-keys.js';
import { startRedisCluster, startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { startKeyFeed } from '../../src/keys/feed.js';
import { createRedisConnection, parseRedisNodes } from '../../../contracts/redis-connection.js';
import {
  SHARED_REDIS_URL,
  connect,
  connectCluster,
  freeTier,
  keyView,
  percentile,
  proTier,
  removePrefix,
  silentLogger,
  testPublisher,
  waitFor,
} from './feed-helpers.js';

const redis = connect();
t.teardown(() => redis.quit());

/**
 * A follower on the gateway's own connections (limiter client for reads, subscriber client), closed
 * at the end of the test. `swappedAt` records when each version went into service.
 */
function follow(
  t: Test,
  prefix: string,
  url: string = SHARED_REDIS_URL,
  swappedAt?: Map<number, number>,
  checkIntervalMs = 500,
) {
  const reader = createRedisConnection({ url, behaviour: 'patient', connectionName: 'test-feed-reader' });
  const subscriber = createRedisConnection({ url, behaviour: 'patient', autoPipelining: false, connectionName: `test-feed-subscriber-${prefix.replace(/\W/g, '-')}` });
  // The gateway's main logs these; here a restarted Redis would print every failed retry.
  reader.on('error', () => {});
  subscriber.on('error', () => {});
  const feed = startKeyFeed({
    redis: reader,
    subscriber,
    prefix,
    logger: silentLogger,
    retryMs: 50,
    checkIntervalMs,
    onSwap: (table) => swappedAt?.set(table.version, performance.now()),
  });
  t.teardown(async () => {
    await feed.close();
    reader.disconnect();
    subscriber.disconnect();
  });
  return feed;
}

function isolated(t: Test, label: string) {
  const prefix = uniquePrefix(label);
  t.teardown(() => removePrefix(redis, prefix));
  return { prefix, publisher: testPublisher(redis, prefix) };
}

t.test('a follower started while nothing publishes loads every key from the projection', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-cold');
  const keys = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`h${i}`, keyView(`key_${i}`)]));
  await publisher.rebuild(keys, [freeTier]);
  const feed = follow(t, prefix);
  await feed.ready;
  t.equal(feed.loaded, true);
  t.equal(feed.size, 50);
  t.equal(feed.get('h7')?.id, 'key_7');
  t.equal(feed.version, 0);
});

t.test('a published key change reaches a following gateway within 1 s', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-propagation');
  await publisher.rebuild({}, [freeTier]);
  const swappedAt = new Map<number, number>();
  const feed = follow(t, prefix, SHARED_REDIS_URL, swappedAt);
  await feed.ready;
  const samples: number[] = [];
  for (let i = 0; i < 200; i += 1) {
    const started = performance.now();
    const version = await publisher.key(`h${i}`, keyView(`key_${i}`));
    await waitFor(() => feed.version === version, 1000, `version ${version}`);
    samples.push((swappedAt.get(version) ?? performance.now()) - started);
  }
  t.equal(feed.size, 200);
  samples.sort((a, b) => a - b);
  t.comment(
    `propagation over ${samples.length} changes: p50 ${percentile(samples, 50).toFixed(2)} ms, p99 ${percentile(samples, 99).toFixed(2)} ms`,
  );
});

t.test('a tier change re-limits every key of the tier', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-tier');
  await publisher.rebuild(
    { h1: keyView('key_1'), h2: keyView('key_2'), h3: keyView('key_3', 'pro'), h4: keyView('key_4', 'free', { limits: [{ window: '1h', limit: 9 }] }) },
    [freeTier, proTier],
  );
  const feed = follow(t, prefix);
  await feed.ready;
  await publisher.tier('free', { ...freeTier, limits: [{ window: '1s', limit: 2 }], algorithm: 'sliding_log' });
  await waitFor(() => feed.get('h1')?.limits[0]?.limit === 2, 1000, 'the new tier limits');
  t.same(feed.get('h2')?.limits, toWindowLimits([{ window: '1s', limit: 2 }]));
  t.equal(feed.get('h2')?.tier.algorithm, 'sliding_log');
  t.equal(feed.get('h3')?.limits[0]?.limit, 500, 'keys of other tiers keep their limits');
  t.same(feed.get('h4')?.limits, toWindowLimits([{ window: '1h', limit: 9 }]), 'an override still wins');
});

t.test('a revoked key disappears from two followers within 1 s', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-revoke');
  await publisher.rebuild({ h1: keyView('key_1'), h2: keyView('key_2') }, [freeTier]);
  const followers = [follow(t, prefix), follow(t, prefix)];
  await Promise.all(followers.map((feed) => feed.ready));
  await publisher.key('h1', null);
  await Promise.all(followers.map((feed) => waitFor(() => feed.get('h1') === undefined, 1000, 'the revocation')));
  for (const feed of followers) {
    t.equal(feed.size, 1);
    t.same(Object.fromEntries(feed.table().activeKeysByTier), { free: 1 });
  }
});

t.test('a gap in versions makes the follower reload the projection', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-gap');
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  const feed = follow(t, prefix);
  await feed.ready;
  const reloadsBefore = feed.stats.reloads;
  // A change whose message is lost: written to the projection with its version, never published.
  const keys = projectionKeys(prefix);
  await redis.hset(keys.keys, 'h-lost', JSON.stringify(keyView('key_lost')));
  await redis.hincrby(keys.meta, 'version', 1);
  const version = await publisher.key('h2', keyView('key_2'));
  await waitFor(() => feed.version === version, 1000, 'the reload after the gap');
  t.equal(feed.get('h-lost')?.id, 'key_lost', 'the change without a message was loaded');
  t.equal(feed.get('h2')?.id, 'key_2');
  t.ok(feed.stats.reloads > reloadsBefore);
});

t.test('a malformed message is ignored and the old table kept', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-malformed');
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  const feed = follow(t, prefix);
  await feed.ready;
  const before = feed.table();
  await redis.publish(changeChannel(prefix), 'not json');
  await redis.publish(changeChannel(prefix), JSON.stringify({ kind: 'key', epoch: before.epoch, version: 1, id: 'h9', value: { id: 'x' } }));
  await waitFor(() => feed.stats.badMessages === 2, 1000, 'both bad messages');
  t.equal(feed.table(), before, 'the same table is still in service');
  const version = await publisher.key('h2', keyView('key_2'));
  await waitFor(() => feed.version === version, 1000, 'the next good change');
  t.equal(feed.get('h1')?.id, 'key_1');
  t.equal(feed.get('h9'), undefined);
});

t.test('a follower whose subscription dropped reloads and gets the change it missed', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-reconnect');
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  // A version check too slow to help: only the reconnect can bring the missed change in.
  const feed = follow(t, prefix, SHARED_REDIS_URL, undefined, 60_000);
  await feed.ready;
  const name = `test-feed-subscriber-${prefix.replace(/\W/g, '-')}`;
  const clients = (await redis.client('LIST')) as string;
  const id = /id=(\d+) .*name=(\S+)/g;
  const line = clients.split('\n').find((entry) => entry.includes(`name=${name} `));
  const match = line ? id.exec(line) : null;
  t.ok(match, 'the subscriber connection is found');
  await redis.client('KILL', 'ID', match?.[1] ?? '0');
  const version = await publisher.key('h2', keyView('key_2'));
  await waitFor(() => feed.version === version, 1000, 'the missed change');
  t.equal(feed.get('h2')?.id, 'key_2');
  t.ok(feed.stats.reloads >= 2, 'it came in by a reload');
});

t.test('a rebuild under a new epoch makes followers reload', async (t) => {
  const { prefix, publisher } = isolated(t, 'feed-epoch');
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  const feed = follow(t, prefix);
  await feed.ready;
  const epoch = await publisher.rebuild({ h2: keyView('key_2') }, [freeTier]);
  await waitFor(() => feed.table().epoch === epoch, 1000, 'the new epoch');
  t.equal(feed.get('h1'), undefined);
  t.equal(feed.get('h2')?.id, 'key_2');
});

t.test('followers keep their table while Redis restarts empty and reload once the projection is back', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const prefix = uniquePrefix('feed-restart');
  const writer = connect(server.url);
  t.teardown(() => writer.disconnect());
  const publisher = testPublisher(writer, prefix);
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  const feed = follow(t, prefix, server.url);
  await feed.ready;

  await server.stop();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(feed.get('h1')?.id, 'key_1', 'redis down: the last table is still served');
  await server.start();
  await waitFor(() => writer.status === 'ready', 5000, 'the writer to reconnect');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(feed.get('h1')?.id, 'key_1', 'redis empty: the last table is still served');

  const epoch = await publisher.rebuild({ h1: keyView('key_1'), h2: keyView('key_2') }, [freeTier]);
  await waitFor(() => feed.table().epoch === epoch, 5000, 'the rebuilt projection');
  t.equal(feed.get('h2')?.id, 'key_2');
  const version = await publisher.key('h3', keyView('key_3'));
  await waitFor(() => feed.version === version, 1000, 'changes after the restart');
});

t.test('the feed works on a 3-master Redis Cluster', async (t) => {
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.stop());
  const prefix = uniquePrefix('feed-cluster');
  const writer = connectCluster(cluster.nodes);
  const reader = createRedisConnection({ clusterNodes: parseRedisNodes(cluster.nodes), behaviour: 'patient', connectionName: 'test-feed-reader' });
  const subscriber = createRedisConnection({ clusterNodes: parseRedisNodes(cluster.nodes), behaviour: 'patient', autoPipelining: false, connectionName: 'test-feed-subscriber' });
  const clusterStarted = performance.now();
  const publisher = testPublisher(writer, prefix);
  await publisher.rebuild({ h1: keyView('key_1') }, [freeTier]);
  const feed = startKeyFeed({ redis: reader, subscriber, prefix, logger: silentLogger, retryMs: 50 });
  t.teardown(async () => {
    await feed.close();
    for (const client of [writer, reader, subscriber]) client.disconnect();
  });
  await feed.ready;
  t.comment(`cluster follower loaded after ${(performance.now() - clusterStarted).toFixed(0)} ms`);
  t.equal(feed.get('h1')?.id, 'key_1');
  const version = await publisher.key('h2', keyView('key_2'));
  await waitFor(() => feed.version === version, 1000, 'the change on the cluster');
  t.equal(feed.get('h2')?.id, 'key_2');
  await publisher.key('h1', null);
  await waitFor(() => feed.get('h1') === undefined, 1000, 'the revocation on the cluster');
});
