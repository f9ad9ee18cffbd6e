// The gateway's entry module: everything outside gateway/ (its own main.ts, the single-machine
// launcher, the bench, end-to-end tests) starts a gateway through startGateway and nothing else.
//
//   const gateway = await startGateway({ config: loadConfig(process.env) });   // Redis mode
//   const gateway = await startGateway({ config, inProcess: { store, feed, deliverRequestEvents } });
//   // resolved: the key table is loaded and the public port accepts (the ops port answered before)
//   await gateway.close();        // drain (up to 30 s), then release every connection
//
// Redis mode opens four connections: the limiter's (fails fast, so the failure mode applies at
// once), the request-event stream's, and two for the change feed (reads, the heartbeat into the
// registry of running gateways, and the subscription). A worker process (GATEWAY_WORKERS, see
// workers/) is started with `worker`: its primary serves the ops port and heartbeats for the group.
// The in-process mode (one machine, no servers) takes the in-memory limiter store, a change feed and
// a request-log delivery function from the caller instead.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { FeedSource } from '../../contracts/feed.js';
import { MemoryGatewayRegistry, redisGatewayRegistry, type GatewayRegistry } from '../../contracts/gateway-registry.js';
import type { LimiterScripts, ScriptCheck } from '../../contracts/lua/scripts.js';
import {
  createRedisConnection,
  reportConnectionState,
  type RedisConnection,
  type RedisConnectionOptions,
} from '../../contracts/redis-connection.js';
import type { RequestEvent } from '../../contracts/request-event.js';
import type { GatewayConfig } from './config.js';
import { Heartbeat, type AppliedConfig } from './fleet/heartbeat.js';
import { startKeyFeed } from './keys/feed.js';
import { followKeyFeed, type KeyFeed } from './keys/follow-feed.js';
import type { MemoryStore } from './limiter/memory-store.js';
import { RedisStore } from './limiter/redis-store.js';
import type { RateLimitStore, StoreReply } from './limiter/store.js';
import { componentLogger, createLogger } from './log.js';
import type { Readiness } from './ops/readiness.js';
import { watchRedisSettings, type RedisSettingsWatch } from './ops/redis-settings.js';
import { createRequestLogBatcher } from './request-log/batcher.js';
import type { BatchingSink } from './request-log/batching-sink.js';
import { createInProcessRequestEventSink } from './request-log/in-process-sink.js';
import { createGateway, type Gateway } from './server.js';

export { ConfigError, loadConfig, type GatewayConfig, type RouteConfig } from './config.js';
export { applyRuntimeTweaks, GATEWAY_NODE_FLAGS } from './runtime/index.js';
export { MemoryStore } from './limiter/memory-store.js';

export interface InProcessParts {
  /** The in-memory limiter store (see memoryLimiterScripts to share it with the control plane). */
  readonly store: MemoryStore;
  /** The control plane's in-process change feed. */
  readonly feed: FeedSource;
  /** Stores one batch of request events; rejects to have it retried; idempotent on event id. */
  readonly deliverRequestEvents: (batch: readonly RequestEvent[]) => Promise<void>;
  /** The registry of running gateways the control plane lists; default: one of the gateway's own. */
  readonly gateways?: GatewayRegistry;
}

/** A worker process of a gateway (GATEWAY_WORKERS > 1): its primary heartbeats and serves ops. */
export interface WorkerLink {
  /** Live gateways at the primary's last heartbeat. */
  liveGateways(): number;
}

export interface StartGatewayOptions {
  readonly config: GatewayConfig;
  /** Default: a pino logger at config.logLevel. */
  readonly logger?: Logger;
  /** The single-machine mode's parts; absent: Redis mode. */
  readonly inProcess?: InProcessParts;
  /** Listen address of both ports; default all interfaces. */
  readonly host?: string;
  /** Epoch ms for key expiry; default Date.now. */
  readonly clock?: () => number;
  /** Set in a worker process: no ops port and no heartbeat of its own. */
  readonly worker?: WorkerLink;
}

export interface RunningGateway {
  readonly port: number;
  /** 0 in a worker process (its primary serves the ops port). */
  readonly opsPort: number;
  /** This gateway's id in the registry of running gateways; null in a worker process. */
  readonly id: string | null;
  /** The gateway's metrics (a worker's primary merges them). */
  readonly registry: Registry;
  /** What /readyz answers now. */
  readiness(): Readiness;
  /** The configuration applied now. */
  applied(): AppliedConfig;
  /** Resolved when startGateway resolves: the first key table is loaded. */
  readonly ready: Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to graceMs, default 30 s), then releases
   * every connection; buffered request events are sent first. */
  close(graceMs?: number): Promise<void>;
}

interface Parts {
  /** Resolves when requests can be answered: the key table loaded, the limiter connected. */
  readonly serving: Promise<void>;
  readonly store: RateLimitStore;
  /** Where the heartbeat is written; undefined in a worker process. */
  readonly gateways?: GatewayRegistry;
  readonly redisStore?: RedisStore;
  readonly redisSettings?: RedisSettingsWatch;
  readonly feed: KeyFeed;
  readonly events: BatchingSink | undefined;
  readonly connections: readonly RedisConnection[];
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  // Pointed at the gateway's metrics once they exist; no event is dropped before that.
  const drops = { count: (_count: number): void => {} };
  const onDrop = (count: number): void => drops.count(count);
  const parts = options.inProcess ? inProcessParts(options.inProcess, config, logger, onDrop) : redisParts(config, logger, onDrop);
  const applied = (): AppliedConfig => {
    const table = parts.feed.table();
    return { epoch: table.epoch, version: table.version };
  };
  const heartbeat =
    options.worker === undefined && parts.gateways !== undefined
      ? new Heartbeat({ registry: parts.gateways, logger: componentLogger(logger, 'heartbeat'), workers: 1, applied })
      : undefined;
  const worker = options.worker;
  const liveGateways = worker !== undefined ? () => worker.liveGateways() : heartbeat !== undefined ? () => heartbeat.liveGateways() : undefined;
  const gateway: Gateway = createGateway({
    config,
    keys: () => parts.feed.table(),
    store: parts.store,
    storeHealth: parts.redisStore?.health,
    logger,
    clock: options.clock,
    requestEvents: parts.events,
    host: options.host,
    redisSettings: parts.redisSettings?.current,
    liveGateways,
    ops: options.worker === undefined,
  });
  drops.count = (count) => gateway.metrics.recordRequestLogDropped(count);
  const started = gateway;
  let ports: { port: number; opsPort: number };
  try {
    // Probes answer at once (/readyz says what is missing); the public port accepts only once the
    // gateway can answer a valid key: a load balancer that sends traffic as soon as a port accepts
    // would otherwise see 401s (no key table yet) and 503s (no limiter connection) on each restart.
    const opsPort = await started.listenOps();
    await parts.serving;
    ports = { port: await started.listenPublic(), opsPort };
  } catch (error) {
    // A port in use: release what is open so the caller can exit with one clear line.
    await started.close(0).catch(() => {});
    await releaseParts(parts);
    throw error;
  }
  heartbeat?.start();
  return {
    ...ports,
    id: heartbeat?.id ?? null,
    registry: gateway.metrics.registry,
    readiness: () => gateway.readiness(),
    applied,
    ready: parts.feed.ready,
    async close(graceMs) {
      // Out of the registry first: the others stop counting it while it drains.
      await heartbeat?.close();
      await started.close(graceMs);
      await releaseParts(parts);
    },
  };
}

function redisParts(config: GatewayConfig, logger: Logger, onDrop: (count: number) => void): Parts {
  const log = componentLogger(logger, 'redis');
  const connect = (connectionName: string, behaviour: RedisConnectionOptions['behaviour'], autoPipelining = true) => {
    const client = createRedisConnection({
      url: config.redisUrl,
      clusterNodes: config.redisClusterNodes,
      behaviour,
      connectionName,
      autoPipelining,
    });
    reportConnectionState(client, log.child({ connection: connectionName }));
    return client;
  };
  // The limiter store already sends one script call per event-loop turn; auto-pipelining on top
  // would only wrap each call in a pipeline of one.
  const limiterRedis = connect('tollgate-gateway-limiter', 'fail-fast', false);
  const eventsRedis = connect('tollgate-gateway-events', 'patient');
  const feedRedis = connect('tollgate-gateway-feed', 'patient', false);
  const subscriberRedis = connect('tollgate-gateway-subscriber', 'patient', false);
  const redisStore = new RedisStore({ client: limiterRedis, prefix: config.redisKeyPrefix, timeoutMs: config.redisTimeoutMs });
  redisStore.health.subscribe((up) => (up ? logger.info('redis up') : logger.warn('redis down')));
  const feed = startKeyFeed({ redis: feedRedis, subscriber: subscriberRedis, prefix: config.redisKeyPrefix, logger });
  // GATEWAY_REQUEST_LOG=off: no sink, so no request events are built or sent.
  const events = config.requestLog
    ? createRequestLogBatcher({
        redis: eventsRedis,
        prefix: config.redisKeyPrefix,
        logger: componentLogger(logger, 'request-log'),
        maxBuffered: config.requestLogBufferEvents,
        onDrop,
      })
    : undefined;
  const redisSettings = watchRedisSettings(feedRedis, componentLogger(logger, 'redis'));
  const gateways = redisGatewayRegistry(feedRedis, config.redisKeyPrefix);
  const serving = Promise.all([feed.ready, storeUp(redisStore)]).then(() => {});
  return { serving, store: redisStore, redisStore, redisSettings, gateways, feed, events, connections: [limiterRedis, eventsRedis, feedRedis, subscriberRedis] };
}

function inProcessParts(parts: InProcessParts, config: GatewayConfig, logger: Logger, onDrop: (count: number) => void): Parts {
  const feed = followKeyFeed({ source: parts.feed, logger });
  const events = config.requestLog
    ? createInProcessRequestEventSink({
        deliver: parts.deliverRequestEvents,
        logger: componentLogger(logger, 'request-log'),
        maxBuffered: config.requestLogBufferEvents,
        onDrop,
      })
    : undefined;
  return { serving: feed.ready, store: parts.store, gateways: parts.gateways ?? new MemoryGatewayRegistry(), feed, events, connections: [] };
}

/** Resolves once the limiter's breaker has seen Redis answer (it starts open until its first PING
 * after the connection is up), however long that takes: a gateway waits for Redis. */
function storeUp(store: RedisStore): Promise<void> {
  if (store.health.isUp) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = store.health.subscribe((up) => {
      if (!up) return;
      stop();
      resolve();
    });
  });
}

async function releaseParts(parts: Parts): Promise<void> {
  // After the drain no request records anything more: send what is buffered, then let go.
  await Promise.allSettled([parts.feed.close(), parts.events?.close()]);
  await parts.store.close();
  parts.redisSettings?.close();
  for (const client of parts.connections) client.disconnect();
}

/**
 * The in-memory store in the shape of the limiter scripts' wrapper, so the control plane (usage
 * endpoint, sign-in limits) reads and consumes the very windows the in-process gateway enforces.
 */
export function memoryLimiterScripts(store: MemoryStore): LimiterScripts {
  const run = (call: 'peek' | 'consume', checks: readonly ScriptCheck[]): Promise<StoreReply[]> =>
    Promise.all(checks.map((check) => new Promise<StoreReply>((resolve, reject) => store[call](check, { received: resolve, failed: reject }))));
  return {
    peek: (checks) => run('peek', checks),
    consume: (checks) => run('consume', checks),
    slots(operations, leaseMs) {
      for (const operation of operations) store.updateSlot(operation, leaseMs);
      return Promise.resolve(operations.length);
    },
  };
}
