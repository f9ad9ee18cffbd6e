// A gateway key feed in a process of its own, for the control plane's end-to-end feed test (the
// services never import each other, so that test runs the follower as a separate process, as in
// production). Usage: follower-process.ts <redis url> <prefix> [followers]. Prints one JSON line
// per swap with the follower's index, version, epoch and sorted key hashes; exits when stdin closes.
import pino from 'pino';
import { startKeyFeed } from '../../src/keys/feed.js';
import { createRedisConnection } from '../../../contracts/redis-connection.js';

const [url, prefix, countText] = process.argv.slice(2);
if (!url || !prefix) throw new Error('usage: follower-process.ts <redis url> <prefix> [followers]');

// Several followers, each with its own connections, as several gateways would have.
const followers = Array.from({ length: Number(countText ?? 1) }, (_, index) => {
  const redis = createRedisConnection({ url, behaviour: 'patient', connectionName: 'test-follower' });
  const subscriber = createRedisConnection({ url, behaviour: 'patient', autoPipelining: false, connectionName: 'test-follower-subscriber' });
  redis.on('error', () => {});
  subscriber.on('error', () => {});
  const feed = startKeyFeed({
    redis,
    subscriber,
    prefix,
    logger: pino({ level: 'silent' }),
    onSwap: (table) => {
      const hashes = table.hashes().sort();
      process.stdout.write(`${JSON.stringify({ follower: index, version: table.version, epoch: table.epoch, hashes })}\n`);
    },
  });
  return { redis, subscriber, feed };
});

process.stdin.resume();
process.stdin.on('end', () => {
  void Promise.all(
    followers.map(async ({ redis, subscriber, feed }) => {
      await feed.close();
      redis.disconnect();
      subscriber.disconnect();
    }),
  ).then(() => process.exit(0));
});
