// Tests of gateway/src/redis-client.ts (kept beside the limiter, its main user).
import t from 'tap';
import {
  createRedisClient,
  createSubscriberClient,
  parseClusterNodes,
  waitForReady,
} from '../../src/redis-client.js';
import { startRedisServer, uniquePrefix } from '../../../test-support/redis-server.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

t.test('cluster nodes are read from host:port lists and a bad item is named', async (t) => {
  t.same(parseClusterNodes('10.0.0.1:7000, redis-b:7001'), [
    { host: '10.0.0.1', port: 7000 },
    { host: 'redis-b', port: 7001 },
  ]);
  t.same(parseClusterNodes(['[::1]:7000']), [{ host: '[::1]', port: 7000 }]);
  t.throws(() => parseClusterNodes('redis-a'), { message: '"redis-a" is not host:port', code: 'REDIS_CONFIG_INVALID' });
  t.throws(() => parseClusterNodes('redis-a:99999'), { code: 'REDIS_CONFIG_INVALID' });
  t.throws(() => parseClusterNodes(' , '), { message: 'no cluster node given' });
});

t.test('the limiter connection fails a command at once while Redis is down', async (t) => {
  const server = await startRedisServer();
  await server.stop();
  const client = createRedisClient({ url: server.url });
  client.on('error', () => {});
  t.teardown(() => client.disconnect());
  const started = Date.now();
  await t.rejects(client.ping());
  t.ok(Date.now() - started < 1000, 'no offline queue: the command does not wait for a reconnect');
});

t.test('the subscriber connection receives what is published on a channel', async (t) => {
  const subscriber = createSubscriberClient({ url: REDIS_URL });
  const publisher = createRedisClient({ url: REDIS_URL });
  subscriber.on('error', () => {});
  publisher.on('error', () => {});
  t.teardown(() => subscriber.quit());
  t.teardown(() => publisher.quit());
  const channel = `${uniquePrefix('client')}:channel`;
  const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
  await subscriber.subscribe(channel);
  await waitForReady(publisher);
  await publisher.publish(channel, 'hello');
  t.equal(await received, 'hello');
});
