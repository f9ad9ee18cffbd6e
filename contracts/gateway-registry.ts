// The registry of running gateways: each gateway (each process group, whatever its number of
// workers) writes a heartbeat every 2 s with what it runs and the configuration it has applied; the
// control plane lists them (GET /v1/gateways) with how far each is behind, and gateways count the
// live ones to share a limit among themselves when Redis cannot decide (GATEWAY_FAILURE_MODE=local).
//
// In Redis one hash holds every gateway's last beat (`<prefix>:gateways`, field = gateway id); the
// single-machine mode keeps the same entries in memory.
import { z } from 'zod';
import type { Cluster, Redis } from 'ioredis';
import { gatewayRegistryKey } from './redis-keys.js';

/** How often a gateway writes its beat. */
export const HEARTBEAT_INTERVAL_MS = 2_000;
/** A gateway not heard from for this long is `stale` (not counted as live). */
export const STALE_AFTER_MS = 10_000;
/** A gateway not heard from for this long is dropped from the registry. */
export const FORGET_AFTER_MS = 24 * 3600_000;

export const gatewayBeatSchema = z.object({
  id: z.string().min(1).max(100),
  host: z.string().max(255),
  version: z.string().max(100),
  /** ISO 8601. */
  started_at: z.string(),
  workers: z.number().int().min(1),
  /** The feed epoch of the configuration it applied (changes on every projection rebuild). */
  epoch: z.string(),
  /** The change-feed version it applied last (the lowest of its workers'). */
  applied_revision: z.number().int().nonnegative(),
  /** Epoch ms of the beat, by the gateway's clock. */
  seen_at_ms: z.number(),
});
export type GatewayBeat = z.infer<typeof gatewayBeatSchema>;

export interface GatewayRegistry {
  /** Writes this gateway's beat (replacing its previous one). */
  beat(entry: GatewayBeat): Promise<void>;
  /** Every gateway's last beat; entries that do not parse are left out. */
  list(): Promise<GatewayBeat[]>;
  /** Removes entries (a gateway that stopped, or one forgotten). */
  remove(ids: readonly string[]): Promise<void>;
}

/** Gateways heard from within STALE_AFTER_MS of `nowMs`. */
export function liveGateways(entries: readonly GatewayBeat[], nowMs: number): GatewayBeat[] {
  return entries.filter((entry) => nowMs - entry.seen_at_ms < STALE_AFTER_MS);
}

function parseBeat(text: string): GatewayBeat | null {
  try {
    const parsed = gatewayBeatSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function redisGatewayRegistry(redis: Redis | Cluster, prefix: string): GatewayRegistry {
  const key = gatewayRegistryKey(prefix);
  return {
    async beat(entry) {
      await redis.hset(key, entry.id, JSON.stringify(entry));
    },
    async list() {
      const all = await redis.hgetall(key);
      return Object.values(all).flatMap((text) => parseBeat(text) ?? []);
    },
    async remove(ids) {
      if (ids.length > 0) await redis.hdel(key, ...ids);
    },
  };
}

/** The single-machine mode's registry: one process, the same entries. */
export class MemoryGatewayRegistry implements GatewayRegistry {
  private readonly entries = new Map<string, GatewayBeat>();

  async beat(entry: GatewayBeat): Promise<void> {
    this.entries.set(entry.id, { ...entry });
  }

  async list(): Promise<GatewayBeat[]> {
    return [...this.entries.values()].map((entry) => ({ ...entry }));
  }

  async remove(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.entries.delete(id);
  }
}
