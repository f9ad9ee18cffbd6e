// A gateway of a test's own: the real server, hot path and proxy on port 0, with the real Redis
// limiter (shared Redis with a unique key prefix, or a Redis the test started) and a key table the
// test builds.
import type { KeyTable } from '../../src/keys/key-record.js';
import { createGateway, type Gateway } from '../../src/server.js';
import type { GatewayConfig, RouteConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createRedisClient, waitForReady, type RedisClient } from '../../src/redis-client.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { createGuardedStore, type GuardedStore } from '../../src/limiter/guarded-store.js';
import { createLimiter, type Limiter } from '../../src/limiter/limiter.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';

export interface TestGatewayOptions {
  readonly routes: RouteConfig[];
  readonly keys: () => KeyTable;
  readonly redisUrl?: string;
  readonly failureMode?: GatewayConfig['failureMode'];
  readonly upstreamTimeoutMs?: number;
  readonly redisTimeoutMs?: number;
  readonly clock?: () => number;
}

export interface TestGateway {
  readonly url: string;
  readonly opsUrl: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly limiter: Limiter;
  readonly store: GuardedStore;
  readonly redis: RedisClient;
  readonly prefix: string;
  close(): Promise<void>;
}

export function route(prefix: string, upstream: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return { name: prefix, prefix, upstream, stripPrefix: false, cost: 1, ...extra };
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const prefix = uniquePrefix('gateway');
  const config: GatewayConfig = {
    redisUrl: options.redisUrl ?? 'redis://127.0.0.1:6379',
    redisClusterNodes: [],
    redisKeyPrefix: prefix,
    port: 0,
    opsPort: 0,
    routes: options.routes,
    failureMode: options.failureMode ?? 'open',
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? 30_000,
    // Generous: a busy test machine must not turn a slow answer into a store failure.
    redisTimeoutMs: options.redisTimeoutMs ?? 1000,
    logLevel: 'silent',
  };
  const redis = createRedisClient({ url: config.redisUrl });
  await waitForReady(redis);
  const store = createGuardedStore({
    store: new RedisStore({ client: redis, prefix }),
    timeoutMs: config.redisTimeoutMs,
  });
  const limiter = createLimiter({ store });
  const gateway = createGateway({
    config,
    keys: options.keys,
    limiter,
    logger: createLogger('silent'),
    storeHealth: store,
    clock: options.clock,
    host: '127.0.0.1',
  });
  const { port, opsPort } = await gateway.listen();
  return {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    port,
    gateway,
    limiter,
    store,
    redis,
    prefix,
    async close() {
      await gateway.close(1000);
      await limiter.close();
      redis.disconnect();
    },
  };
}
