// RateLimitStore in process (single-machine mode, one gateway): the same kinds of limit, maths and
// rounding as contracts/lua/limiter.lua, and the same behaviour suite keeps the two in step.
// JavaScript runs one check at a time, so "atomic" is free here, and every answer is given before
// `consume` returns.
import type { WindowLimit } from '../../../contracts/limits.js';
import type { LimitCheck, RateLimitStore, ReplyReceiver, SlotOperation, StoreReply } from './store.js';

export interface MemoryStoreOptions {
  /** Epoch ms, fractions allowed; default Date.now. */
  readonly now?: () => number;
  /** How often expired state is dropped; default 60 s. */
  readonly sweepIntervalMs?: number;
}

/** Concurrency refusals: no slot can be predicted to free up, so a short retry (as the script). */
const CONCURRENCY_RETRY_MS = 1000;

interface Counter {
  idx: number;
  c: number;
  p: number;
  weight: number;
  windowMs: number;
}

interface Log {
  /** Entry times, oldest first; `head` entries at the front are already dropped. */
  times: number[];
  head: number;
  expiresAtMs: number;
}

interface Gcra {
  tat: number;
  readonly interval: number;
  readonly burst: number;
  /** Float slack, as the script: a hundredth of a ms, or of an interval when that is less. */
  readonly slack: number;
}

interface Period {
  start: number;
  ending: number;
  c: number;
}

/** What limit j of a check is evaluated against, read at the start of the check. */
type State = { kind: 0; st: Counter } | { kind: 1; log: Log; n: number } | { kind: 2; st: Gcra } | { kind: 3; st: Period };

function stateKey(check: LimitCheck, limit: WindowLimit): string {
  const kind = limit.calendar !== null ? `cal:${limit.calendar}` : `${check.algorithm}:${limit.windowSeconds}`;
  return `${check.subject}\u0000${limit.scope}\u0000${kind}`;
}

export class MemoryStore implements RateLimitStore {
  private readonly now: () => number;
  private readonly counters = new Map<string, { i: number; c: number; p: number; expiresAtMs: number }>();
  private readonly logs = new Map<string, Log>();
  private readonly gcras = new Map<string, { tat: number }>();
  private readonly periods = new Map<string, { p: number; c: number; expiresAtMs: number }>();
  /** Subject → slot id → lease end. */
  private readonly slots = new Map<string, Map<string, number>>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 60_000);
    this.sweeper.unref();
  }

  consume(check: LimitCheck, receiver: ReplyReceiver): void {
    receiver.received(this.decide(check, true));
  }

  peek(check: LimitCheck, receiver: ReplyReceiver): void {
    receiver.received(this.decide(check, false));
  }

  updateSlot(operation: SlotOperation, leaseMs: number): void {
    const held = this.slots.get(operation.subject);
    if (held === undefined || !held.has(operation.slot)) return;
    if (operation.keep) held.set(operation.slot, this.now() + leaseMs);
    else held.delete(operation.slot);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private decide(check: LimitCheck, consuming: boolean): StoreReply {
    const now = this.now();
    const { cost, limits } = check;
    const states: State[] = [];
    let allowed = true;
    let retry = 0;
    let refused = -1;
    limits.forEach((limit, j) => {
      const state = this.read(check, limit, j, now);
      states.push(state);
      const wait = cost === 0 ? null : this.waitFor(state, limit, cost, now);
      if (wait !== null) {
        allowed = false;
        if (refused === -1 || wait > retry) {
          retry = wait;
          refused = j;
        }
      }
    });

    const slot = check.concurrency;
    let inFlight: number | null = null;
    let held: Map<string, number> | undefined;
    if (slot !== undefined) {
      held = this.slots.get(check.subject);
      inFlight = 0;
      for (const [id, until] of held ?? []) {
        if (until > now) inFlight += 1;
        else if (consuming) held?.delete(id);
      }
      if (allowed && cost > 0 && inFlight >= slot.limit) {
        allowed = false;
        retry = CONCURRENCY_RETRY_MS;
        refused = limits.length;
      }
    }

    const take = allowed && consuming && cost > 0;
    if (take && slot !== undefined) {
      if (held === undefined) {
        held = new Map();
        this.slots.set(check.subject, held);
      }
      held.set(slot.id, now + slot.leaseMs);
      inFlight = (inFlight ?? 0) + 1;
    }
    const remaining: number[] = [];
    const resetMs: number[] = [];
    limits.forEach((limit, j) => {
      const [left, reset] = this.settle(check, limit, states[j] as State, take ? cost : 0, now);
      remaining.push(Math.max(0, left));
      resetMs.push(Math.max(0, reset));
    });
    return { allowed, remaining, resetMs, retryAfterMs: allowed ? 0 : Math.max(0, Math.floor(retry)), refused: allowed ? -1 : refused, inFlight };
  }

  /** Limit j's state now, as the script reads it. */
  private read(check: LimitCheck, limit: WindowLimit, j: number, now: number): State {
    const key = stateKey(check, limit);
    if (limit.calendar !== null) {
      const period = check.periods?.[j];
      if (period === undefined || period === null) throw new Error(`calendar limit ${limit.name} has no period`);
      let start = period.start;
      let ending = period.next;
      if (now >= period.next) {
        start = period.next;
        ending = period.next + (period.next - period.start);
      }
      const stored = this.periods.get(key);
      return { kind: 3, st: { start, ending, c: stored !== undefined && stored.p === start ? stored.c : 0 } };
    }
    const windowMs = limit.windowSeconds * 1000;
    if (check.algorithm === 'gcra') {
      const stored = this.gcras.get(key);
      const interval = windowMs / limit.limit;
      return { kind: 2, st: { tat: stored?.tat ?? now, interval, burst: limit.burst ?? limit.limit, slack: Math.min(0.01, interval / 100) } };
    }
    if (check.algorithm === 'sliding_log') {
      const log = this.logs.get(key) ?? { times: [], head: 0, expiresAtMs: 0 };
      // Entries with a time ≤ now − window have left it (ZREMRANGEBYSCORE's inclusive bound).
      while (log.head < log.times.length && (log.times[log.head] as number) <= now - windowMs) log.head += 1;
      if (log.head > 64 && log.head * 2 > log.times.length) {
        log.times = log.times.slice(log.head);
        log.head = 0;
      }
      return { kind: 1, log, n: log.times.length - log.head };
    }
    let idx = Math.floor(now / windowMs);
    const stored = this.counters.get(key);
    let c = 0;
    let p = 0;
    if (stored && stored.expiresAtMs > now) {
      if (stored.i === idx) {
        c = stored.c;
        p = stored.p;
      } else if (stored.i === idx - 1) {
        p = stored.c;
      } else if (stored.i > idx) {
        // clock stepped back: keep the counts, as the script does
        idx = stored.i;
        c = stored.c;
        p = stored.p;
      }
    }
    const weight = Math.min(1, Math.max(0, 1 - (now - idx * windowMs) / windowMs));
    return { kind: 0, st: { idx, c, p, weight, windowMs } };
  }

  /** Null when the limit admits `cost`; else ms until it does. */
  private waitFor(state: State, limit: WindowLimit, cost: number, now: number): number | null {
    switch (state.kind) {
      case 0: {
        const st = state.st;
        if (st.c + st.p * st.weight + cost <= limit.limit) return null;
        if (cost > limit.limit) return counterReset(st, now);
        if (st.c + cost <= limit.limit) return st.idx * st.windowMs + st.windowMs * (1 - (limit.limit - st.c - cost) / st.p) - now;
        return (st.idx + 1) * st.windowMs + st.windowMs * (1 - (limit.limit - cost) / st.c) - now;
      }
      case 1: {
        const { log, n } = state;
        if (n + cost <= limit.limit) return null;
        const windowMs = limit.windowSeconds * 1000;
        if (cost > limit.limit) return logReset(log, windowMs, now);
        return (log.times[log.head + n + cost - limit.limit - 1] as number) - now + windowMs;
      }
      case 2: {
        const st = state.st;
        const base = Math.max(st.tat, now);
        if (base + cost * st.interval - now <= st.burst * st.interval + st.slack) return null;
        if (cost > st.burst) return base - now;
        return base + cost * st.interval - st.burst * st.interval - now;
      }
      default: {
        const st = state.st;
        if (st.c + cost <= limit.limit) return null;
        return st.ending - now;
      }
    }
  }

  /** Consumes `taken` units (0: none) and answers the limit's [remaining, reset ms]. */
  private settle(check: LimitCheck, limit: WindowLimit, state: State, taken: number, now: number): [number, number] {
    const key = stateKey(check, limit);
    switch (state.kind) {
      case 0: {
        const st = state.st;
        if (taken > 0) {
          st.c += taken;
          this.counters.set(key, { i: st.idx, c: st.c, p: st.p, expiresAtMs: now + 2 * st.windowMs });
        }
        return [Math.floor(limit.limit - st.c - st.p * st.weight), counterReset(st, now)];
      }
      case 1: {
        const { log, n } = state;
        const windowMs = limit.windowSeconds * 1000;
        if (taken > 0) {
          for (let u = 0; u < taken; u += 1) log.times.push(now);
          log.expiresAtMs = now + windowMs;
          this.logs.set(key, log);
          return [limit.limit - n - taken, Math.ceil(windowMs)];
        }
        return [limit.limit - n, logReset(log, windowMs, now)];
      }
      case 2: {
        const st = state.st;
        if (taken > 0) {
          st.tat = Math.max(st.tat, now) + taken * st.interval;
          this.gcras.set(key, { tat: st.tat });
        }
        const base = Math.max(st.tat, now);
        // The most units that fit now, by the admission rule above.
        return [Math.min(st.burst, Math.floor((st.burst * st.interval - (base - now) + st.slack) / st.interval)), Math.ceil(base - now)];
      }
      default: {
        const st = state.st;
        if (taken > 0) {
          st.c += taken;
          this.periods.set(key, { p: st.start, c: st.c, expiresAtMs: st.ending + 60_000 });
        }
        return [limit.limit - st.c, st.c > 0 ? Math.ceil(st.ending - now) : 0];
      }
    }
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, state] of this.counters) if (state.expiresAtMs <= now) this.counters.delete(key);
    for (const [key, state] of this.logs) if (state.expiresAtMs <= now) this.logs.delete(key);
    for (const [key, state] of this.gcras) if (state.tat <= now) this.gcras.delete(key);
    for (const [key, state] of this.periods) if (state.expiresAtMs <= now) this.periods.delete(key);
    for (const [subject, held] of this.slots) {
      for (const [id, until] of held) if (until <= now) held.delete(id);
      if (held.size === 0) this.slots.delete(subject);
    }
  }
}

function counterReset(st: Counter, now: number): number {
  if (st.c > 0) return Math.ceil((st.idx + 2) * st.windowMs - now);
  if (st.p > 0 && st.weight > 0) return Math.ceil((st.idx + 1) * st.windowMs - now);
  return 0;
}

function logReset(log: Log, windowMs: number, now: number): number {
  if (log.head >= log.times.length) return 0;
  const newest = log.times[log.times.length - 1] as number;
  return newest <= now - windowMs ? 0 : Math.ceil(newest - now + windowMs);
}
