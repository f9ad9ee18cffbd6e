// The limiter's storage seam (DESIGN.md "Modes"): the Redis Lua store and the in-memory store both
// implement it and pass the same behaviour suite. A store returns facts; decision.ts and headers.ts
// turn them into the response.
import type { Algorithm, WindowLimit } from '../../../contracts/limits.js';

export interface LimitCheck {
  readonly keyId: string;
  /** Sorted by window (toWindowLimits). */
  readonly limits: readonly WindowLimit[];
  readonly algorithm: Algorithm;
  /** Units this request consumes from every limit (route `cost`); 0 for a read-only peek. */
  readonly cost: number;
}

/** Facts after the call, one entry per limit in the order of `LimitCheck.limits`. */
export interface StoreReply {
  /** True when every limit admitted the request and all were consumed; false when none were. */
  readonly allowed: boolean;
  readonly remaining: readonly number[];
  /** Whole seconds until each window's full quota is available again. */
  readonly resetSeconds: readonly number[];
  /** Whole seconds (≥ 1) until the tightest exhausted limit admits again; 0 when allowed. */
  readonly retryAfterSeconds: number;
  /** `resetSeconds` before rounding: ms until each window's full quota is back. */
  readonly resetMs: readonly number[];
  /** 0 when allowed; else ms, rounded down so it is never late, until every limit admits this cost
   * again (the denied-until cache relies on never being late). */
  readonly retryAfterMs: number;
}

/**
 * Gets the outcome of one consume, exactly once, maybe before `consumeTo` returns. The hot path's
 * per-request object implements it, so a check costs no Promise, closure or microtask per layer.
 */
export interface ReplyReceiver {
  received(reply: StoreReply): void;
  failed(error: unknown): void;
}

export interface RateLimitStore {
  /** Check every limit and consume `cost` from all of them, or from none. */
  consume(check: LimitCheck): Promise<StoreReply>;
  /** The same as consume, answered to `receiver` instead of a Promise. */
  consumeTo(check: LimitCheck, receiver: ReplyReceiver): void;
  /** The same facts without consuming anything. */
  peek(check: LimitCheck): Promise<StoreReply>;
  /** Resolves when the backing store answers (health probes); stores without one are always up. */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

/** `consumeTo` as a Promise, for the callers that are not the hot path (tests, WebSocket upgrades). */
export function consumeAsPromise(store: Pick<RateLimitStore, 'consumeTo'>, check: LimitCheck): Promise<StoreReply> {
  return new Promise<StoreReply>((resolve, reject) => store.consumeTo(check, { received: resolve, failed: reject }));
}

/**
 * Answers each receiver with `answer`, all of them even when one throws (a bug in one caller must
 * not strand the others' requests); the first error is rethrown afterwards, so the bug still shows.
 */
export function answerEach<T extends ReplyReceiver>(receivers: readonly T[], answer: (receiver: T, index: number) => void): void {
  let thrown: { error: unknown } | null = null;
  for (let i = 0; i < receivers.length; i += 1) {
    try {
      answer(receivers[i] as T, i);
    } catch (error) {
      thrown ??= { error };
    }
  }
  if (thrown !== null) throw thrown.error;
}
