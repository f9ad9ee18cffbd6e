// The Redis key layout shared by gateways and the control plane. Every name starts with a
// configurable prefix (REDIS_KEY_PREFIX, default `tg`) so several deployments or tests can share one
// Redis. Pub/sub channels ignore database numbers, so they carry the prefix too.
//
// Hash tags: all keys of one API key share `{<key id>}` so one Lua script can touch all of them on a
// Redis Cluster; all projection keys share `{config}` so a change and its version move together.

import { z } from 'zod';
import type { Algorithm, WindowLimit } from './limits.js';

export const DEFAULT_REDIS_KEY_PREFIX = 'tg';

/** Both services must accept the same prefixes, or one could not follow the other's keys. */
export const redisKeyPrefixSchema = z
  .string()
  .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'must be 1 to 64 letters, digits or : _ . -')
  .default(DEFAULT_REDIS_KEY_PREFIX);

/**
 * The part every limiter key of one subject (an API key's id, or `ip:<address>` for a route limited
 * by client address) starts with; the hash tag pins them to one Cluster slot.
 */
export function limiterKeyBase(prefix: string, subject: string): string {
  return `${prefix}:{${subject}}`;
}

export interface ProjectionKeys {
  /** hash: SHA-256 hex of a secret → JSON KeyView */
  readonly keys: string;
  /** hash: tier name → JSON TierView */
  readonly tiers: string;
  /** hash: `epoch` (text), `version` (integer) */
  readonly meta: string;
  /**
   * hash: `key:<hash>` / `tier:<name>` → the highest row revision applied, kept after a deletion and
   * through rebuilds, so a change older than the projection's is dropped (control plane only;
   * gateways never read it). One field per key hash and tier ever published.
   */
  readonly revisions: string;
  /**
   * sorted set: the last changes' versions (score) with when Redis applied them (member
   * `<version>:<epoch ms>`), so the control plane can say how many seconds a gateway is behind.
   */
  readonly changes: string;
}

export function projectionKeys(prefix: string): ProjectionKeys {
  return {
    keys: `${prefix}:{config}:keys`,
    tiers: `${prefix}:{config}:tiers`,
    meta: `${prefix}:{config}:meta`,
    revisions: `${prefix}:{config}:revisions`,
    changes: `${prefix}:{config}:changes`,
  };
}

export function changeChannel(prefix: string): string {
  return `${prefix}:config-changes`;
}

/** hash: gateway id → JSON GatewayBeat (gateway-registry.ts), written by each gateway's heartbeat. */
export function gatewayRegistryKey(prefix: string): string {
  return `${prefix}:gateways`;
}

export function requestEventStream(prefix: string): string {
  return `${prefix}:request-events`;
}

/**
 * The consumer group of the request-log writers on that stream. Gateways read its progress: what it
 * has read is safe with the writers, what it has not is kept by the gateway that added it.
 */
export const REQUEST_EVENT_GROUP = 'log-writer';

/** The part of a limit's key that names its kind: how its state is kept. */
function stateKind(algorithm: Algorithm, limit: WindowLimit): string {
  if (limit.calendar !== null) return `cal:${limit.calendar}`;
  if (algorithm === 'sliding_log') return `sl:${limit.windowSeconds}`;
  if (algorithm === 'gcra') return `gc:${limit.windowSeconds}`;
  return `sw:${limit.windowSeconds}`;
}

/**
 * One limit's state: a hash (two-bucket counter: `sw`; calendar period: `cal`), a sorted set
 * (sliding log: `sl`) or a string (GCRA's arrival time: `gc`). Named by window (and a route's limits
 * by their route), so a changed limit value keeps its count and a new window starts empty.
 */
export function limiterLimitKey(prefix: string, subject: string, algorithm: Algorithm, limit: WindowLimit): string {
  const scope = limit.scope === '' ? '' : `${limit.scope}:`;
  return `${limiterKeyBase(prefix, subject)}:${scope}${stateKind(algorithm, limit)}`;
}

/** sliding_log only: INCRBY counter that makes sorted-set members unique for equal timestamps. */
export function limiterLogSequenceKey(prefix: string, subject: string): string {
  return `${limiterKeyBase(prefix, subject)}:sl:seq`;
}

/** Concurrency slots of one subject: a sorted set of slot ids scored by their lease's end. */
export function concurrencyKey(prefix: string, subject: string): string {
  return `${limiterKeyBase(prefix, subject)}:conc`;
}
