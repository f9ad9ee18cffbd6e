// GATEWAY_FAILURE_MODE=local: while Redis cannot answer, each gateway enforces every limit on its
// own, in memory, with a share of it: floor(limit / live gateways), at least 1, where the number of
// live gateways is the one its last heartbeat saw. Across the fleet that admits at most about the
// limit (each share rounded down, so less when it does not divide), and no gateway needs to hear
// from another. When Redis answers again, the shares are forgotten and Redis decides alone.
//
// Shares are of every kind of limit: rates, GCRA bursts, calendar quotas and concurrency caps. The
// in-memory store runs the same maths as the Lua script, so a local decision means what a Redis one
// does, only for a smaller limit.
import type { Period } from '../../../contracts/calendar.js';
import type { WindowLimit } from '../../../contracts/limits.js';
import { MemoryStore } from './memory-store.js';
import { policyHeaderValue } from './policy-header.js';
import type { HeaderPolicy } from './headers.js';
import type { LimitCheck, StoreReply } from './store.js';

/** One share of a limit among `gateways`. */
export function localShare(limit: number, gateways: number): number {
  return Math.max(1, Math.floor(limit / Math.max(1, gateways)));
}

/** The limits of a check as shared among `gateways`, and the fields that report them. */
export interface LocalPolicy extends HeaderPolicy {
  readonly gateways: number;
  readonly check: LimitCheck;
  /** The concurrency cap's share; null without a cap. */
  readonly concurrency: number | null;
}

export class LocalBudget {
  private store: MemoryStore;
  // Per check object (one per key, route, cost and period) and fleet size: built once, reused.
  private shares = new WeakMap<LimitCheck, LocalPolicy>();

  constructor(
    /** Live gateways at the last heartbeat (1 when none was seen: the whole limit here). */
    private readonly gateways: () => number,
    private readonly now?: () => number,
  ) {
    this.store = new MemoryStore({ now });
  }

  /** Decides `check` against this gateway's share of every limit; answers synchronously. */
  consume(check: LimitCheck): { policy: LocalPolicy; reply: StoreReply } {
    const policy = this.policyOf(check);
    let reply: StoreReply | undefined;
    this.store.consume(policy.check, {
      received: (answer) => (reply = answer),
      failed: (error) => {
        throw error;
      },
    });
    return { policy, reply: reply as StoreReply };
  }

  /** The store local concurrency slots are taken from (and so released to). */
  get slots(): MemoryStore {
    return this.store;
  }

  /** Redis is back: every local count and slot is forgotten. */
  reset(): void {
    void this.store.close();
    this.store = new MemoryStore({ now: this.now });
    this.shares = new WeakMap();
  }

  private policyOf(check: LimitCheck): LocalPolicy {
    const gateways = Math.max(1, this.gateways());
    const known = this.shares.get(check);
    if (known !== undefined && known.gateways === gateways) return known;
    const limits: WindowLimit[] = check.limits.map((limit) => ({
      ...limit,
      limit: localShare(limit.limit, gateways),
      burst: limit.burst === null ? null : localShare(limit.burst, gateways),
    }));
    const concurrency = check.concurrency === undefined ? undefined : { ...check.concurrency, limit: localShare(check.concurrency.limit, gateways) };
    const shared: LimitCheck = { ...check, limits, ...(concurrency === undefined ? {} : { concurrency }) };
    const policy: LocalPolicy = {
      gateways,
      check: shared,
      limits,
      policyHeader: policyHeaderValue(limits, check.periods as readonly (Period | null)[] | undefined),
      concurrency: concurrency?.limit ?? null,
    };
    // A check with a slot is one request's own: caching it would only fill the map.
    if (check.concurrency === undefined) this.shares.set(check, policy);
    return policy;
  }
}
