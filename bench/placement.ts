// Where each process runs on the machine's cores (docs/performance.md, "Placement"). With two or more
// cores, the system under test gets a core of its own (the last one) and the load generator shares
// the first with the upstream and the run's own Redis, so every system is measured with the same CPU
// budget. Pinning uses `taskset`; without it, or with BENCH_PIN=0, the OS places everything.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { isInstalled } from './installed.js';

export interface Placement {
  readonly pinned: boolean;
  readonly loadCpu: string;
  readonly upstreamCpu: string;
  readonly systemCpu: string;
  /** Where the run's own Redis goes: off the system-under-test core, with the load generator. */
  readonly serviceCpu: string;
  /** Every CPU: for a system of several processes (gateway workers), which one core would cap. */
  readonly allCpus: string;
  readonly description: string;
}

export function decidePlacement(pinRequested: boolean): Placement {
  const cpus = availableParallelism();
  if (!pinRequested || cpus < 2 || !isInstalled('taskset', ['-V'])) {
    return {
      pinned: false,
      loadCpu: '',
      upstreamCpu: '',
      systemCpu: '',
      serviceCpu: '',
      allCpus: '',
      description: `not pinned (${cpus} CPUs): the OS schedules load generator, upstream and system under test`,
    };
  }
  const last = String(cpus - 1);
  const rest = cpus > 2 ? `0-${cpus - 2}` : '0';
  return {
    pinned: true,
    loadCpu: rest,
    upstreamCpu: rest,
    systemCpu: last,
    serviceCpu: rest,
    allCpus: `0-${last}`,
    description: `pinned with taskset: system under test on CPU ${last} (the gateway with workers on CPUs 0-${last}); autocannon (bench parent), upstream and the run's own Redis on CPU ${rest}; a shared Redis (REDIS_URL), PostgreSQL and the control plane unpinned`,
  };
}

/** Pins every thread of a process (V8 and libuv threads included) to the given CPU list. */
export function pin(pid: number, cpuList: string): void {
  if (!cpuList) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
  } catch {
    // A process that already exited, or taskset refused: the run continues unpinned for it.
  }
}
