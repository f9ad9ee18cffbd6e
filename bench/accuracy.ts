// `npm run bench:accuracy`: how exact each algorithm is and what it costs in Redis memory
// (docs/performance.md, "Accuracy"). Three parts:
//   1. simulation: traffic patterns on a simulated clock through the in-memory store (same maths
//      as the Lua script), the admitted requests counted in a true sliding window and, for GCRA,
//      against its promise: in any interval of length t, at most burst + rate × t;
//   2. real Redis: Poisson traffic at the limit's rate through the Lua script for a few seconds;
//   3. Redis memory per limit (MEMORY USAGE) for each algorithm after a full window.
// Prints a table and writes bench/results/accuracy-<timestamp>.json (ignored by git).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { toWindowLimits, type Algorithm } from '../contracts/limits.js';
import { limiterLimitKey, limiterLogSequenceKey } from '../contracts/redis-keys.js';
import { createLimiterScripts } from '../contracts/lua/scripts.js';
import {
  boundaryBursts,
  burstThenOverload,
  maxExcessOverRate,
  maxInAnyWindow,
  poissonArrivals,
  seededRandom,
  simulate,
  type SimulationResult,
} from './accuracy-sim.js';
import { resultsDir } from './paths.js';
import { deleteKeysWithPrefix } from './redis-cleanup.js';

const ALGORITHMS: readonly Algorithm[] = ['sliding_window', 'sliding_log', 'gcra'];
const SIM_LIMIT = 100;
/** GCRA's burst in the runs: a tenth of the limit, so the smooth rate shows. */
const GCRA_BURST_SHARE = 0.1;
/** The script admits within 0.01 ms of the exact instant (float slack): at most this many units. */
const GCRA_SLACK_UNITS = 1e-3;
const SIM_WINDOW_MS = 60_000;
const SIM_WINDOWS = 2_000;
const SEED = 20261126;

interface PatternRow {
  readonly pattern: string;
  readonly algorithm: Algorithm;
  readonly result: SimulationResult;
}

function simulationRows(): PatternRow[] {
  const durationMs = SIM_WINDOWS * SIM_WINDOW_MS;
  const patterns: { name: string; arrivals: () => number[] }[] = [
    { name: 'Poisson at the limit', arrivals: () => poissonArrivals(SIM_LIMIT / SIM_WINDOW_MS, durationMs, seededRandom(SEED)) },
    { name: 'Poisson at 2x the limit', arrivals: () => poissonArrivals((2 * SIM_LIMIT) / SIM_WINDOW_MS, durationMs, seededRandom(SEED + 1)) },
    { name: 'bursts at window boundaries', arrivals: () => boundaryBursts(SIM_LIMIT, SIM_WINDOW_MS, SIM_WINDOWS) },
    { name: 'burst, then 2x overload', arrivals: () => burstThenOverload(SIM_LIMIT, SIM_WINDOW_MS, SIM_WINDOWS) },
    // GCRA's adversary: everything at once, then again as soon as a burst's worth has drained.
    { name: 'bursts one burst apart', arrivals: () => boundaryBursts(SIM_LIMIT, (SIM_WINDOW_MS * GCRA_BURST_SHARE), SIM_WINDOWS * 10) },
  ];
  const rows: PatternRow[] = [];
  for (const pattern of patterns) {
    const arrivals = pattern.arrivals();
    for (const algorithm of ALGORITHMS) {
      const burst = algorithm === 'gcra' ? SIM_LIMIT * GCRA_BURST_SHARE : undefined;
      rows.push({ pattern: pattern.name, algorithm, result: simulate(algorithm, SIM_LIMIT, SIM_WINDOW_MS, arrivals, durationMs, burst) });
    }
  }
  return rows;
}

interface RedisRun {
  readonly algorithm: Algorithm;
  readonly limit: number;
  readonly windowMs: number;
  readonly seconds: number;
  readonly offered: number;
  readonly admitted: number;
  readonly maxWindowRatio: number;
  /** Most admitted beyond rate × t in any interval (GCRA keeps it at most its burst). */
  readonly maxExcess: number;
  readonly burst: number | null;
}

/** Poisson traffic at the limit's rate, in real time, through the Lua script; times are send times. */
async function realRedisRun(client: Redis, prefix: string, algorithm: Algorithm, seconds: number): Promise<RedisRun> {
  const limit = 20;
  const windowMs = 1_000;
  const scripts = createLimiterScripts(client, prefix);
  const burst = algorithm === 'gcra' ? Math.max(1, limit * GCRA_BURST_SHARE) : undefined;
  const check = { subject: `accuracy-${algorithm}`, limits: toWindowLimits([{ window: '1s', limit, ...(burst === undefined ? {} : { burst }) }]), algorithm, cost: 1 };
  const arrivals = poissonArrivals(limit / windowMs, seconds * 1000, seededRandom(SEED + 7));
  const started = performance.now();
  const admitted: number[] = [];
  const pending: Promise<void>[] = [];
  for (const at of arrivals) {
    const wait = started + at - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const sentAt = performance.now() - started;
    pending.push(
      scripts.consume([check]).then(([reply]) => {
        if (reply?.allowed) admitted.push(sentAt);
      }),
    );
  }
  await Promise.all(pending);
  admitted.sort((a, b) => a - b);
  return {
    algorithm,
    limit,
    windowMs,
    seconds,
    offered: arrivals.length,
    admitted: admitted.length,
    maxWindowRatio: maxInAnyWindow(admitted, windowMs) / limit,
    maxExcess: maxExcessOverRate(admitted, limit / windowMs),
    burst: burst ?? null,
  };
}

interface MemoryRow {
  readonly algorithm: Algorithm;
  readonly limit: number;
  readonly bytes: number;
}

/** MEMORY USAGE of one limit's Redis keys after `limit` admitted requests in one window. */
async function memoryPerLimit(client: Redis, prefix: string, algorithm: Algorithm, limit: number): Promise<MemoryRow> {
  const scripts = createLimiterScripts(client, prefix);
  const subject = `memory-${algorithm}-${limit}`;
  const limits = toWindowLimits([{ window: '1h', limit }]);
  const check = { subject, limits, algorithm, cost: 1 };
  for (let sent = 0; sent < limit; sent += 1000) {
    await scripts.consume(Array.from({ length: Math.min(1000, limit - sent) }, () => check));
  }
  const keys = limits.map((one) => limiterLimitKey(prefix, subject, algorithm, one));
  if (algorithm === 'sliding_log') keys.push(limiterLogSequenceKey(prefix, subject));
  let bytes = 0;
  for (const key of keys) bytes += Number(await client.memory('USAGE', key)) || 0;
  return { algorithm, limit, bytes };
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const seconds = Number(process.env.ACCURACY_SECONDS ?? 10);
  const lines: string[] = [];
  const simulated = simulationRows();
  lines.push(`simulation: one limit of ${SIM_LIMIT} per ${SIM_WINDOW_MS / 1000} s, ${SIM_WINDOWS} windows of simulated time, seed ${SEED}`);
  lines.push('max in any true window = most admitted requests inside any (t - window, t], as a multiple of the limit');
  lines.push(`GCRA bound = most admitted beyond rate x t in any interval of length t; GCRA (burst ${SIM_LIMIT * GCRA_BURST_SHARE}) promises at most its burst`);
  lines.push(`${'pattern'.padEnd(30)} ${'algorithm'.padEnd(15)} ${'max in any true window'.padEnd(24)} ${'admitted rate / limit'.padEnd(23)} GCRA bound`);
  for (const row of simulated) {
    const bound = row.algorithm === 'gcra' ? `${row.result.maxExcess.toFixed(3)} <= ${SIM_LIMIT * GCRA_BURST_SHARE}: ${row.result.maxExcess <= SIM_LIMIT * GCRA_BURST_SHARE + GCRA_SLACK_UNITS ? 'holds' : 'BROKEN'}` : '';
    lines.push(`${row.pattern.padEnd(30)} ${row.algorithm.padEnd(15)} ${`${row.result.maxWindowRatio.toFixed(2)} L`.padEnd(24)} ${row.result.admittedRateRatio.toFixed(3).padEnd(23)} ${bound}`);
  }

  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const prefix = `bench-accuracy-${randomBytes(3).toString('hex')}`;
  const redisRuns: RedisRun[] = [];
  const memory: MemoryRow[] = [];
  try {
    await client.connect();
    for (const algorithm of ALGORITHMS) redisRuns.push(await realRedisRun(client, prefix, algorithm, seconds));
    for (const algorithm of ALGORITHMS) for (const limit of [100, 10_000]) memory.push(await memoryPerLimit(client, prefix, algorithm, limit));
  } finally {
    client.disconnect();
    await deleteKeysWithPrefix(redisUrl, prefix).catch(() => undefined);
  }
  lines.push('');
  lines.push(`real Redis (Lua script, Redis TIME): Poisson traffic at the limit's rate, limit 20 per 1 s, ${seconds} s`);
  for (const run of redisRuns) {
    // Times here are send times, not Redis's: network jitter blurs the bound by a little.
    const bound = run.burst === null ? '' : `, GCRA bound ${run.maxExcess.toFixed(3)} <= burst ${run.burst}: ${run.maxExcess <= run.burst + GCRA_SLACK_UNITS ? 'holds' : 'over (send-time jitter)'}`;
    lines.push(`${run.algorithm.padEnd(15)} offered ${run.offered}, admitted ${run.admitted}, max in any true 1 s window ${run.maxWindowRatio.toFixed(2)} L${bound}`);
  }
  lines.push('');
  lines.push('Redis memory per limit (MEMORY USAGE of its keys) after `limit` admitted requests in one 1 h window');
  for (const row of memory) lines.push(`${row.algorithm.padEnd(15)} limit ${String(row.limit).padEnd(6)} ${row.bytes} bytes`);
  const text = lines.join('\n');
  console.log(text);
  const file = resolve(resultsDir, `accuracy-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify({ simulated, redisRuns, memory, text }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

main().catch((error: unknown) => {
  console.error('accuracy bench failed:', error);
  process.exit(1);
});
