// Redis connections of the gateway. The limiter connection fails fast (no offline queue, few
// retries per command) so a dead Redis turns into a quick store error that the failure mode handles,
// instead of requests queueing behind a reconnect. The subscriber connection (change feed) is the
// opposite: it queues and resubscribes by itself. Both reconnect forever with a capped backoff.
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** `redis://…`; ignored when `clusterNodes` is set. */
  readonly url?: string;
  /** `host:port,host:port,…` (REDIS_CLUSTER_NODES) or already split; switches to Redis Cluster. */
  readonly clusterNodes?: string | readonly string[];
  /** Shown in CLIENT LIST, e.g. `tollgate-gateway-limiter`. */
  readonly connectionName?: string;
  /** Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnect attempts; default 500 (SPEC: /readyz follows Redis within 2 s). */
  readonly maxReconnectDelayMs?: number;
  /** createRedisClient only: ioredis auto-pipelining; default true. */
  readonly autoPipelining?: boolean;
}

export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
  readonly code = 'REDIS_CONFIG_INVALID';
}

export interface ClusterNodeAddress {
  readonly host: string;
  readonly port: number;
}

/** `"a:6379, b:6380"` → addresses; throws RedisConfigError naming the bad item. */
export function parseClusterNodes(nodes: string | readonly string[]): ClusterNodeAddress[] {
  const items = typeof nodes === 'string' ? nodes.split(',') : nodes;
  const addresses = items
    .map((item) => item.trim())
    .filter((item) => item !== '')
    .map((item) => {
      const at = item.lastIndexOf(':');
      const port = Number(item.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new RedisConfigError(`"${item}" is not host:port`);
      }
      return { host: item.slice(0, at), port };
    });
  if (addresses.length === 0) throw new RedisConfigError('no cluster node given');
  return addresses;
}

function backoff(maxDelayMs: number): (times: number) => number {
  return (times) => Math.min(50 * times, maxDelayMs);
}

function isCluster(options: RedisClientOptions): boolean {
  const nodes = options.clusterNodes;
  return nodes !== undefined && (typeof nodes === 'string' ? nodes.trim() !== '' : nodes.length > 0);
}

function build(options: RedisClientOptions, common: RedisOptions, offlineQueue: boolean): RedisClient {
  const retry = backoff(options.maxReconnectDelayMs ?? 500);
  if (isCluster(options)) {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: offlineQueue,
      enableAutoPipelining: common.enableAutoPipelining ?? false,
      clusterRetryStrategy: retry,
      redisOptions: {
        connectTimeout: common.connectTimeout,
        maxRetriesPerRequest: common.maxRetriesPerRequest,
        connectionName: common.connectionName,
      },
    };
    return new Cluster(parseClusterNodes(options.clusterNodes ?? []), clusterOptions);
  }
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', {
    ...common,
    enableOfflineQueue: offlineQueue,
    retryStrategy: retry,
  });
}

/**
 * The limiter's connection: auto-pipelining on unless turned off (concurrent commands share one
 * write), no offline queue and one retry per command, so a dead Redis answers with an error at once.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  return build(
    options,
    {
      connectionName: options.connectionName ?? 'tollgate-gateway',
      connectTimeout: options.connectTimeoutMs ?? 2000,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: options.autoPipelining ?? true,
    },
    false,
  );
}

/**
 * A connection for SUBSCRIBE (a subscribed connection can run nothing else): commands wait for a
 * reconnect instead of failing, and ioredis resubscribes by itself.
 */
export function createSubscriberClient(options: RedisClientOptions): RedisClient {
  return build(
    options,
    {
      connectionName: options.connectionName ?? 'tollgate-gateway-subscriber',
      connectTimeout: options.connectTimeoutMs ?? 2000,
      maxRetriesPerRequest: null,
      enableAutoPipelining: false,
    },
    true,
  );
}

/** Resolves once the client is ready (tests and start-up); rejects after `timeoutMs`. */
export function waitForReady(client: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady(): void {
      clearTimeout(timer);
      resolve();
    }
    client.once('ready', onReady);
  });
}
