// Warm-up and measured rounds over every system under test, interleaved.
import type { BenchConfig } from './config.js';
import { runRound, type LoadSettings, type RoundResult } from './load.js';
import { processTreeCpuMs } from './process-cpu.js';
import type { Progress } from './progress.js';
import { usageBetween, type RedisMeter } from './redis-cost.js';
import type { SystemUnderTest } from './systems.js';

export interface SystemRounds {
  warmup: RoundResult | null;
  readonly rounds: RoundResult[];
}

/**
 * One round, with the CPU time per request of the system's processes when the bench knows them, and
 * what it cost the bench's Redis (read for every system: for those that do not use Redis it shows
 * Redis's own background work).
 */
async function measuredRound(system: SystemUnderTest, settings: LoadSettings, meter: RedisMeter | null): Promise<RoundResult> {
  await system.beforeRound?.();
  const redisBefore = await meter?.read().catch(() => null);
  const cpuBefore = system.pid === undefined ? null : processTreeCpuMs(system.pid);
  const result = await runRound(system.url, system.headers, system.expectedStatus, settings);
  const cpuAfter = system.pid === undefined ? null : processTreeCpuMs(system.pid);
  const redisAfter = await meter?.read().catch(() => null);
  await system.afterRound?.();
  const redis = redisBefore && redisAfter ? usageBetween(redisBefore, redisAfter) : null;
  const cpuMsPerRequest = cpuBefore === null || cpuAfter === null || result.responses === 0 ? null : (cpuAfter - cpuBefore) / result.responses;
  return { ...result, cpuMsPerRequest, redis };
}

function describeRound(result: RoundResult, usesRedis: boolean): string {
  const cpu = result.cpuMsPerRequest == null ? '' : `, ${(result.cpuMsPerRequest * 1000).toFixed(0)} µs CPU per request`;
  const redis =
    usesRedis && result.redis && result.responses > 0 ? `, Redis ${((result.redis.cpuMainMs * 1000) / result.responses).toFixed(1)} µs per request` : '';
  return `${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms${cpu}${redis}`;
}

/** The load seconds a run of these systems plans, for the progress estimate. */
export function plannedSeconds(systems: number, config: BenchConfig): number {
  return systems * (config.warmupSeconds + config.rounds * config.durationSeconds);
}

export async function runAllRounds(
  systems: readonly SystemUnderTest[],
  config: BenchConfig,
  meter: RedisMeter | null,
  progress: Progress,
): Promise<Map<string, SystemRounds>> {
  const results = new Map<string, SystemRounds>(systems.map((system) => [system.name, { warmup: null, rounds: [] }]));
  const load = (seconds: number) => ({ connections: config.connections, durationSeconds: seconds });
  if (config.warmupSeconds > 0) {
    for (const system of systems) {
      progress.step(`warm-up · ${system.name} · ${config.warmupSeconds} s`, config.warmupSeconds);
      const entry = results.get(system.name);
      if (entry) entry.warmup = await measuredRound(system, load(config.warmupSeconds), meter);
    }
  }
  // Round 1 of every system, then round 2…: a burst of noise from other work on the machine
  // spreads over all systems instead of sinking one.
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const system of systems) {
      progress.step(`round ${round}/${config.rounds} · ${system.name} · ${config.durationSeconds} s`, config.durationSeconds);
      const result = await measuredRound(system, load(config.durationSeconds), meter);
      results.get(system.name)?.rounds.push(result);
      progress.note(`  ${system.name}: ${describeRound(result, system.usesRedis === true)}`);
    }
  }
  return results;
}
