// What /readyz answers: ready when the limiter store answers and a key table is loaded, with the
// facts behind it (and warnings about Redis's settings, which never make a gateway unready). A
// worker process reports the same object to its primary, which is ready only when every worker is.
import type { RedisSettings } from './redis-settings.js';

export interface Readiness {
  readonly ready: boolean;
  /** The body's fields besides `status`. */
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface ReadinessSources {
  /** Where limits are kept: Redis, or the single-machine mode's in-memory store. */
  readonly store: 'redis' | 'memory';
  /** The store answers (Redis answered the last probe; the in-memory store always does). */
  readonly storeUp: () => boolean;
  /** A key table has been loaded. */
  readonly keysLoaded: () => boolean;
  /** Redis's eviction policy and persistence as read last (Redis mode); null until read. */
  readonly redisSettings?: () => RedisSettings | null;
}

/** What /readyz says about Redis's settings: the values, and a warning for each unsafe one. */
function settingsDetail(settings: RedisSettings | null | undefined): Record<string, unknown> {
  if (settings === null || settings === undefined) return {};
  const warnings: string[] = [];
  if (settings.evictionPolicy !== 'noeviction') warnings.push(`redis maxmemory-policy ${settings.evictionPolicy} may evict limits`);
  if (settings.appendOnly === false) warnings.push('redis runs without its append-only file: a restart loses unwritten request events');
  return { redis_eviction_policy: settings.evictionPolicy, redis_append_only: settings.appendOnly, ...(warnings.length > 0 ? { warnings } : {}) };
}

export function gatewayReadiness(sources: ReadinessSources): () => Readiness {
  return () => {
    const up = sources.storeUp();
    const keys = sources.keysLoaded();
    // The in-memory store has no Redis to report on; naming it says so.
    const store = sources.store === 'redis' ? { store: 'redis', redis: up ? 'up' : 'down' } : { store: 'memory' };
    return { ready: up && keys, detail: { ...store, keys: keys ? 'loaded' : 'not loaded', ...settingsDetail(sources.redisSettings?.()) } };
  };
}
