// The local "denied until" cache. When the store rejects a key, nothing but time can make it admit
// the same cost again (other gateways only consume more), so until the precise retry-after the
// answer is known without asking Redis. Entries are keyed by the identity of an owner object (the
// gateway's key record): a config change builds a new record, which starts with no entry.
//
// Never deny what the store would admit: the deadline counts from when the check was *sent* (the
// store's clock read it later) plus the retry-after ms that the store rounds down.
import { performance } from 'node:perf_hooks';
import type { StoreReply } from './store.js';

interface Entry {
  /** The smallest cost this denial covers: a larger cost is denied at least as long. */
  readonly cost: number;
  readonly sentAtMs: number;
  readonly untilMs: number;
  readonly reply: StoreReply;
}

export class DeniedCache {
  private entries = new WeakMap<object, Entry>();

  /** `now`: a monotonic ms clock, the same one the caller passes as `sentAtMs`. */
  constructor(private readonly now: () => number = performance.now.bind(performance)) {}

  /** Remember a rejection; `sentAtMs` is `now()` read before the check went to the store. */
  remember(owner: object, cost: number, reply: StoreReply, sentAtMs: number): void {
    if (reply.allowed || reply.retryAfterMs <= 0) return;
    const untilMs = sentAtMs + reply.retryAfterMs;
    const known = this.entries.get(owner);
    // Keep the longer-lived denial of the smaller cost when one covers the other.
    if (known && known.cost <= cost && known.untilMs >= untilMs) return;
    this.entries.set(owner, { cost, sentAtMs, untilMs, reply });
  }

  /** The stored facts aged to now (remaining as the store said, reset and retry counting down), or
   * undefined when the store must be asked. */
  get(owner: object, cost: number): StoreReply | undefined {
    const entry = this.entries.get(owner);
    if (entry === undefined || cost < entry.cost) return undefined;
    const now = this.now();
    if (now >= entry.untilMs) {
      this.entries.delete(owner);
      return undefined;
    }
    const elapsedMs = now - entry.sentAtMs;
    const { reply } = entry;
    const resetMs = new Array<number>(reply.resetMs.length);
    for (let i = 0; i < resetMs.length; i += 1) resetMs[i] = Math.max(0, Math.ceil((reply.resetMs[i] as number) - elapsedMs));
    return {
      allowed: false,
      remaining: reply.remaining,
      resetMs,
      retryAfterMs: Math.max(0, Math.floor(entry.untilMs - now)),
      refused: reply.refused,
      inFlight: reply.inFlight,
    };
  }

  /** Deadline of the entry for an owner (tests, diagnostics); undefined when none. */
  deniedUntil(owner: object): number | undefined {
    return this.entries.get(owner)?.untilMs;
  }

  /** Forget everything, e.g. when Redis came back (it may have restarted empty). */
  clear(): void {
    this.entries = new WeakMap();
  }
}
