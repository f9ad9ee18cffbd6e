// Warm-up and measured rounds over every system under test, interleaved.
import type { BenchConfig } from './config.js';
import { runRound, type RoundResult } from './load.js';
import type { SystemUnderTest } from './systems.js';

export interface SystemRounds {
  warmup: RoundResult | null;
  readonly rounds: RoundResult[];
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
      await system.beforeRound?.();
      if (entry) entry.warmup = await runRound(system.url, system.headers, system.expectedStatus, load(config.warmupSeconds));
      await system.afterRound?.();
    }
  }
  // Round 1 of every system, then round 2…: a burst of noise from other work on the machine
  // spreads over all systems instead of sinking one.
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const system of systems) {
      await system.beforeRound?.();
      const result = await runRound(system.url, system.headers, system.expectedStatus, load(config.durationSeconds));
      await system.afterRound?.();
      results.get(system.name)?.rounds.push(result);
      log(
        `round ${round}/${config.rounds} ${system.name}: ${result.requestsPerSecond.toFixed(0)} req/s, ` +
          `p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms`,
      );
    }
  }
  return results;
}
