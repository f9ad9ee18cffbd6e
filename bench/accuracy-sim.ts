// The accuracy bench's simulation: traffic with a seeded random source is
// offered to a limiter store on a simulated clock, and the admitted requests are measured against a
// true sliding window. The store is the in-memory one, which runs the same maths and rounding as
// the Lua script (one behaviour suite keeps the two in step), so thousands of windows take seconds.
import { toWindowLimits, type Algorithm } from '../contracts/limits.js';
import { MemoryStore } from '../gateway/src/index.js';

/** mulberry32: a small seeded generator, so a run can be repeated exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arrival times (ms, ascending) of a Poisson process of `ratePerMs` over [0, durationMs). */
export function poissonArrivals(ratePerMs: number, durationMs: number, random: () => number): number[] {
  const times: number[] = [];
  let t = 0;
  for (;;) {
    t += -Math.log(1 - random()) / ratePerMs;
    if (t >= durationMs) return times;
    times.push(t);
  }
}

/**
 * The boundary pattern that breaks fixed windows: `limit` requests just before each window
 * boundary and `limit` just after it, every other window.
 */
export function boundaryBursts(limit: number, windowMs: number, windows: number): number[] {
  const times: number[] = [];
  for (let w = 1; w < windows; w += 2) {
    const boundary = w * windowMs;
    for (let i = 0; i < limit; i += 1) times.push(boundary - 1 - i * 0.001);
    for (let i = 0; i < limit; i += 1) times.push(boundary + i * 0.001);
  }
  return times.sort((a, b) => a - b);
}

/**
 * The sliding counter's worst case: a quiet window that ends with a burst of `limit` requests, then
 * a window of steady traffic at twice the limit's rate (evenly spaced), repeated. The counter
 * assumes the burst's window was evenly spread, so as that window fades it admits again while the
 * burst is still inside the true window.
 */
export function burstThenOverload(limit: number, windowMs: number, windows: number): number[] {
  const times: number[] = [];
  const step = windowMs / (2 * limit);
  for (let w = 1; w + 1 < windows; w += 3) {
    const boundary = w * windowMs;
    for (let i = 0; i < limit; i += 1) times.push(boundary - 1 - i * 0.001);
    for (let t = boundary + step / 2; t < boundary + windowMs; t += step) times.push(t);
  }
  return times.sort((a, b) => a - b);
}

/** Most of `times` (ascending) inside any window (t − windowMs, t]: the true sliding-window count. */
export function maxInAnyWindow(times: readonly number[], windowMs: number): number {
  let best = 0;
  let start = 0;
  for (let end = 0; end < times.length; end += 1) {
    while ((times[start] as number) <= (times[end] as number) - windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

/**
 * GCRA's promise, measured: the most that `times` (ascending) exceed a steady rate by over any
 * interval [s, t], i.e. max over i ≤ j of (j − i + 1) − rate × (t_j − t_i). GCRA with a burst B
 * keeps it at most B. One pass: the best j pairs with the smallest (i − rate × t_i) before it.
 */
export function maxExcessOverRate(times: readonly number[], ratePerMs: number): number {
  let best = 0;
  let lowest = Number.POSITIVE_INFINITY;
  for (let j = 0; j < times.length; j += 1) {
    const at = times[j] as number;
    lowest = Math.min(lowest, j - ratePerMs * at);
    best = Math.max(best, j + 1 - ratePerMs * at - lowest);
  }
  return best;
}

export interface SimulationResult {
  readonly offered: number;
  readonly admitted: number;
  /** maxInAnyWindow of the admitted requests, divided by the limit. */
  readonly maxWindowRatio: number;
  /** Admitted per window length of simulated time, divided by the limit. */
  readonly admittedRateRatio: number;
  /** maxExcessOverRate of the admitted requests at the limit's rate (GCRA's bound is its burst). */
  readonly maxExcess: number;
}

/**
 * Offers `arrivals` (ms) one by one to a fresh store with one limit (and, for GCRA, `burst`) and
 * measures what it admitted.
 */
export function simulate(
  algorithm: Algorithm,
  limit: number,
  windowMs: number,
  arrivals: readonly number[],
  durationMs: number,
  burst?: number,
): SimulationResult {
  let now = 0;
  // Simulated time 0 is a bucket boundary of the counter (buckets are floor(epoch ms / window)).
  const epochMs = Math.ceil(1_700_000_000_000 / windowMs) * windowMs;
  const store = new MemoryStore({ now: () => epochMs + now, sweepIntervalMs: 3_600_000 });
  const check = { subject: 'accuracy', limits: toWindowLimits([{ window: `${windowMs / 1000}s`, limit, ...(burst === undefined ? {} : { burst }) }]), algorithm, cost: 1 };
  const admitted: number[] = [];
  try {
    for (const time of arrivals) {
      now = time;
      let allowed = false;
      store.consume(check, { received: (reply) => (allowed = reply.allowed), failed: (error) => { throw error; } });
      if (allowed) admitted.push(time);
    }
  } finally {
    void store.close();
  }
  return {
    offered: arrivals.length,
    admitted: admitted.length,
    maxWindowRatio: maxInAnyWindow(admitted, windowMs) / limit,
    admittedRateRatio: admitted.length / (durationMs / windowMs) / limit,
    maxExcess: maxExcessOverRate(admitted, limit / windowMs),
  };
}
