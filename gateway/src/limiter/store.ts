// The limiter's storage seam: the Redis store (one Lua script call decides a batch of checks) and the
// in-memory store (single-machine mode) implement it and pass one behaviour suite. A store returns
// facts about the limits; admission.ts turns them into the answer.
import type { Algorithm, WindowLimit } from '../../../contracts/limits.js';

export interface LimitCheck {
  readonly keyId: string;
  /** Sorted by window (toWindowLimits). */
  readonly limits: readonly WindowLimit[];
  readonly algorithm: Algorithm;
  /** Units this request consumes from every limit (route `cost`); for a peek, the units asked about. */
  readonly cost: number;
}

/** Facts after the call, one entry per limit in the order of `LimitCheck.limits`. */
export interface StoreReply {
  /** True when every limit admitted the request and all were consumed; false when none were. */
  readonly allowed: boolean;
  readonly remaining: readonly number[];
  /** Ms until each window's full quota is available again. */
  readonly resetMs: readonly number[];
  /** 0 when allowed; else ms, rounded down so it is never late, until every limit admits this cost
   * again (the denied-until cache relies on never being late). */
  readonly retryAfterMs: number;
}

/**
 * Gets the outcome of one store call, exactly once, maybe before the call returns. The hot path's
 * per-request object implements it, so a check costs no Promise or closure per layer.
 */
export interface ReplyReceiver {
  received(reply: StoreReply): void;
  failed(error: unknown): void;
}

export interface RateLimitStore {
  /** Checks every limit and consumes `cost` from all of them, or from none. */
  consume(check: LimitCheck, receiver: ReplyReceiver): void;
  /** The same facts, consuming nothing. */
  peek(check: LimitCheck, receiver: ReplyReceiver): void;
  close(): Promise<void>;
}

/** The store could not answer (Redis down, frozen past its budget, or a broken reply). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  readonly code = 'STORE_UNAVAILABLE';
}

/**
 * The gateway has more checks waiting for Redis than it may queue: it is overloaded, not Redis.
 * Refused rather than let through unchecked.
 */
export class StoreOverloadedError extends Error {
  override readonly name = 'StoreOverloadedError';
  readonly code = 'STORE_OVERLOADED';
}

/**
 * Answers each receiver with `answer`, all of them even when one throws (a bug in one request must
 * not strand the others); the first error is rethrown afterwards, so the bug still shows.
 */
export function answerEach<T>(receivers: readonly T[], answer: (receiver: T, index: number) => void): void {
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
