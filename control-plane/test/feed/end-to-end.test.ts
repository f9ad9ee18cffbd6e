// The real publisher against real gateway key feeds running as processes of their own (the two
// services never import each other), on a Redis of the test's own that is restarted empty.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';
import { createRedisConnection } from '../../../contracts/redis-connection.js';
import { createRedisChangePublisher } from '../../src/feed/redis-publisher.js';
import { MemorySource, keyView, silentLogger, waitFor } from './feed-helpers.js';
import { laterRevision } from '../../../test-support/revisions.js';

interface FollowerState {
  readonly follower: number;
  readonly version: number;
  readonly epoch: string;
  readonly hashes: string[];
}

const FOLLOWER = fileURLToPath(new URL('../../../gateway/test/keys/follower-process.ts', import.meta.url));

/** One process (tsx starts slowly) running `count` followers, each with its own connections. */
function startFollowers(url: string, prefix: string, count: number) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', FOLLOWER, url, prefix, String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const states = Array.from({ length: count }, () => [] as { state: FollowerState; at: number }[]);
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const state = JSON.parse(line) as FollowerState;
    states[state.follower]?.push({ state, at: performance.now() });
  });
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const followers = states.map((list) => ({
    states: list,
    latest: () => list.at(-1)?.state,
    has: (hash: string) => list.at(-1)?.state.hashes.includes(hash) ?? false,
  }));
  return {
    followers,
    stop: () => {
      child.stdin?.end();
      return stopped;
    },
  };
}

t.test('changes, revocations and a Redis restarted empty reach two gateway feeds by themselves', async (t) => {
  const server = await startRedisServer();
  t.teardown(() => server.stop());
  const prefix = uniquePrefix('feed-e2e');
  const redis = createRedisConnection({ url: server.url, maxReconnectDelayMs: 500, behaviour: 'patient', connectionName: 'test-control-plane' });
  redis.on('error', () => {});
  t.teardown(() => redis.disconnect());
  const source = new MemorySource({ h1: keyView('key_1') });
  const publisher = createRedisChangePublisher({ redis, prefix, source, logger: silentLogger });
  t.teardown(() => publisher.close());
  await publisher.start();

  const spawned = performance.now();
  const group = startFollowers(server.url, prefix, 2);
  t.teardown(() => group.stop());
  const followers = group.followers;
  // Generous: this waits for tsx to start a process on a busy machine, which is not under test.
  await Promise.all(followers.map((follower) => waitFor(() => follower.has('h1'), 90_000, 'the first load')));
  t.comment(`followers loaded ${(performance.now() - spawned).toFixed(0)} ms after spawning`);

  // Through the real publisher and a process boundary (stdout adds a little).
  const samples: number[] = [];
  for (let i = 0; i < 100; i += 1) {
    const hash = `p${i}`;
    source.keys.set(hash, keyView(`key_p${i}`));
    const started = performance.now();
    await publisher.publishKey(hash, keyView(`key_p${i}`), laterRevision());
    await Promise.all(followers.map((follower) => waitFor(() => follower.has(hash), 1000, `change ${i}`)));
    const seen = followers.map((follower) => follower.states.find((entry) => entry.state.hashes.includes(hash))?.at ?? 0);
    samples.push(Math.max(...seen) - started);
  }
  samples.sort((a, b) => a - b);
  t.comment(
    `publisher → 2 followers in another process, ${samples.length} changes: p50 ${samples[49]?.toFixed(2)} ms, p99 ${samples[98]?.toFixed(2)} ms`,
  );

  source.keys.delete('h1');
  await publisher.publishKey('h1', null, laterRevision());
  await Promise.all(followers.map((follower) => waitFor(() => !follower.has('h1'), 1000, 'the revocation')));

  const before = followers.map((follower) => follower.states.length);
  await server.stop();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await server.start();
  const returned = Date.now();
  source.keys.set('h-after', keyView('key_after'));
  await Promise.all(
    followers.map((follower) => waitFor(() => follower.has('h-after'), 10_000, 'the rebuilt projection')),
  );
  t.comment(`both followers had the rebuilt projection ${Date.now() - returned} ms after redis returned`);
  for (const [index, follower] of followers.entries()) {
    const during = follower.states.slice(before[index]);
    t.ok(
      during.every((entry) => entry.state.hashes.length >= 100),
      `follower ${index} never served a smaller table while redis was away`,
    );
    t.equal(follower.latest()?.hashes.length, 101);
  }
});
