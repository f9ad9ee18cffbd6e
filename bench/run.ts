// `npm run bench` (SPEC §9): the same autocannon load against the upstream alone, a bare undici
// proxy, a bare http-proxy-3 proxy, the fastify peer (admitted and 429), Tollgate's gateway (admitted
// and 429) and BENCH_TARGET; then the table, the ratios against the targets, change
// propagation, and bench/results/<timestamp>.json. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { readBenchConfig, type BenchConfig } from './config.js';
import { readGatewayMetrics, type GatewayMetrics } from './gateway-metrics.js';
import { runRound, type RoundResult } from './load.js';
import { resultsDir } from './paths.js';
import { decidePlacement, pin, type Placement } from './placement.js';
import { forkChild, siblingModule, type RunningProcess } from './processes.js';
import {
  computeRatios,
  formatPropagation,
  formatRatios,
  formatTable,
  machineFacts,
  summarise,
  writeReport,
  type SystemOutcome,
  type SystemSummary,
} from './report.js';
import { describeError, type SkippedSystem, type SystemUnderTest } from './systems.js';
import { setUpTollgate, type TollgateBench } from './tollgate-bench.js';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface ForkedSystem {
  readonly name: string;
  readonly description: string;
  readonly module: string;
  readonly env: Record<string, string>;
  readonly expectedStatus: number;
}

const PEER_KEY = 'bench-peer-key';

function forkedSystems(upstreamUrl: string, prefix: string, redisUrl: string): ForkedSystem[] {
  const peerEnv = { BENCH_UPSTREAM_URL: upstreamUrl, BENCH_REDIS_PREFIX: prefix, REDIS_URL: redisUrl };
  return [
    { name: 'direct', description: 'the upstream alone (its own instance, on the system-under-test core)', module: 'children/upstream', env: {}, expectedStatus: 200 },
    { name: 'undici-proxy', description: 'bare undici Pool.stream proxy', module: 'children/undici-proxy', env: { BENCH_UPSTREAM_URL: upstreamUrl }, expectedStatus: 200 },
    { name: 'http-proxy-3', description: 'bare http-proxy-3 proxy (node:http keep-alive agent)', module: 'children/http-proxy-3-proxy', env: { BENCH_UPSTREAM_URL: upstreamUrl }, expectedStatus: 200 },
    { name: 'fastify-peer', description: 'fastify + @fastify/http-proxy + @fastify/rate-limit (Redis store), limit 1e9/1m', module: 'children/fastify-peer', env: { ...peerEnv, BENCH_PEER_MAX: '1000000000' }, expectedStatus: 200 },
    { name: 'fastify-peer-429', description: 'the fastify peer with limit 1/1m: every request refused with 429', module: 'children/fastify-peer', env: { ...peerEnv, BENCH_PEER_MAX: '1', BENCH_REDIS_PREFIX: `${prefix}:429` }, expectedStatus: 429 },
  ];
}

async function measure(systems: readonly SystemUnderTest[], config: BenchConfig): Promise<Map<string, { warmup: RoundResult | null; rounds: RoundResult[] }>> {
  const results = new Map(systems.map((system) => [system.name, { warmup: null as RoundResult | null, rounds: [] as RoundResult[] }]));
  const load = (seconds: number) => ({ connections: config.connections, durationSeconds: seconds });
  if (config.warmupSeconds > 0) {
    for (const system of systems) {
      log(`warm-up ${system.name} (${config.warmupSeconds} s)`);
      const entry = results.get(system.name);
      if (entry) entry.warmup = await runRound(system.url, system.headers, system.expectedStatus, load(config.warmupSeconds));
    }
  }
  // Rounds are interleaved (round 1 of every system, then round 2…) so that a burst of noise from
  // other work on the machine spreads over all systems instead of sinking one.
  for (let round = 1; round <= config.rounds; round += 1) {
    for (const system of systems) {
      const result = await runRound(system.url, system.headers, system.expectedStatus, load(config.durationSeconds));
      results.get(system.name)?.rounds.push(result);
      log(`round ${round}/${config.rounds} ${system.name}: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms`);
    }
  }
  return results;
}

async function deleteKeysWithPrefix(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } catch (error) {
    log(`could not remove the bench's Redis keys (${prefix}*): ${describeError(error)}`);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const config = readBenchConfig();
  const placement: Placement = decidePlacement(config.pin);
  pin(process.pid, placement.loadCpu);
  const startedAt = new Date().toISOString();
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const wanted = (name: string): boolean => config.systems === null || config.systems.has(name);
  log(`bench: ${placement.description}`);

  const running: RunningProcess[] = [];
  let tollgate: TollgateBench | null = null;
  let cleanedUp = false;
  const cleanUp = async (): Promise<void> => {
    if (cleanedUp) return;
    cleanedUp = true;
    await tollgate?.stop();
    await Promise.all(running.map((item) => item.stop()));
    await deleteKeysWithPrefix(config.redisUrl, prefix);
  };
  process.once('SIGINT', () => {
    void cleanUp().finally(() => process.exit(130));
  });

  try {
    const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, placement.upstreamCpu);
    running.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;

    const systems: SystemUnderTest[] = [];
    const skipped: SkippedSystem[] = [];
    for (const item of forkedSystems(upstreamUrl, prefix, config.redisUrl)) {
      if (!wanted(item.name)) continue;
      try {
        const child = await forkChild(item.name, siblingModule(item.module), item.env, placement.systemCpu);
        running.push(child);
        systems.push({ name: item.name, description: item.description, url: `http://127.0.0.1:${child.port}/`, headers: { 'x-api-key': PEER_KEY }, expectedStatus: item.expectedStatus });
      } catch (error) {
        skipped.push({ name: item.name, description: item.description, expectedStatus: item.expectedStatus, skipped: describeError(error) });
      }
    }

    tollgate = await setUpTollgate(config, placement, { redisUrl: config.redisUrl, redisPrefix: prefix, postgresAdminUrl: config.postgresAdminUrl, benchDatabase: config.benchDatabase }, upstreamUrl, wanted, log);
    systems.push(...tollgate.systems);
    skipped.push(...tollgate.skipped);

    if (config.target !== null) {
      systems.push({
        name: 'target',
        description: `BENCH_TARGET ${config.target}`,
        url: config.target,
        headers: config.targetApiKey ? { 'x-api-key': config.targetApiKey } : {},
        expectedStatus: 200,
      });
    }

    const measured = await measure(systems, config);
    let gatewayMetrics: GatewayMetrics | null = null;
    if (tollgate.opsUrl !== null) {
      try {
        gatewayMetrics = await readGatewayMetrics(tollgate.opsUrl);
      } catch (error) {
        log(`could not read the gateway's metrics: ${describeError(error)}`);
      }
    }
    const outcomes: SystemOutcome[] = [
      ...systems.map((system) => ({
        name: system.name,
        description: system.description,
        expectedStatus: system.expectedStatus,
        skipped: null,
        rounds: measured.get(system.name)?.rounds ?? [],
        warmup: measured.get(system.name)?.warmup ?? null,
      })),
      ...skipped.map((system) => ({ ...system, rounds: [], warmup: null })),
    ];
    const summaries = new Map<string, SystemSummary>();
    for (const outcome of outcomes) {
      const summary = summarise(outcome);
      if (summary) summaries.set(outcome.name, summary);
    }
    const ratios = computeRatios(summaries);

    const facts = machineFacts();
    console.log(`\nTollgate bench — node ${facts.node}, ${facts.cpuCount} × ${facts.cpuModel}`);
    console.log(`${config.connections} connections, pipelining 1, ${config.rounds} rounds of ${config.durationSeconds} s after a ${config.warmupSeconds} s warm-up; medians (min–max)`);
    console.log(`placement: ${placement.description}\n`);
    console.log(formatTable(outcomes, summaries));
    console.log(`\n${formatRatios(ratios)}\n`);
    console.log(formatPropagation(tollgate.propagation, tollgate.propagationSkipped));

    const notes = [
      'Latencies come from autocannon’s histogram, which has a resolution of 1 ms.',
      'The machine may be shared with other work; compare systems within one run, not across runs.',
      config.keepControlPlane
        ? 'The control plane kept running during the load rounds (BENCH_KEEP_CONTROL_PLANE=1).'
        : 'The control plane was stopped after set-up so its request-log writer does not compete for CPU during the load rounds.',
    ];
    if (gatewayMetrics !== null) {
      notes.push(
        `gateway metrics over the run: ${gatewayMetrics.rateLimitChecks} rate-limit checks, mean ${gatewayMetrics.meanRateLimitCheckMs.toFixed(2)} ms, ` +
          `${gatewayMetrics.storeErrors} store errors${gatewayMetrics.storeErrors > 0 ? ' (Redis calls failed or exceeded GATEWAY_REDIS_TIMEOUT_MS, so those requests were failed open: the admitted figures include requests that skipped the Redis check)' : ''}.`,
      );
    }
    for (const [name, summary] of summaries) {
      if (summary.expectedShare < 0.99) notes.push(`${name}: only ${(summary.expectedShare * 100).toFixed(1)}% of responses had the expected status.`);
    }
    const path = writeReport(resultsDir, {
      startedAt,
      finishedAt: new Date().toISOString(),
      ...facts,
      placement: placement.description,
      settings: {
        connections: config.connections,
        pipelining: 1,
        durationSeconds: config.durationSeconds,
        warmupSeconds: config.warmupSeconds,
        rounds: config.rounds,
        target: config.target,
        propagationChanges: config.propagationChanges,
        keepControlPlane: config.keepControlPlane,
      },
      systems: outcomes.map((outcome) => ({ ...outcome, summary: summaries.get(outcome.name) ?? null })),
      ratios,
      propagation: tollgate.propagation ?? { skipped: tollgate.propagationSkipped ?? 'not measured' },
      gatewayMetrics,
      notes,
    }, config.systems === null);
    for (const note of notes.slice(3)) console.log(`note: ${note}`);
    console.log(`\nwrote ${path}${config.systems === null ? ' and latest.json' : ' (a partial run: latest.json kept)'}`);
  } finally {
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${describeError(error)}`);
  process.exitCode = 1;
});
