// Turning rounds into the printed table, the ratios against their targets, and the JSON file.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { RoundResult } from './load.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import type { PropagationResult } from './propagation.js';
import type { LagResult } from './request-log-lag.js';
import { summariseRedis, type RedisCost } from './redis-summary.js';
import type { ScriptCost } from './script-cost.js';
import { median, spread, type Spread } from './stats.js';

export interface SystemOutcome {
  readonly name: string;
  readonly description: string;
  readonly expectedStatus: number;
  /** It uses the bench's Redis, so Redis's cost per request is part of its summary. */
  readonly usesRedis: boolean;
  /** Why the system was not measured, or null. */
  readonly skipped: string | null;
  readonly rounds: readonly RoundResult[];
  readonly warmup: RoundResult | null;
}

export interface SystemSummary {
  readonly requestsPerSecond: Spread;
  readonly latencyP50Ms: Spread;
  readonly latencyP99Ms: Spread;
  /** Share of responses with the expected status over all rounds (1 = all of them). */
  readonly expectedShare: number;
  readonly errors: number;
  /** CPU time of the system under test per request (ms), when the bench knows its process. */
  readonly cpuMsPerRequest: Spread | null;
  /** What each request cost the bench's Redis, for the systems that use it. */
  readonly redis: RedisCost | null;
}

export interface RatioDefinition {
  readonly name: string;
  readonly numerator: string;
  readonly denominator: string;
  /** The target (ratio at least this), or null for an informative ratio. */
  readonly target: number | null;
}

export interface Ratio extends RatioDefinition {
  /** Ratio of the two medians. */
  readonly value: number | null;
  /**
   * Median of the per-round ratios: rounds are interleaved, so round i of both systems ran within
   * seconds of each other and shared the machine's state; on a noisy machine this is steadier.
   */
  readonly pairedMedian: number | null;
  /** Lowest and highest per-round ratio. */
  readonly pairedMin: number | null;
  readonly pairedMax: number | null;
  readonly met: boolean | null;
  /**
   * The same ratio from CPU time per request (denominator's / numerator's medians): on a CPU-bound
   * core capacity is inversely proportional to it, and it moves far less with the machine's
   * neighbours than req/s. Null when either side's CPU time was not measured. Informative only.
   */
  readonly byCpu: number | null;
}

export const RATIOS: readonly RatioDefinition[] = [
  { name: 'gateway-admitted / undici-proxy', numerator: 'gateway-admitted', denominator: 'undici-proxy', target: 0.8 },
  { name: 'gateway-admitted / fastify-peer', numerator: 'gateway-admitted', denominator: 'fastify-peer', target: 1.5 },
  { name: 'gateway-admitted / http-proxy-3', numerator: 'gateway-admitted', denominator: 'http-proxy-3', target: null },
  { name: 'gateway-admitted / gateway-admitted-nolog', numerator: 'gateway-admitted', denominator: 'gateway-admitted-nolog', target: 0.9 },
  { name: 'gateway-admitted-writer / gateway-admitted-nolog', numerator: 'gateway-admitted-writer', denominator: 'gateway-admitted-nolog', target: 0.9 },
  { name: 'gateway-429 / gateway-admitted', numerator: 'gateway-429', denominator: 'gateway-admitted', target: 2 },
  { name: 'gateway-2-workers / gateway-admitted', numerator: 'gateway-2-workers', denominator: 'gateway-admitted', target: null },
  { name: 'gateway-429 / fastify-peer-429', numerator: 'gateway-429', denominator: 'fastify-peer-429', target: null },
  { name: 'gateway-429 / undici-proxy', numerator: 'gateway-429', denominator: 'undici-proxy', target: null },
  { name: 'fastify-peer / undici-proxy', numerator: 'fastify-peer', denominator: 'undici-proxy', target: null },
  { name: 'undici-proxy / direct', numerator: 'undici-proxy', denominator: 'direct', target: null },
];

export function summarise(outcome: SystemOutcome): SystemSummary | null {
  if (outcome.skipped !== null || outcome.rounds.length === 0) return null;
  const responses = outcome.rounds.reduce((sum, round) => sum + round.responses, 0);
  const expected = outcome.rounds.reduce((sum, round) => sum + round.expectedResponses, 0);
  const cpu = outcome.rounds.flatMap((round) => (round.cpuMsPerRequest == null ? [] : [round.cpuMsPerRequest]));
  return {
    requestsPerSecond: spread(outcome.rounds.map((round) => round.requestsPerSecond)),
    latencyP50Ms: spread(outcome.rounds.map((round) => round.latencyP50Ms)),
    latencyP99Ms: spread(outcome.rounds.map((round) => round.latencyP99Ms)),
    expectedShare: responses === 0 ? 0 : expected / responses,
    errors: outcome.rounds.reduce((sum, round) => sum + round.errors + round.timeouts, 0),
    cpuMsPerRequest: cpu.length === outcome.rounds.length ? spread(cpu) : null,
    redis: outcome.usesRedis ? summariseRedis(outcome.rounds) : null,
  };
}

function pairedRatios(numerator: SystemOutcome | undefined, denominator: SystemOutcome | undefined): number[] {
  if (!numerator || !denominator) return [];
  const ratios: number[] = [];
  const rounds = Math.min(numerator.rounds.length, denominator.rounds.length);
  for (let index = 0; index < rounds; index += 1) {
    const below = denominator.rounds[index]?.requestsPerSecond ?? 0;
    if (below > 0) ratios.push((numerator.rounds[index]?.requestsPerSecond ?? 0) / below);
  }
  return ratios;
}

export function computeRatios(summaries: ReadonlyMap<string, SystemSummary>, outcomes: readonly SystemOutcome[]): Ratio[] {
  const byName = new Map(outcomes.map((outcome) => [outcome.name, outcome]));
  return RATIOS.map((definition) => {
    const numerator = summaries.get(definition.numerator);
    const denominator = summaries.get(definition.denominator);
    const value =
      numerator && denominator && denominator.requestsPerSecond.median > 0
        ? numerator.requestsPerSecond.median / denominator.requestsPerSecond.median
        : null;
    const paired = value === null ? [] : pairedRatios(byName.get(definition.numerator), byName.get(definition.denominator));
    const met = value === null || definition.target === null ? null : value >= definition.target;
    const numeratorCpu = numerator?.cpuMsPerRequest?.median;
    const denominatorCpu = denominator?.cpuMsPerRequest?.median;
    return {
      ...definition,
      value,
      pairedMedian: paired.length > 0 ? median(paired) : null,
      pairedMin: paired.length > 0 ? Math.min(...paired) : null,
      pairedMax: paired.length > 0 ? Math.max(...paired) : null,
      met,
      byCpu: numeratorCpu && denominatorCpu ? denominatorCpu / numeratorCpu : null,
    };
  });
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function formatSpread(value: Spread, digits: number): string {
  return `${value.median.toFixed(digits)} (${value.min.toFixed(digits)}–${value.max.toFixed(digits)})`;
}

/** Rows of cells as aligned columns: the first left-aligned, the others right-aligned. */
function columns(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, index) => Math.max(...rows.map((row) => (row[index] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, index) => pad(cell, widths[index] ?? 0, index > 0)).join('  ').trimEnd());
}

export function formatTable(outcomes: readonly SystemOutcome[], summaries: ReadonlyMap<string, SystemSummary>): string {
  const rows: string[][] = [['system', 'req/s median (min–max)', 'p50 ms', 'p99 ms (min–max)', 'CPU µs/req', 'Redis µs/req', 'expected']];
  const skipped: string[] = [];
  for (const outcome of outcomes) {
    const summary = summaries.get(outcome.name);
    if (!summary) {
      skipped.push(`${outcome.name}: skipped: ${outcome.skipped ?? 'no rounds'}`);
      continue;
    }
    const cpu = summary.cpuMsPerRequest;
    rows.push([
      outcome.name,
      formatSpread(summary.requestsPerSecond, 0),
      summary.latencyP50Ms.median.toFixed(0),
      formatSpread(summary.latencyP99Ms, 0),
      cpu === null ? '—' : (cpu.median * 1000).toFixed(0),
      summary.redis === null ? '—' : summary.redis.usPerRequest.median.toFixed(1),
      `${(summary.expectedShare * 100).toFixed(1)}% ${outcome.expectedStatus}`,
    ]);
  }
  const [header = '', ...body] = columns(rows);
  return [header, '-'.repeat(header.length), ...body, ...skipped].join('\n');
}

/** The ratios whose two sides were measured (the JSON keeps the others, as null). */
export function formatRatios(ratios: readonly Ratio[]): string {
  const measured = ratios.filter((ratio) => ratio.value !== null);
  const width = Math.max(0, ...measured.map((ratio) => ratio.name.length));
  return measured
    .map((ratio) => {
      const paired =
        ratio.pairedMedian === null
          ? ''
          : ` (per-round median ${ratio.pairedMedian.toFixed(2)}×, ${ratio.pairedMin?.toFixed(2)}–${ratio.pairedMax?.toFixed(2)})`;
      const value = `${ratio.value?.toFixed(2)}×${paired}`;
      const target = ratio.target === null ? '' : ` target ≥ ${ratio.target}× → ${ratio.met === null ? 'n/a' : ratio.met ? 'met' : 'NOT met'}`;
      const cpu = ratio.byCpu === null ? '' : `; by CPU per request ${ratio.byCpu.toFixed(2)}×`;
      return `${pad(ratio.name, width)}  ${value}${target}${cpu}`;
    })
    .join('\n');
}

export function formatPropagation(result: PropagationResult | null, skipped: string | null): string {
  if (result === null) return `propagation: skipped: ${skipped ?? 'not measured'}`;
  const verdict = result.overOneSecond === 0 && result.p99Ms < 50 ? 'met' : 'NOT met';
  return (
    `propagation (${result.changes} changes, ${result.gateways} gateways, time from REST return until every gateway enforces): ` +
    `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, max ${result.maxMs.toFixed(2)} ms, ` +
    `over 1 s ${result.overOneSecond} (timed out ${result.timedOut}); target p99 < 50 ms and none over 1 s → ${verdict}`
  );
}

/** Median CPU per request with logging off / with logging on, or null when not measured. */
export function requestLogCpuRatio(summaries: ReadonlyMap<string, SystemSummary>): number | null {
  const off = summaries.get('gateway-admitted-nolog')?.cpuMsPerRequest;
  const on = summaries.get('gateway-admitted')?.cpuMsPerRequest;
  return off && on && on.median > 0 ? off.median / on.median : null;
}

/** The capacity ratio from CPU time of logging on against logging off (target ≥ 0.9×). */
export function formatRequestLogCpu(summaries: ReadonlyMap<string, SystemSummary>): string | null {
  const ratio = requestLogCpuRatio(summaries);
  return ratio === null ? null : `capacity ratio from CPU time (gateway-admitted-nolog CPU / gateway-admitted CPU): ${ratio.toFixed(2)}× (target ≥ 0.9×)`;
}

export function formatLag(result: LagResult | { skipped: string }): string {
  if ('skipped' in result) return `request-log lag: skipped: ${result.skipped}`;
  const last = result.lastRowAfterLoadMs === null ? 'never (within the deadline)' : `${result.lastRowAfterLoadMs} ms`;
  const once = result.exactlyOnce ? 'every request exactly once' : `NOT exactly once: ${result.lost} lost, ${result.doubled} doubled, ${result.extra} extra`;
  return (
    `request-log lag (${result.ratePerSecond} req/s for ${result.durationSeconds} s, writer running, PostgreSQL polled every ${result.pollMs} ms; ` +
    `poll time − newest visible event time): p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms over ${result.samples} polls; ` +
    `last row visible ${last} after the load stopped; ${result.answered} answered, ${result.rows} rows → ${once}`
  );
}

export interface BenchReport {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly node: string;
  readonly cpuModel: string;
  readonly cpuCount: number;
  readonly placement: string;
  /** os.loadavg() at the start and the end: above the CPU count, other work competed. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly settings: Record<string, unknown>;
  readonly systems: ReadonlyArray<SystemOutcome & { summary: SystemSummary | null }>;
  readonly ratios: readonly Ratio[];
  readonly propagation: PropagationResult | { skipped: string };
  readonly requestLogLag: LagResult | { skipped: string };
  /** gateway-admitted-nolog CPU per request / gateway-admitted CPU per request (medians). */
  readonly requestLogCpuRatio: number | null;
  /** The aim for Redis CPU per admitted request, and Redis's CPU per second when idle. */
  readonly redis: {
    readonly aimUsPerAdmittedRequest: number;
    readonly backgroundMsPerSecond: number | null;
    /** The limiter script's cost by call shape (checks and keys per call), measured after the rounds. */
    readonly scriptCost: ScriptCost | { readonly skipped: string };
  };
  readonly gatewayMetrics: GatewayMetrics | null;
  readonly notes: readonly string[];
}

export function machineFacts(): { node: string; cpuModel: string; cpuCount: number } {
  const list = cpus();
  return { node: process.version, cpuModel: list[0]?.model ?? 'unknown', cpuCount: list.length };
}

/** Writes bench/results/<timestamp>.json and the chart beside it as <timestamp>.svg; returns both paths. */
export function writeReport(dir: string, report: BenchReport, chartSvg: string): { json: string; chart: string } {
  mkdirSync(dir, { recursive: true });
  const stem = resolve(dir, report.startedAt.replace(/[:.]/g, '-'));
  writeFileSync(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${stem}.svg`, chartSvg);
  return { json: `${stem}.json`, chart: `${stem}.svg` };
}
