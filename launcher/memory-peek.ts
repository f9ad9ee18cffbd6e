// The usage endpoint (GET /v1/keys/{id}/usage) peeks limiter windows through the script wrapper's
// `peek`; in the embedded mode the windows live in the gateway's MemoryStore, so this adapts one to
// the other. Read-only: MemoryStore.peek never consumes.
import type { LimiterScripts, ScriptCheck } from '../contracts/lua/scripts.js';
import type { RateLimitStore } from '../gateway/src/limiter/store.js';

export function memoryPeek(store: Pick<RateLimitStore, 'peek'>): Pick<LimiterScripts, 'peek'> {
  return {
    peek: (checks: readonly ScriptCheck[]) =>
      Promise.all(
        checks.map((check) =>
          store.peek({
            keyId: check.keyId,
            algorithm: check.algorithm,
            cost: check.cost,
            // The store keys windows by seconds; the label is only used for headers.
            limits: check.limits.map((limit) => ({ window: `${limit.windowSeconds}s`, ...limit })),
          }),
        ),
      ),
  };
}
