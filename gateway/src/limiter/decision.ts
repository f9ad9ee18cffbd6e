// Turns a store's facts into what the hot path acts on. "Tightest" is the limit with the lowest
// remaining; on a tie the shortest window wins (limits are sorted by window, so the first found).
import type { StoreReply } from './store.js';

export interface Decision {
  readonly allowed: boolean;
  /** 0 when allowed; else whole seconds, rounded up, at least 1 (the Retry-After value). */
  readonly retryAfterSeconds: number;
  /** Index into the key's limits of the tightest limit (X-RateLimit-* headers). */
  readonly tightest: number;
}

export function tightestLimitIndex(reply: StoreReply): number {
  const remaining = reply.remaining;
  let best = 0;
  for (let i = 1; i < remaining.length; i += 1) {
    if ((remaining[i] as number) < (remaining[best] as number)) best = i;
  }
  return best;
}

/** Retry-After from the precise ms, so a store's own rounding cannot make it 0. */
export function retryAfterSeconds(reply: StoreReply): number {
  return reply.allowed ? 0 : Math.max(1, Math.ceil(reply.retryAfterMs / 1000));
}

export function decide(reply: StoreReply): Decision {
  return { allowed: reply.allowed, retryAfterSeconds: retryAfterSeconds(reply), tightest: tightestLimitIndex(reply) };
}
