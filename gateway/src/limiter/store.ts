// The limiter's storage seam: the Redis store (one Lua script call decides a batch of checks) and the
// in-memory store (single-machine mode) implement it and pass one behaviour suite. A store returns
// facts about the limits; admission.ts turns them into the answer.
import type { ScriptCheck, ScriptReply, SlotOperation } from '../../../contracts/lua/scripts.js';

/**
 * What one request asks of its subject's limits: the limits (sorted by window), the cost, the
 * current calendar periods, and the concurrency slot it would take. The same shape as the limiter
 * script's check (contracts/lua/scripts.ts), so a check goes to Redis as it is.
 */
export type LimitCheck = ScriptCheck;

/**
 * Facts after the call, one entry per limit in the order of `LimitCheck.limits`: whether every limit
 * admitted it (and all were consumed, and the slot taken) or none was; remaining units and ms until
 * each limit's whole quota is back; ms until the request's cost fits again (0 when admitted,
 * rounded down so it is never late: the denied-until cache relies on it); which limit refused it;
 * the subject's requests in flight.
 */
export type StoreReply = ScriptReply;

export type { SlotOperation };

/**
 * Gets the outcome of one store call, exactly once, maybe before the call returns. The hot path's
 * per-request object implements it, so a check costs no Promise or closure per layer.
 */
export interface ReplyReceiver {
  received(reply: StoreReply): void;
  failed(error: unknown): void;
}

export interface RateLimitStore {
  /** Checks every limit and consumes `cost` from all of them (and takes the slot), or nothing. */
  consume(check: LimitCheck, receiver: ReplyReceiver): void;
  /** The same facts, consuming nothing. */
  peek(check: LimitCheck, receiver: ReplyReceiver): void;
  /** Releases a concurrency slot, or keeps it one more lease; fire and forget (batched). */
  updateSlot(operation: SlotOperation, leaseMs: number): void;
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
