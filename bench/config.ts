// Bench settings from the environment (docs/performance.md, "Settings"), checked once at start.
import { availableParallelism } from 'node:os';
import { isInstalled } from './installed.js';

export interface BenchConfig {
  readonly durationSeconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  readonly pin: boolean;
  readonly redisUrl: string;
  readonly postgresAdminUrl: string;
  readonly benchDatabase: string;
  readonly target: string | null;
  readonly targetApiKey: string | null;
  readonly propagationChanges: number;
  /** null: every system; otherwise only these names (for quick partial runs). */
  readonly systems: ReadonlySet<string> | null;
  readonly keepControlPlane: boolean;
  /**
   * Start a redis-server of the run's own instead of using REDIS_URL: BENCH_OWN_REDIS=1, or by default
   * when REDIS_URL is unset and redis-server is installed.
   */
  readonly ownRedis: boolean;
  /**
   * Scheduling priority (nice value) of the run's own Redis, -20…19: by default -10, so on the shared
   * load core the load generator does not delay its replies (BENCH_REDIS_NICE; 0 leaves it as it is).
   */
  readonly ownRedisNice: number;
  /** Request-log lag measurement: steady rate (req/s) and seconds. */
  readonly lagRate: number;
  readonly lagDurationSeconds: number;
}

export class BenchConfigError extends Error {
  readonly code = 'BENCH_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'BenchConfigError';
  }
}

/** An integer setting from `min` to `max`, or `fallback` when unset; anything else is a BenchConfigError. */
function integerSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new BenchConfigError(`${name}: must be an integer ${range}, got "${text}"`);
  }
  return value;
}

export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  return integerSetting(env, name, fallback, min);
}

export function readBenchConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const target = env.BENCH_TARGET ? env.BENCH_TARGET : null;
  if (target !== null) {
    try {
      new URL(target);
    } catch {
      throw new BenchConfigError(`BENCH_TARGET: not a URL: "${target}"`);
    }
  }
  const systems = env.BENCH_SYSTEMS
    ? new Set(env.BENCH_SYSTEMS.split(',').map((name) => name.trim()).filter(Boolean))
    : null;
  return {
    durationSeconds: positiveInteger(env, 'BENCH_DURATION', 10),
    // Node proxies take about 8 s of this load to reach their steady rate (JIT tiering): measured
    // in 4 s steps, the bare undici proxy went 4.0k → 4.8k → 6.0k req/s and the gateway 3.4k → 4.0k → 4.7k.
    warmupSeconds: positiveInteger(env, 'BENCH_WARMUP', 10, 0),
    rounds: positiveInteger(env, 'BENCH_ROUNDS', 3),
    connections: positiveInteger(env, 'BENCH_CONNECTIONS', 50),
    pin: env.BENCH_PIN !== '0' && availableParallelism() >= 2,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    postgresAdminUrl: env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    benchDatabase: env.BENCH_DATABASE || 'tollgate_bench',
    target,
    targetApiKey: env.BENCH_TARGET_API_KEY || null,
    propagationChanges: positiveInteger(env, 'BENCH_PROPAGATION_CHANGES', 200, 0),
    systems,
    keepControlPlane: env.BENCH_KEEP_CONTROL_PLANE === '1',
    ownRedis: env.BENCH_OWN_REDIS === '1' || (env.BENCH_OWN_REDIS !== '0' && !env.REDIS_URL && isInstalled('redis-server')),
    ownRedisNice: integerSetting(env, 'BENCH_REDIS_NICE', -10, -20, 19),
    lagRate: positiveInteger(env, 'BENCH_LAG_RATE', 1000),
    lagDurationSeconds: positiveInteger(env, 'BENCH_LAG_DURATION', 10, 0),
  };
}
