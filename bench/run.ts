// `npm run bench`: the same autocannon load against the upstream alone, a bare undici proxy, a bare
// http-proxy-3 proxy, the fastify peer (admitted and 429), Tollgate's gateway (admitted with request
// logging on, off and with the writer running, with two workers, and 429) and BENCH_TARGET; then the
// table, the ratios against their targets, Redis's cost per request, change propagation and
// request-log lag, and bench/results/<timestamp>.json with its chart <timestamp>.svg. Progress goes
// to stderr. See docs/performance.md.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { startComparisonSystems } from './comparison-systems.js';
import { readBenchConfig, type BenchConfig } from './config.js';
import { renderChart } from './chart.js';
import { readGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import { startOwnRedis, type OwnRedis } from './own-redis.js';
import { resultsDir } from './paths.js';
import { decidePlacement, pin, type Placement } from './placement.js';
import { forkChild, siblingModule, type RunningProcess } from './processes.js';
import { createProgress, type Progress } from './progress.js';
import { deleteKeysWithPrefix } from './redis-cleanup.js';
import { createRedisMeter } from './redis-cost.js';
import { formatRedisCosts, redisBackgroundMsPerSecond, REDIS_AIM_US, type RedisCost } from './redis-summary.js';
import {
  computeRatios,
  formatPropagation,
  formatRatios,
  formatLag,
  formatRequestLogCpu,
  formatTable,
  requestLogCpuRatio,
  machineFacts,
  summarise,
  writeReport,
  type BenchReport,
  type SystemOutcome,
  type SystemSummary,
} from './report.js';
import { plannedSeconds, runAllRounds, type SystemRounds } from './rounds.js';
import { formatScriptCost, measureScriptCost, type ScriptCost } from './script-cost.js';
import { describeError, type SkippedSystem, type SystemUnderTest } from './systems.js';
import { setUpTollgate, type TollgateBench } from './tollgate-bench.js';

/** About how long the limiter script's cost by call shape takes (for the estimate of the time left). */
const SCRIPT_COST_SECONDS = 3;

const progress: Progress = createProgress((line) => process.stderr.write(`${line}\n`));
const log = (line: string): void => progress.note(line);

function toOutcomes(systems: readonly SystemUnderTest[], skipped: readonly SkippedSystem[], measured: ReadonlyMap<string, SystemRounds>): SystemOutcome[] {
  return [
    ...systems.map(({ name, description, expectedStatus, usesRedis }) => ({
      name,
      description,
      expectedStatus,
      usesRedis: usesRedis === true,
      skipped: null,
      rounds: measured.get(name)?.rounds ?? [],
      warmup: measured.get(name)?.warmup ?? null,
    })),
    ...skipped.map((system) => ({ ...system, usesRedis: false, rounds: [], warmup: null })),
  ];
}

/** Notes that qualify the numbers; the first three are always there and not printed. */
function buildNotes(config: BenchConfig, gatewayMetrics: GatewayMetrics | null, summaries: ReadonlyMap<string, SystemSummary>, load: { start: number[]; end: number[] }): string[] {
  const notes = [
    'Latencies come from autocannon’s histogram, which has a resolution of 1 ms.',
    'The machine may be shared with other work; compare systems within one run, not across runs.',
    config.keepControlPlane
      ? 'The control plane kept running during the load rounds (BENCH_KEEP_CONTROL_PLANE=1), so gateway-admitted also ran with the writer.'
      : 'The control plane was frozen (SIGSTOP) after set-up so its request-log writer does not compete for CPU during the load rounds, except in the gateway-admitted-writer rounds; the writer drained the stream before and after each of those.',
    `load average (1 min) ${load.start[0]?.toFixed(1)} at the start and ${load.end[0]?.toFixed(1)} at the end on ${machineFacts().cpuCount} CPUs` +
      ((load.start[0] ?? 0) > machineFacts().cpuCount ? ': other work was competing for the CPUs, so the figures are noisy.' : '.'),
  ];
  if (!config.ownRedis) {
    notes.push(`Redis figures are of ${config.redisUrl}, which other clients may share: their work is in them too.`);
  }
  if (gatewayMetrics !== null) {
    const failedOpen = gatewayMetrics.storeErrors > 0
      ? ' (Redis calls failed or exceeded GATEWAY_REDIS_TIMEOUT_MS, so those requests were failed open: the admitted figures include requests that skipped the Redis check)'
      : '';
    notes.push(
      `gateway metrics over the run: ${gatewayMetrics.rateLimitChecks} rate-limit checks, mean ${gatewayMetrics.meanRateLimitCheckMs.toFixed(2)} ms, ` +
        `${gatewayMetrics.storeErrors} store errors${failedOpen}.`,
    );
  }
  for (const [name, summary] of summaries) {
    if (summary.expectedShare < 0.99) {
      const errors = summary.errors > 0 ? ` (${summary.errors} connection errors or timeouts)` : '';
      notes.push(`${name}: only ${(summary.expectedShare * 100).toFixed(1)}% of responses had the expected status${errors}.`);
    }
  }
  return notes;
}

async function readMetricsOf(tollgate: TollgateBench): Promise<GatewayMetrics | null> {
  if (tollgate.opsUrl === null) return null;
  try {
    return await readGatewayMetrics(tollgate.opsUrl);
  } catch (error) {
    log(`could not read the gateway's metrics: ${describeError(error)}`);
    return null;
  }
}

interface Started {
  readonly systems: SystemUnderTest[];
  readonly skipped: SkippedSystem[];
  readonly tollgate: TollgateBench;
}

/** Starts the upstream and every wanted system; each process goes into `running` for the caller to stop. */
async function startSystems(config: BenchConfig, placement: Placement, prefix: string, running: RunningProcess[]): Promise<Started> {
  const wanted = (name: string): boolean => config.systems === null || config.systems.has(name);
  log('set-up: starting the upstream and the compared systems');
  const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, placement.upstreamCpu);
  running.push(upstream);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const { systems, skipped } = await startComparisonSystems(upstreamUrl, prefix, config.redisUrl, placement, wanted, running);
  const stackSettings = { redisUrl: config.redisUrl, redisPrefix: prefix, postgresAdminUrl: config.postgresAdminUrl, benchDatabase: config.benchDatabase };
  const tollgate = await setUpTollgate(config, placement, stackSettings, upstreamUrl, wanted, log);
  systems.push(...tollgate.systems);
  skipped.push(...tollgate.skipped);
  if (config.target !== null) {
    const headers: Record<string, string> = config.targetApiKey ? { 'x-api-key': config.targetApiKey } : {};
    systems.push({ name: 'target', description: `BENCH_TARGET ${config.target}`, url: config.target, headers, expectedStatus: 200 });
  }
  return { systems, skipped, tollgate };
}

function printReport(config: BenchConfig, placement: Placement, report: BenchReport, outcomes: readonly SystemOutcome[], summaries: ReadonlyMap<string, SystemSummary>): void {
  console.log(`\nTollgate bench — node ${report.node}, ${report.cpuCount} × ${report.cpuModel}`);
  console.log(`${config.connections} connections, pipelining 1, ${config.rounds} rounds of ${config.durationSeconds} s after a ${config.warmupSeconds} s warm-up; medians (min–max)`);
  console.log(`placement: ${placement.description}\n`);
  console.log(formatTable(outcomes, summaries));
  console.log(`\n${formatRatios(report.ratios)}`);
  const cpu = formatRequestLogCpu(summaries);
  if (cpu) console.log(cpu);
  const redisCosts = new Map<string, RedisCost>();
  for (const [name, summary] of summaries) if (summary.redis) redisCosts.set(name, summary.redis);
  if (redisCosts.size > 0) console.log(`\n${formatRedisCosts(redisCosts, 'gateway-admitted', report.redis.backgroundMsPerSecond)}`);
  const script: ScriptCost | { skipped: string } = report.redis.scriptCost;
  console.log(`\n${'skipped' in script ? `limiter script cost: skipped: ${script.skipped}` : formatScriptCost(script)}`);
  console.log(`\n${formatPropagation('skipped' in report.propagation ? null : report.propagation, 'skipped' in report.propagation ? report.propagation.skipped : null)}`);
  console.log(formatLag(report.requestLogLag));
  for (const note of report.notes.slice(3)) console.log(`note: ${note}`);
}

function settingsOf(config: BenchConfig, redisDescription: string): Record<string, unknown> {
  return {
    connections: config.connections,
    pipelining: 1,
    durationSeconds: config.durationSeconds,
    warmupSeconds: config.warmupSeconds,
    rounds: config.rounds,
    target: config.target,
    systems: config.systems === null ? 'all' : [...config.systems],
    propagationChanges: config.propagationChanges,
    keepControlPlane: config.keepControlPlane,
    lagRate: config.lagRate,
    lagDurationSeconds: config.lagDurationSeconds,
    redis: redisDescription,
  };
}

/** The warm-ups and rounds of every system, with the bench's Redis read around each. */
async function measureAll(config: BenchConfig, systems: readonly SystemUnderTest[], skipped: readonly SkippedSystem[]): Promise<SystemOutcome[]> {
  const meter = createRedisMeter(config.redisUrl);
  try {
    return toOutcomes(systems, skipped, await runAllRounds(systems, config, meter, progress));
  } finally {
    meter.close();
  }
}

async function benchmark(config: BenchConfig, placement: Placement, redisDescription: string, prefix: string, running: RunningProcess[], setTollgate: (bench: TollgateBench) => void): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const { systems, skipped, tollgate } = await startSystems(config, placement, prefix, running);
  setTollgate(tollgate);
  const lagSeconds = tollgate.lagWanted ? config.lagDurationSeconds : 0;
  progress.plan(plannedSeconds(systems.length, config) + SCRIPT_COST_SECONDS + lagSeconds);
  const outcomes = await measureAll(config, systems, skipped);
  const gatewayMetrics = await readMetricsOf(tollgate);
  progress.step('limiter script cost by call shape', SCRIPT_COST_SECONDS);
  const scriptCost = await measureScriptCost(config.redisUrl, prefix).catch((error: unknown) => ({ skipped: describeError(error) }));
  if (lagSeconds > 0) progress.step(`request-log lag · ${config.lagRate} req/s with the writer running · ${lagSeconds} s`, lagSeconds);
  const requestLogLag = await tollgate.measureLag();

  const summaries = new Map<string, SystemSummary>();
  for (const outcome of outcomes) {
    const summary = summarise(outcome);
    if (summary) summaries.set(outcome.name, summary);
  }
  const load = { start: loadAtStart, end: loadavg() };
  // Rounds of systems that do not use Redis show what Redis costs with nothing to do.
  const idleRedisRounds = outcomes.filter((outcome) => !outcome.usesRedis && outcome.name !== 'target').flatMap((outcome) => outcome.rounds);
  const report: BenchReport = {
    startedAt,
    finishedAt: new Date().toISOString(),
    ...machineFacts(),
    placement: placement.description,
    loadAverage: load,
    settings: settingsOf(config, redisDescription),
    systems: outcomes.map((outcome) => ({ ...outcome, summary: summaries.get(outcome.name) ?? null })),
    ratios: computeRatios(summaries, outcomes),
    propagation: tollgate.propagation ?? { skipped: tollgate.propagationSkipped ?? 'not measured' },
    requestLogLag,
    requestLogCpuRatio: requestLogCpuRatio(summaries),
    redis: {
      aimUsPerAdmittedRequest: REDIS_AIM_US,
      backgroundMsPerSecond: redisBackgroundMsPerSecond(idleRedisRounds, config.durationSeconds),
      scriptCost,
    },
    gatewayMetrics,
    notes: buildNotes(config, gatewayMetrics, summaries, load),
  };
  printReport(config, placement, report, outcomes, summaries);
  const written = writeReport(resultsDir, report, renderChart(report));
  console.log(`\nwrote ${written.json}\nand its chart ${written.chart}`);
  progress.note('done');
}

async function main(): Promise<void> {
  const settings = readBenchConfig();
  const placement = decidePlacement(settings.pin);
  pin(process.pid, placement.loadCpu);
  let ownRedis: OwnRedis | null = null;
  if (settings.ownRedis) {
    ownRedis = await startOwnRedis(placement.serviceCpu, settings.ownRedisNice);
    log(`bench: using a redis-server of its own at ${ownRedis.url} (nice ${ownRedis.nice})`);
  }
  const config: BenchConfig = ownRedis ? { ...settings, redisUrl: ownRedis.url } : settings;
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  log(`bench: ${placement.description}`);

  const running: RunningProcess[] = [];
  let tollgate: TollgateBench | null = null;
  let cleanedUp = false;
  const cleanUp = async (): Promise<void> => {
    if (cleanedUp) return;
    cleanedUp = true;
    await tollgate?.stop();
    await Promise.all(running.map((item) => item.stop()));
    await deleteKeysWithPrefix(config.redisUrl, prefix).catch((error: unknown) => {
      log(`could not remove the bench's Redis keys (${prefix}*): ${describeError(error)}`);
    });
    await ownRedis?.stop();
  };
  process.once('SIGINT', () => {
    void cleanUp().finally(() => process.exit(130));
  });
  try {
    const redisDescription = ownRedis
      ? `a redis-server of the run’s own${placement.pinned ? `, pinned to CPU ${placement.serviceCpu}` : ''}, nice ${ownRedis.nice}`
      : config.redisUrl;
    await benchmark(config, placement, redisDescription, prefix, running, (bench) => {
      tollgate = bench;
    });
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${describeError(error)}`);
  process.exitCode = 1;
});
