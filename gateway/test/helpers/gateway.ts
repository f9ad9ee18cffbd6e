// A gateway of a test's own: the real server, hot path and proxy on port 0, with the real Redis
// limiter (shared Redis with a unique key prefix, or a Redis the test started) and a key table the
// test builds.
import { toWindowLimits, type Limit } from '../../../contracts/limits.js';
import type { RequestEventSink } from '../../../contracts/request-event.js';
import { TrustedProxies } from '../../../contracts/trusted-proxies.js';
import type { KeyTable } from '../../src/keys/key-record.js';
import { createGateway, type Gateway } from '../../src/server.js';
import type { GatewayConfig, RouteConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createRedisConnection, waitForReady, type RedisConnection } from '../../../contracts/redis-connection.js';
import { RedisStore } from '../../src/limiter/redis-store.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';

export interface TestGatewayOptions {
  readonly routes: RouteConfig[];
  readonly keys: () => KeyTable;
  readonly redisUrl?: string;
  readonly failureMode?: GatewayConfig['failureMode'];
  readonly upstreamTimeoutMs?: number;
  readonly redisTimeoutMs?: number;
  readonly clock?: () => number;
  /** GATEWAY_TRUSTED_PROXIES; default none. */
  readonly trustedProxies?: TrustedProxies;
  /** Listen address; default 127.0.0.1. */
  readonly host?: string;
  /** Where request events go; default none. */
  readonly requestEvents?: RequestEventSink;
  /** Any other settings. */
  readonly config?: Partial<GatewayConfig>;
  /** REDIS_KEY_PREFIX: the same one makes two gateways share their limits; default a fresh one. */
  readonly prefix?: string;
  /** Live gateways (GATEWAY_FAILURE_MODE=local's shares); default 1. */
  readonly liveGateways?: () => number;
}

export interface TestGateway {
  readonly url: string;
  readonly opsUrl: string;
  readonly port: number;
  readonly gateway: Gateway;
  readonly store: RedisStore;
  readonly redis: RedisConnection;
  readonly prefix: string;
  close(): Promise<void>;
}

export function route(prefix: string, upstream: string, extra: Partial<RouteConfig> = {}): RouteConfig {
  return { name: prefix, prefix, upstream, stripPrefix: false, cost: 1, ...extra };
}

/** A route with limits of its own, named after it as the routes file names them. */
export function limitedRoute(prefix: string, upstream: string, limits: Limit[], extra: Partial<RouteConfig> = {}): RouteConfig {
  const name = extra.name ?? prefix;
  return route(prefix, upstream, { ...extra, name, limits: toWindowLimits(limits, name) });
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const prefix = options.prefix ?? uniquePrefix('gateway');
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
    trustedProxies: options.trustedProxies ?? TrustedProxies.NONE,
    ...options.config,
  };
  const redis = createRedisConnection({ url: config.redisUrl, behaviour: 'fail-fast', connectionName: 'test-gateway', autoPipelining: false });
  redis.on('error', () => {});
  await waitForReady(redis);
  const store = new RedisStore({ client: redis, prefix, timeoutMs: config.redisTimeoutMs });
  const gateway = createGateway({
    config,
    keys: options.keys,
    store,
    logger: createLogger('silent'),
    storeHealth: store.health,
    clock: options.clock,
    host: options.host ?? '127.0.0.1',
    requestEvents: options.requestEvents,
    liveGateways: options.liveGateways,
  });
  const { port, opsPort } = await gateway.listen().catch(async (error: unknown) => {
    // A port in use: release what is open, so the test's process can end.
    await gateway.close(0);
    redis.disconnect();
    throw error;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    opsUrl: `http://127.0.0.1:${opsPort}`,
    port,
    gateway,
    store,
    redis,
    prefix,
    async close() {
      await gateway.close(1000);
      await store.close();
      redis.disconnect();
    },
  };
}
