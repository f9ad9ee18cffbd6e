// The Redis key layout shared by gateways and the control plane. Every name starts with a
// configurable prefix (REDIS_KEY_PREFIX, default `tg`) so several deployments or tests can share one
// Redis. Pub/sub channels ignore database numbers, so they carry the prefix too.
//
// Hash tags: all keys of one API key share `{<key id>}` so one Lua script can touch all of them on a
// Redis Cluster; all projection keys share `{config}` so a change and its version move together.

export const DEFAULT_REDIS_KEY_PREFIX = 'tg';

/** The part every limiter key of one API key starts with; the hash tag pins them to one slot. */
export function limiterKeyBase(prefix: string, keyId: string): string {
  return `${prefix}:{${keyId}}`;
}

export interface ProjectionKeys {
  /** hash: SHA-256 hex of a secret → JSON KeyView */
  readonly keys: string;
  /** hash: tier name → JSON TierView */
  readonly tiers: string;
  /** hash: `epoch` (text), `version` (integer) */
  readonly meta: string;
}

export function projectionKeys(prefix: string): ProjectionKeys {
  return {
    keys: `${prefix}:{config}:keys`,
    tiers: `${prefix}:{config}:tiers`,
    meta: `${prefix}:{config}:meta`,
  };
}

export function changeChannel(prefix: string): string {
  return `${prefix}:config-changes`;
}

export function requestEventStream(prefix: string): string {
  return `${prefix}:request-events`;
}
