// The control plane's Redis connection: one client (or a Cluster when REDIS_CLUSTER_NODES is set)
// with auto-pipelining, reconnecting forever with a capped backoff so a Redis outage never needs a
// restart. The feed publisher watches it and rebuilds the projection when Redis returns empty.
import { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RedisConnection = Redis | Cluster;

export interface ClusterNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisConnectionOptions {
  readonly url: string;
  /** `host:port,host:port…` (REDIS_CLUSTER_NODES) or parsed nodes; empty or unset for one Redis. */
  readonly clusterNodes?: string | readonly ClusterNode[] | undefined;
  /** Longest wait between reconnect attempts. */
  readonly maxBackoffMs?: number;
  /** Connection errors are logged once per outage (ioredis reports every failed retry). */
  readonly logger?: Logger;
}

/** `"a:1,b:2"` → nodes; throws on an entry that is not host:port. */
export function parseClusterNodes(text: string): ClusterNode[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry) => {
      const match = /^(.+):(\d{1,5})$/.exec(entry);
      const port = Number(match?.[2]);
      if (!match?.[1] || port < 1 || port > 65535) throw new Error(`not a host:port pair: ${entry}`);
      return { host: match[1], port };
    });
}

function reportErrors(redis: RedisConnection, logger: Logger | undefined): RedisConnection {
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    logger?.warn({ err: error }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (reported) logger?.info('redis connection back');
    reported = false;
  });
  return redis;
}

export function createRedisClient(options: RedisConnectionOptions): RedisConnection {
  return reportErrors(connect(options), options.logger?.child({ component: 'redis' }));
}

function connect(options: RedisConnectionOptions): RedisConnection {
  const maxBackoffMs = options.maxBackoffMs ?? 2000;
  const backoff = (times: number) => Math.min(50 * 2 ** Math.min(times, 10), maxBackoffMs);
  const nodes =
    typeof options.clusterNodes === 'string' ? parseClusterNodes(options.clusterNodes) : [...(options.clusterNodes ?? [])];
  if (nodes.length > 0) {
    return new Cluster(
      nodes.map((node) => ({ host: node.host, port: node.port })),
      {
        enableAutoPipelining: true,
        clusterRetryStrategy: backoff,
        // Commands wait for the cluster instead of failing while it reconnects.
        enableOfflineQueue: true,
        redisOptions: { maxRetriesPerRequest: null },
      },
    );
  }
  return new Redis(options.url, {
    enableAutoPipelining: true,
    retryStrategy: backoff,
    // Never give up on a command because of reconnects; callers bound their own waits.
    maxRetriesPerRequest: null,
  });
}
