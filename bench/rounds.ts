// Warm-up and measured rounds over every system under test, interleaved.
import type { BenchConfig } from './config.js';
import { runRound, type LoadSettings, type RoundResult } from './load.js';
import { processCpuMs } from './process-cpu.js';
import type { SystemUnderTest } from './systems.js';

export interface SystemRounds {
  warmup: RoundResult | null;
  readonly rounds: RoundResult[];
}

/** One round, with the system's CPU time per request when the bench knows its process. */
async function measuredRound(system: SystemUnderTest, settings: LoadSettings): Promise<RoundResult> {
  await system.beforeRound?.();
  const cpuBefore = system.pid === undefined ? null : processCpuMs(system.pid);
  const result = await runRound(system.url, system.headers, system.expectedStatus, settings);
  const cpuAfter = system.pid === undefined ? null : processCpuMs(system.pid);
  await system.afterRound?.();
  if (cpuBefore === null || cpuAfter === null || result.responses === 0) return result;
  return { ...result, cpuMsPerRequest: (cpuAfter - cpuBefore) / result.responses };
}

export async function runAllRounds(
  systems: readonly SystemUnderTest[],
  config: BenchConfig,
  log: (line: string) => void,
): Promise<Map<string, SystemRounds>> {
  const results = new Map<string, SystemRounds>(systems.map((system) => [system.name, { warmup: null, rounds: [] }]));
  const load = (seconds: number) => ({ connections: config.connections, durationSeconds: seconds });
  if (config.warmupSeconds > 0) {
    for (const system of systems) {
      log(`warm-up ${system.name} (${config.warmupSeconds} s)`);
      const entry = results.get(system.name);
      if (entry) entry.warmup = await measuredRound(system, load(config.warmupSeconds));
    }
  }
  // Round 1 of every system, then round 2…: a burst of noise from other work on the machine
  // spreads over all systems instead of sinking one.
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const system of systems) {
      const result = await measuredRound(system, load(config.durationSeconds));
      results.get(system.name)?.rounds.push(result);
      log(
        `round ${round}/${config.rounds} ${system.name}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms` +
          (result.cpuMsPerRequest == null ? '' : `, ${(result.cpuMsPerRequest * 1000).toFixed(0)} µs CPU per request`),
      );
    }
  }
  return results;
}
