// The limiter store answers receivers (callback style, as the hot path needs); tests read better
// with promises, so these adapt one call to one Promise.
import type { LimitCheck, RateLimitStore, StoreReply } from '../../src/limiter/store.js';

export function consumeOnce(store: Pick<RateLimitStore, 'consume'>, check: LimitCheck): Promise<StoreReply> {
  return new Promise((resolve, reject) => store.consume(check, { received: resolve, failed: reject }));
}

export function peekOnce(store: Pick<RateLimitStore, 'peek'>, check: LimitCheck): Promise<StoreReply> {
  return new Promise((resolve, reject) => store.peek(check, { received: resolve, failed: reject }));
}
