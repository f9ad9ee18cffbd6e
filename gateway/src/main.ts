// Composition root of one production gateway (SPEC §1 `npm run start:gateway`): configuration,
// logger, Redis connections, the limiter (guarded Redis store + denied cache), the key feed, the
// request-event batcher, the public and ops servers, and signals. Everything else is a factory, so
// tests and the embedded mode wire the same pieces differently.
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type GatewayConfig } from './config.js';
import { createLogger, componentLogger } from './log.js';
import { createRedisClient, createSubscriberClient, type RedisClientOptions } from './redis-client.js';
import { RedisStore } from './limiter/redis-store.js';
import { createGuardedStore } from './limiter/guarded-store.js';
import { createLimiter } from './limiter/limiter.js';
import { startKeyFeed } from './keys/feed.js';
import { createRequestLogBatcher } from './request-log/batcher.js';
import { createGateway } from './server.js';
import { makeStringPrototypeFast } from './fast-string-prototype.js';
import { keepTickObjectMapsAlive } from './tick-object-maps.js';

function readConfig(): GatewayConfig {
  // Real environment variables win over .env (process.loadEnvFile never overwrites).
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  keepTickObjectMapsAlive();
  makeStringPrototypeFast();
  const config = readConfig();
  const logger = createLogger(config.logLevel);
  const log = componentLogger(logger, 'main');
  const redisOptions: RedisClientOptions = { url: config.redisUrl, clusterNodes: config.redisClusterNodes };

  // The limiter's connection fails fast; the feed's connections wait for Redis instead.
  // RedisStore already sends one script call per event-loop turn; auto-pipelining on top would only
  // wrap each of those calls in a Pipeline of one (a Pipeline object, a tick and promises per call).
  const limiterRedis = createRedisClient({ ...redisOptions, connectionName: 'tollgate-gateway-limiter', autoPipelining: false });
  const eventsRedis = createRedisClient({ ...redisOptions, connectionName: 'tollgate-gateway-events' });
  const feedRedis = createSubscriberClient({ ...redisOptions, connectionName: 'tollgate-gateway-feed' });
  const subscriberRedis = createSubscriberClient({ ...redisOptions, connectionName: 'tollgate-gateway-subscriber' });
  for (const client of [limiterRedis, eventsRedis, feedRedis, subscriberRedis]) {
    // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
    client.on('error', (error: Error) => log.debug({ err: error }, 'redis connection error'));
  }

  const store = createGuardedStore({
    store: new RedisStore({ client: limiterRedis, prefix: config.redisKeyPrefix }),
    timeoutMs: config.redisTimeoutMs,
    onChange: (up) => (up ? log.info('redis up') : log.warn('redis down')),
  });
  const limiter = createLimiter({ store });
  const feed = startKeyFeed({
    redis: feedRedis,
    subscriber: subscriberRedis,
    prefix: config.redisKeyPrefix,
    logger,
  });
  // GATEWAY_REQUEST_LOG=off: no sink, so no request events are built or sent.
  const requestEvents = config.requestLog !== false
    ? createRequestLogBatcher({
        redis: eventsRedis,
        prefix: config.redisKeyPrefix,
        logger: componentLogger(logger, 'request-log'),
        // `gateway` is assigned below; no event can be dropped before the servers exist.
        onDrop: (count) => gateway.metrics.recordRequestLogDropped(count),
      })
    : undefined;
  const gateway = createGateway({
    config,
    keys: () => feed.table(),
    limiter,
    logger,
    storeHealth: store,
    requestEvents,
  });
  const { port, opsPort } = await gateway.listen();
  log.info({ port, ops_port: opsPort, routes: config.routes.length, failure_mode: config.failureMode }, 'gateway listening');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    // Stop accepting and let in-flight requests finish (up to 30 s), then release the rest.
    await gateway.close();
    await Promise.allSettled([feed.close(), requestEvents?.close()]);
    await limiter.close();
    for (const client of [limiterRedis, eventsRedis, feedRedis, subscriberRedis]) client.disconnect();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
