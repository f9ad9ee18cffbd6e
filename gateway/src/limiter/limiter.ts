// The limiter as the hot path calls it: the denied-until cache in front of a (guarded) store.
//
//   const limiter = createLimiter({ store });           // store: usually a GuardedStore over RedisStore
//   limiter.checkTo(record, route.cost, exchange);      // the hot path: exchange.received(reply) later
//   const result = limiter.check(record, route.cost);   // StoreReply | Promise<StoreReply>
//   const reply = result instanceof Promise ? await result : result;
//
// - checkTo(record, cost, receiver): the same decision as check, answered to `receiver` (at once
//   when the key is known to be denied); no Promise or closure per request.
// - check(record, cost): consumes `cost` from every limit of the key, or from none. Returns the
//   reply synchronously (no Promise, no I/O) when the key is known to be denied until a later time;
//   otherwise a Promise of the store's reply. A store failure rejects the Promise with the store's
//   error (StoreUnavailableError from the guarded store): apply GATEWAY_FAILURE_MODE then.
//   With a store that can answer synchronously (MemoryStore.consumeNow, the embedded mode), every
//   reply is synchronous and the cache is skipped: it would save nothing there.
// - peek(record, cost = 0): the same facts, consuming nothing (GET /_gateway/quota). Never cached.
// - clearDeniedCache(): forget every cached denial (done by itself when a guarded store comes back up,
//   because Redis may have restarted empty).
// - close(): closes the store.
import { performance } from 'node:perf_hooks';
import type { KeyRecord } from '../keys/key-record.js';
import { DeniedCache } from './denied-cache.js';
import type { GuardedStore } from './guarded-store.js';
import type { LimitCheck, RateLimitStore, ReplyReceiver, StoreReply } from './store.js';

/** A store that can decide without I/O (MemoryStore). */
export interface SyncRateLimitStore extends RateLimitStore {
  consumeNow(check: LimitCheck): StoreReply;
}

function isSync(store: RateLimitStore): store is SyncRateLimitStore {
  return typeof (store as Partial<SyncRateLimitStore>).consumeNow === 'function';
}

export interface LimiterOptions {
  readonly store: RateLimitStore | GuardedStore;
  /** Answer certain denials locally; default true. */
  readonly deniedCache?: boolean;
  /** Monotonic ms clock for the cache; default performance.now. */
  readonly now?: () => number;
}

export interface Limiter {
  checkTo(record: KeyRecord, cost: number, receiver: ReplyReceiver): void;
  check(record: KeyRecord, cost: number): StoreReply | Promise<StoreReply>;
  peek(record: KeyRecord, cost?: number): Promise<StoreReply>;
  clearDeniedCache(): void;
  /** The cache, for tests and diagnostics; undefined when disabled. */
  readonly denied: DeniedCache | undefined;
  close(): Promise<void>;
}

/** Passes a store's reply on, remembering a denial in the cache first. */
class RememberDenial implements ReplyReceiver {
  constructor(
    private readonly denied: DeniedCache,
    private readonly record: KeyRecord,
    private readonly cost: number,
    private readonly sentAtMs: number,
    private readonly receiver: ReplyReceiver,
  ) {}

  received(reply: StoreReply): void {
    if (!reply.allowed) this.denied.remember(this.record, this.cost, reply, this.sentAtMs);
    this.receiver.received(reply);
  }

  failed(error: unknown): void {
    this.receiver.failed(error);
  }
}

export function createLimiter(options: LimiterOptions): Limiter {
  const { store } = options;
  const now = options.now ?? performance.now.bind(performance);
  const sync = isSync(store) ? store : undefined;
  const denied = options.deniedCache === false || sync ? undefined : new DeniedCache(now);
  // One LimitCheck per record and cost, reused across requests (records are immutable).
  const checks = new WeakMap<KeyRecord, LimitCheck>();
  let unsubscribe: (() => void) | undefined;
  if (denied && 'subscribe' in store) {
    unsubscribe = store.subscribe((up) => {
      if (up) denied.clear();
    });
  }

  function checkOf(record: KeyRecord, cost: number): LimitCheck {
    const known = checks.get(record);
    if (known && known.cost === cost) return known;
    const check: LimitCheck = { keyId: record.id, limits: record.limits, algorithm: record.algorithm, cost };
    checks.set(record, check);
    return check;
  }

  /** The reply when it is known without asking the store: a cached denial, or a synchronous store. */
  function knownReply(record: KeyRecord, cost: number): StoreReply | undefined {
    if (sync) return sync.consumeNow(checkOf(record, cost));
    return denied?.get(record, cost);
  }

  /** Asks the store (the reply was not known), remembering a denial on the way back. */
  function askStore(record: KeyRecord, cost: number, receiver: ReplyReceiver): void {
    const check = checkOf(record, cost);
    if (denied === undefined) store.consumeTo(check, receiver);
    else store.consumeTo(check, new RememberDenial(denied, record, cost, now(), receiver));
  }

  return {
    denied,
    checkTo(record, cost, receiver) {
      const known = knownReply(record, cost);
      if (known !== undefined) receiver.received(known);
      else askStore(record, cost, receiver);
    },
    check(record, cost) {
      const known = knownReply(record, cost);
      if (known !== undefined) return known;
      return new Promise<StoreReply>((resolve, reject) => askStore(record, cost, { received: resolve, failed: reject }));
    },
    peek(record, cost = 0) {
      return store.peek({ keyId: record.id, limits: record.limits, algorithm: record.algorithm, cost });
    },
    clearDeniedCache() {
      denied?.clear();
    },
    async close() {
      unsubscribe?.();
      await store.close();
    },
  };
}
