// Redis connections of both services, made in one place so that REDIS_URL and REDIS_CLUSTER_NODES
// mean the same thing to the gateway and the control plane (they must meet on the same keys).
//
// Two behaviours, chosen per connection:
// - `fail-fast` (the gateway's limiter): no offline queue and one retry per command, so a dead Redis
//   turns into an error at once, which the gateway's failure mode handles, instead of requests
//   queueing behind a reconnect.
// - `patient` (feeds, subscriptions, the request-event stream, the control plane): commands wait
//   for a reconnect instead of failing; callers bound their own waits.
// Either way the connection reconnects forever with a capped backoff, so a Redis outage never
// needs a restart.
import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { z } from 'zod';

export type RedisConnection = Redis | Cluster;

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export class RedisNodesError extends Error {
  override readonly name = 'RedisNodesError';
  readonly code = 'REDIS_NODES_INVALID';
}

/** `"a:6379, b:6380"` → nodes; throws RedisNodesError naming the first entry that is not host:port. */
export function parseRedisNodes(text: string): RedisNode[] {
  const nodes = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const at = entry.lastIndexOf(':');
      const port = Number(entry.slice(at + 1));
      const host = entry.slice(0, at);
      if (at <= 0 || !/^\d{1,5}$/.test(entry.slice(at + 1)) || port < 1 || port > 65535 || /\s/.test(host)) {
        throw new RedisNodesError(`"${entry}" is not host:port`);
      }
      return { host, port };
    });
  if (nodes.length === 0) throw new RedisNodesError('lists no host:port');
  return nodes;
}

/** REDIS_CLUSTER_NODES as both services validate it: the text in, the nodes out. */
export const redisNodesSchema = z.string().transform((text, ctx) => {
  try {
    return parseRedisNodes(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of host:port (${(error as Error).message})` });
    return z.NEVER;
  }
});

export interface RedisConnectionOptions {
  /** `redis://…` or `rediss://…`; ignored when `clusterNodes` is given. */
  readonly url?: string;
  /** Redis Cluster seed nodes (parsed REDIS_CLUSTER_NODES); empty or absent for one Redis. */
  readonly clusterNodes?: readonly RedisNode[];
  readonly behaviour: 'fail-fast' | 'patient';
  /** Shown by CLIENT LIST, e.g. `tollgate-gateway-limiter`. */
  readonly connectionName: string;
  /** ioredis auto-pipelining (concurrent commands share one write); default true. */
  readonly autoPipelining?: boolean;
  /** Default 2000. */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnect attempts; default 500 (readiness follows Redis within 2 s). */
  readonly maxReconnectDelayMs?: number;
}

export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const maxDelayMs = options.maxReconnectDelayMs ?? 500;
  const retry = (times: number): number => Math.min(50 * times, maxDelayMs);
  const failFast = options.behaviour === 'fail-fast';
  const common: RedisOptions = {
    connectionName: options.connectionName,
    connectTimeout: options.connectTimeoutMs ?? 2000,
    maxRetriesPerRequest: failFast ? 1 : null,
    enableOfflineQueue: !failFast,
    enableAutoPipelining: options.autoPipelining ?? true,
  };
  const nodes = options.clusterNodes ?? [];
  if (nodes.length > 0) {
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: common.enableOfflineQueue,
      enableAutoPipelining: common.enableAutoPipelining,
      clusterRetryStrategy: retry,
      redisOptions: {
        connectTimeout: common.connectTimeout,
        maxRetriesPerRequest: common.maxRetriesPerRequest,
        connectionName: common.connectionName,
      },
    };
    return new Cluster(
      nodes.map((node) => ({ host: node.host, port: node.port })),
      clusterOptions,
    );
  }
  return new Redis(options.url ?? 'redis://127.0.0.1:6379', { ...common, retryStrategy: retry });
}

/** Resolves once the connection is ready (start-up, tests); rejects after `timeoutMs`. */
export function waitForReady(client: RedisConnection, timeoutMs = 10_000): Promise<void> {
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

/** The part of a pino logger the report below uses. */
export interface ConnectionLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/**
 * Logs a lost connection once per outage and its return. ioredis emits 'error' for every failed
 * reconnect attempt, and an 'error' without a listener would crash the process.
 */
export function reportConnectionState(client: RedisConnection, logger: ConnectionLogger): void {
  let lost = false;
  client.on('error', (error: Error) => {
    if (lost) return;
    lost = true;
    logger.warn({ err: error }, 'redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    if (lost) logger.info({}, 'redis connection back');
    lost = false;
  });
}
