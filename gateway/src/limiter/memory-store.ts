// RateLimitStore in process (single-machine mode, one gateway): the same two algorithms, maths and
// rounding as contracts/lua/sliding-window.lua, and the same behaviour suite keeps them in step.
// JavaScript runs one check at a time, so "atomic" is free here, and every answer is given before
// `consume` returns.
import type { LimitCheck, RateLimitStore, ReplyReceiver, StoreReply } from './store.js';

export interface MemoryStoreOptions {
  /** Epoch ms, fractions allowed; default Date.now. */
  readonly now?: () => number;
  /** How often expired windows are dropped; default 60 s. */
  readonly sweepIntervalMs?: number;
}

interface CounterState {
  i: number;
  c: number;
  p: number;
  expiresAtMs: number;
}

interface LogState {
  /** Entry times, oldest first; `head` entries at the front are already dropped. */
  times: number[];
  head: number;
  expiresAtMs: number;
}

interface CounterRead {
  idx: number;
  c: number;
  p: number;
  weight: number;
}

export class MemoryStore implements RateLimitStore {
  private readonly now: () => number;
  private readonly counters = new Map<string, CounterState>();
  private readonly logs = new Map<string, LogState>();
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

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private decide(check: LimitCheck, write: boolean): StoreReply {
    return check.algorithm === 'sliding_log' ? this.decideLog(check, write) : this.decideCounter(check, write);
  }

  private decideCounter(check: LimitCheck, write: boolean): StoreReply {
    const now = this.now();
    const { cost, limits } = check;
    const reads: CounterRead[] = [];
    let allowed = true;
    let retry = 0;
    for (const item of limits) {
      const windowMs = item.windowSeconds * 1000;
      const read = this.readCounter(stateKey(check.keyId, 'sw', item.windowSeconds), windowMs, now);
      reads.push(read);
      const used = read.c + read.p * read.weight;
      if ((write || cost > 0) && used + cost > item.limit) {
        allowed = false;
        const r =
          cost > item.limit ? counterReset(read, read.c, windowMs, now) : counterRetry(read, cost, item.limit, windowMs, now);
        if (r > retry) retry = r;
      }
    }
    const consumed = write && allowed ? cost : 0;
    const remaining: number[] = [];
    const resetMs: number[] = [];
    limits.forEach((item, j) => {
      const windowMs = item.windowSeconds * 1000;
      const read = reads[j] as CounterRead;
      const c = read.c + consumed;
      if (consumed > 0 || (write && allowed)) {
        this.counters.set(stateKey(check.keyId, 'sw', item.windowSeconds), {
          i: read.idx,
          c,
          p: read.p,
          expiresAtMs: now + 2 * windowMs,
        });
      }
      remaining.push(Math.max(0, Math.floor(item.limit - c - read.p * read.weight)));
      resetMs.push(counterReset(read, c, windowMs, now));
    });
    return reply(allowed, remaining, resetMs, retry);
  }

  private readCounter(key: string, windowMs: number, now: number): CounterRead {
    let idx = Math.floor(now / windowMs);
    const state = this.counters.get(key);
    let c = 0;
    let p = 0;
    if (state && state.expiresAtMs > now) {
      if (state.i === idx) {
        c = state.c;
        p = state.p;
      } else if (state.i === idx - 1) {
        p = state.c;
      } else if (state.i > idx) {
        // clock stepped back: keep the counts, as the script does
        idx = state.i;
        c = state.c;
        p = state.p;
      }
    }
    const weight = Math.min(1, Math.max(0, 1 - (now - idx * windowMs) / windowMs));
    return { idx, c, p, weight };
  }

  private decideLog(check: LimitCheck, write: boolean): StoreReply {
    const now = this.now();
    const { cost, limits } = check;
    const logs: LogState[] = [];
    let allowed = true;
    let retry = 0;
    for (const item of limits) {
      const windowMs = item.windowSeconds * 1000;
      const log = this.readLog(stateKey(check.keyId, 'sl', item.windowSeconds), windowMs, now);
      logs.push(log);
      const n = log.times.length - log.head;
      if ((write || cost > 0) && n + cost > item.limit) {
        allowed = false;
        const r =
          cost > item.limit
            ? logReset(log, windowMs, now)
            : (log.times[log.head + n + cost - item.limit - 1] as number) - now + windowMs;
        if (r > retry) retry = r;
      }
    }
    const consumed = write && allowed ? cost : 0;
    const remaining: number[] = [];
    const resetMs: number[] = [];
    limits.forEach((item, j) => {
      const windowMs = item.windowSeconds * 1000;
      const log = logs[j] as LogState;
      if (consumed > 0) {
        for (let u = 0; u < consumed; u += 1) log.times.push(now);
        log.expiresAtMs = now + windowMs;
        this.logs.set(stateKey(check.keyId, 'sl', item.windowSeconds), log);
      }
      remaining.push(Math.max(0, item.limit - (log.times.length - log.head)));
      resetMs.push(logReset(log, windowMs, now));
    });
    return reply(allowed, remaining, resetMs, retry);
  }

  /** Drops entries that left the window (score ≤ now − window, as ZREMRANGEBYSCORE does). */
  private readLog(key: string, windowMs: number, now: number): LogState {
    const log = this.logs.get(key) ?? { times: [], head: 0, expiresAtMs: 0 };
    const times = log.times;
    while (log.head < times.length && (times[log.head] as number) <= now - windowMs) log.head += 1;
    if (log.head > 64 && log.head * 2 > times.length) {
      log.times = times.slice(log.head);
      log.head = 0;
    }
    return log;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, state] of this.counters) if (state.expiresAtMs <= now) this.counters.delete(key);
    for (const [key, state] of this.logs) if (state.expiresAtMs <= now) this.logs.delete(key);
  }
}

function stateKey(keyId: string, kind: 'sw' | 'sl', windowSeconds: number): string {
  return `${keyId}\u0000${kind}\u0000${windowSeconds}`;
}

function counterReset(read: CounterRead, c: number, windowMs: number, now: number): number {
  if (c > 0) return Math.ceil((read.idx + 2) * windowMs - now);
  if (read.p > 0 && read.weight > 0) return Math.ceil((read.idx + 1) * windowMs - now);
  return 0;
}

function counterRetry(read: CounterRead, cost: number, limit: number, windowMs: number, now: number): number {
  if (read.c + cost <= limit) return read.idx * windowMs + windowMs * (1 - (limit - read.c - cost) / read.p) - now;
  return (read.idx + 1) * windowMs + windowMs * (1 - (limit - cost) / read.c) - now;
}

function logReset(log: LogState, windowMs: number, now: number): number {
  if (log.head >= log.times.length) return 0;
  const newest = log.times[log.times.length - 1] as number;
  return newest <= now - windowMs ? 0 : Math.ceil(newest - now + windowMs);
}

function reply(allowed: boolean, remaining: number[], resetMs: number[], retry: number): StoreReply {
  return { allowed, remaining, resetMs, retryAfterMs: allowed ? 0 : Math.max(0, Math.floor(retry)) };
}
