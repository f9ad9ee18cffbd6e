// The fleet as Redis holds it: the gateways' heartbeats (contracts/gateway-registry.ts) and the
// change feed's latest version with the times of its recent changes, for the lag of each gateway.
import { META_VERSION_FIELD } from '../../../contracts/feed.js';
import { redisGatewayRegistry } from '../../../contracts/gateway-registry.js';
import { changeTimes, type FeedRedis } from '../../../contracts/lua/feed-scripts.js';
import { projectionKeys } from '../../../contracts/redis-keys.js';
import type { FleetSource } from './service.js';

export function redisFleetSource(redis: FeedRedis, prefix: string): FleetSource {
  return {
    registry: redisGatewayRegistry(redis, prefix),
    async changes() {
      const [version, times] = await Promise.all([redis.hget(projectionKeys(prefix).meta, META_VERSION_FIELD), changeTimes(redis, prefix)]);
      return { version: Number(version ?? 0), times };
    },
  };
}
