import t, { type Test } from 'tap';
import { Redis } from 'ioredis';
import { startRedisCluster, startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { createRedisConnection, parseRedisNodes } from '../../../contracts/redis-connection.js';
import { createRedisChangePublisher } from '../../src/feed/redis-publisher.js';
import type { RedisConnection } from '../../../contracts/redis-connection.js';
import {
  MemorySource,
  SHARED_REDIS_URL,
  freeTier,
  keyView,
  readProjection,
  recordMessages,
  removePrefix,
  silentLogger,
  waitFor,
} from './feed-helpers.js';
import { laterRevision } from '../../../test-support/revisions.js';
import { changeTimes } from '../../../contracts/lua/feed-scripts.js';

const admin = new Redis(SHARED_REDIS_URL);
t.teardown(() => admin.quit());

function client(t: Test, options: { url?: string; clusterNodes?: string } = {}): RedisConnection {
  const redis = createRedisConnection({ url: options.url ?? SHARED_REDIS_URL, clusterNodes: options.clusterNodes === undefined ? undefined : parseRedisNodes(options.clusterNodes), maxReconnectDelayMs: 200, behaviour: 'patient', connectionName: 'test-control-plane' });
  t.teardown(() => redis.disconnect());
  return redis;
}

function publisherOn(t: Test, redis: RedisConnection, prefix: string, source: MemorySource) {
  const publisher = createRedisChangePublisher({ redis, prefix, source, logger: silentLogger, checkIntervalMs: 200 });
  t.teardown(() => publisher.close());
  return publisher;
}

function isolated(t: Test, label: string): string {
  const prefix = uniquePrefix(label);
  t.teardown(() => removePrefix(admin, prefix));
  return prefix;
}

t.test('start rebuilds the projection from the source and announces it', async (t) => {
  const prefix = isolated(t, 'pub-start');
  const recorder = await recordMessages(client(t), prefix);
  const source = new MemorySource({ h1: keyView('key_1'), h2: keyView('key_2') });
  await publisherOn(t, client(t), prefix, source).start();
  const projection = await readProjection(admin, prefix);
  t.same(projection.keys, { h1: keyView('key_1'), h2: keyView('key_2') });
  t.same(projection.tiers, { free: freeTier });
  t.equal(projection.meta.version, '0');
  await waitFor(() => recorder.messages.length === 1, 1000, 'the rebuilt message');
  t.same(recorder.messages[0], { kind: 'rebuilt', epoch: projection.meta.epoch, version: 0 });
});

t.test('a key change is written to the projection and published with the next version', async (t) => {
  const prefix = isolated(t, 'pub-key');
  const recorder = await recordMessages(client(t), prefix);
  const publisher = publisherOn(t, client(t), prefix, new MemorySource());
  await publisher.start();
  await publisher.publishKey('h1', keyView('key_1'), laterRevision());
  await publisher.publishTier('pro', { ...freeTier, name: 'pro' }, laterRevision());
  const projection = await readProjection(admin, prefix);
  t.same(projection.keys, { h1: keyView('key_1') });
  t.same(projection.tiers.pro, { ...freeTier, name: 'pro' });
  t.equal(projection.meta.version, '2');
  await waitFor(() => recorder.messages.length === 3, 1000, 'three messages');
  const epoch = projection.meta.epoch ?? '';
  t.same(recorder.messages[1], { kind: 'key', epoch, version: 1, id: 'h1', value: keyView('key_1') });
  t.same(recorder.messages[2], { kind: 'tier', epoch, version: 2, id: 'pro', value: { ...freeTier, name: 'pro' } });
  t.equal(recorder.bad, 0, 'every message the script builds passes the contract schema');
});

t.test('a rebuild keeps each row revision, so a change older than the loaded row is dropped', async (t) => {
  const prefix = isolated(t, 'pub-stale');
  const recorder = await recordMessages(client(t), prefix);
  const source = new MemorySource({ h1: keyView('key_1') });
  source.revisions.set('key:h1', 50);
  const publisher = publisherOn(t, client(t), prefix, source);
  await publisher.start();
  const inactive = { ...keyView('key_1'), active: false };
  await publisher.publishKey('h1', inactive, 40);
  let projection = await readProjection(admin, prefix);
  t.same(projection.keys, { h1: keyView('key_1') }, 'the older change left the projection alone');
  t.equal(projection.meta.version, '0');
  t.notOk(publisher.dirty, 'an older change is no failure: nothing to rebuild');
  await publisher.publishKey('h1', inactive, 51);
  projection = await readProjection(admin, prefix);
  t.same(projection.keys, { h1: inactive }, 'a newer one is applied');
  await waitFor(() => recorder.messages.length === 2, 1000, 'the newer change');
  t.match(recorder.messages[1], { kind: 'key', version: 1, id: 'h1', value: inactive });
});

t.test('publishing null removes the key and announces the removal', async (t) => {
  const prefix = isolated(t, 'pub-revoke');
  const recorder = await recordMessages(client(t), prefix);
  const publisher = publisherOn(t, client(t), prefix, new MemorySource({ h1: keyView('key_1') }));
  await publisher.start();
  await publisher.publishKey('h1', null, laterRevision());
  t.same((await readProjection(admin, prefix)).keys, {});
  await waitFor(() => recorder.messages.length === 2, 1000, 'the removal message');
  t.match(recorder.messages[1], { kind: 'key', version: 1, id: 'h1', value: null });
});

t.test('changes from two control planes get consecutive versions in the order they were written', async (t) => {
  const prefix = isolated(t, 'pub-order');
  const recorder = await recordMessages(client(t), prefix);
  const first = publisherOn(t, client(t), prefix, new MemorySource());
  const second = publisherOn(t, client(t), prefix, new MemorySource());
  await first.start();
  await Promise.all(
    Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? first : second).publishKey(`h${i}`, keyView(`key_${i}`), laterRevision())),
  );
  await waitFor(() => recorder.messages.length === 101, 2000, 'every message');
  t.same(
    recorder.messages.map((message) => message.version),
    Array.from({ length: 101 }, (_, i) => i),
  );
  t.equal(Object.keys((await readProjection(admin, prefix)).keys).length, 100);
});

t.test('two concurrent rebuilds leave a consistent projection', async (t) => {
  const prefix = isolated(t, 'pub-concurrent');
  const a = new MemorySource(Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`a${i}`, keyView(`key_a${i}`)])), 5);
  const b = new MemorySource(Object.fromEntries(Array.from({ length: 700 }, (_, i) => [`b${i}`, keyView(`key_b${i}`)])), 5);
  const first = publisherOn(t, client(t), prefix, a);
  const second = publisherOn(t, client(t), prefix, b);
  for (let round = 0; round < 5; round += 1) {
    const results = await Promise.all([first.rebuild('test'), second.rebuild('test')]);
    t.ok(results.every((result) => result !== null), 'both rebuilds finish');
    const hashes = Object.keys((await readProjection(admin, prefix)).keys);
    const fromA = hashes.filter((hash) => hash.startsWith('a')).length;
    const fromB = hashes.filter((hash) => hash.startsWith('b')).length;
    t.ok((fromA === 1200 && fromB === 0) || (fromA === 0 && fromB === 700), `round ${round}: one source, whole`);
  }
  const leftovers = await admin.keys(`${prefix}:*staging*`);
  t.same(leftovers, [], 'no staged hash is left behind');
});

t.test('a change published during a rebuild is not overwritten by older data', async (t) => {
  const prefix = isolated(t, 'pub-race');
  const slow = new MemorySource({ h1: keyView('key_1') }, 300);
  const rebuilding = publisherOn(t, client(t), prefix, slow);
  const other = publisherOn(t, client(t), prefix, new MemorySource());
  await other.start();
  const rebuild = rebuilding.rebuild('test');
  await waitFor(() => slow.loads === 1, 1000, 'the rebuild to start loading');
  // Another control plane commits and publishes while the slow load is in flight.
  slow.keys.set('h2', keyView('key_2'));
  await other.publishKey('h2', keyView('key_2'), laterRevision());
  const result = await rebuild;
  t.ok(result && result.attempts >= 2, 'the first swap was refused and the load repeated');
  t.same(Object.keys((await readProjection(admin, prefix)).keys).sort(), ['h1', 'h2']);
});

t.test('Redis restarted empty is rebuilt from the source within 10 s', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const prefix = uniquePrefix('pub-restart');
  const redis = client(t, { url: server.url });
  const source = new MemorySource({ h1: keyView('key_1') });
  const publisher = publisherOn(t, redis, prefix, source);
  await publisher.start();
  const probe = client(t, { url: server.url });
  await server.stop();
  await server.start();
  const returned = Date.now();
  await waitFor(async () => (await probe.exists(`${prefix}:{config}:meta`)) === 1, 10_000, 'the rebuilt projection');
  t.comment(`projection restored ${Date.now() - returned} ms after redis returned`);
  t.same((await readProjection(probe, prefix)).keys, { h1: keyView('key_1') });
});

t.test('a change published while Redis is down does not throw and reaches the projection once Redis is back', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const prefix = uniquePrefix('pub-down');
  const redis = client(t, { url: server.url });
  const source = new MemorySource({ h1: keyView('key_1') });
  const publisher = publisherOn(t, redis, prefix, source);
  await publisher.start();
  await server.stop();
  await waitFor(() => redis.status !== 'ready', 2000, 'the client to notice');
  source.keys.set('h2', keyView('key_2'));
  const started = Date.now();
  await publisher.publishKey('h2', keyView('key_2'), laterRevision());
  t.ok(Date.now() - started < 1500, 'the REST caller is not held up');
  t.equal(publisher.dirty, true);
  await server.start();
  const probe = client(t, { url: server.url });
  await waitFor(async () => 'h2' in (await readProjection(probe, prefix)).keys, 10_000, 'the change');
  await waitFor(() => !publisher.dirty, 2000, 'the publisher to be clean');
});

t.test('the publisher works on a 3-master Redis Cluster', async (t) => {
  const cluster = await startRedisCluster();
  t.teardown(() => cluster.stop());
  const prefix = uniquePrefix('pub-cluster');
  const recorder = await recordMessages(client(t, { clusterNodes: cluster.nodes }), prefix);
  const redis = client(t, { clusterNodes: cluster.nodes });
  const publisher = publisherOn(t, redis, prefix, new MemorySource({ h1: keyView('key_1') }));
  await publisher.start();
  await publisher.publishKey('h2', keyView('key_2'), laterRevision());
  t.same(Object.keys((await readProjection(redis, prefix)).keys).sort(), ['h1', 'h2']);
  await waitFor(() => recorder.messages.length === 2, 2000, 'both messages through the cluster');
  t.match(recorder.messages[1], { kind: 'key', version: 1, id: 'h2' });
});

t.test('cluster nodes are read from host:port pairs', async (t) => {
  t.same(parseRedisNodes('10.0.0.1:7000, redis-b:7001'), [
    { host: '10.0.0.1', port: 7000 },
    { host: 'redis-b', port: 7001 },
  ]);
  t.throws(() => parseRedisNodes('redis-b'), /host:port/);
});

t.test('every change records when Redis applied it, so a gateway behind can be timed', async (t) => {
  const prefix = isolated(t, 'pub-times');
  const publisher = publisherOn(t, client(t), prefix, new MemorySource());
  const before = Date.now();
  await publisher.start();
  await publisher.publishKey('h1', keyView('key_1'), laterRevision());
  const times = await changeTimes(admin, prefix);
  t.same([...times.keys()], [0, 1], 'the rebuild (version 0) and the key change (version 1)');
  for (const ms of times.values()) t.ok(ms >= before - 1000 && ms <= Date.now() + 1000, `${ms} is Redis's time of the change`);
});
