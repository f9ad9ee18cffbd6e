// `node dist/bench/micro/cpu-per-request.js` (after `npm run build`): the bare undici proxy and the
// gateway (admitted, and 429 unless MICRO_SKIP_429=1) under the bench's load, rounds interleaved,
// reporting req/s, the CPU time the system under test spent per request (utime + stime of all
// its threads from /proc/<pid>/stat) and the CPU time Redis spent per request (INFO cpu). On a busy machine req/s swings with the neighbours; CPU per
// request mostly does not, so it is the figure to compare before and after a hot-path change.
// MICRO_ROUNDS (default 3) and BENCH_DURATION (seconds per round) set the length. MICRO_BASE_GATEWAY
// (the main.js of another build, e.g. of the previous commit) adds that gateway's admitted path to the
// same interleaved rounds: an A/B comparison that shares the machine's noise.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadavg } from 'node:os';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/index.js';
import { readBenchConfig } from '../config.js';
import { processCpuMs } from '../process-cpu.js';
import { runRound } from '../load.js';
import { startOwnRedis } from '../own-redis.js';
import { decidePlacement, pin } from '../placement.js';
import { forkChild, siblingModule } from '../processes.js';
import { prepareDatabase, startControlPlane, startGateway, waitForStatus } from '../tollgate-stack.js';
import { deleteKeysWithPrefix } from '../redis-cleanup.js';

/** utime + stime of every thread of `pid`, in ms (the process is ours and running). */
function cpuMs(pid: number): number {
  return processCpuMs(pid) ?? Number.NaN;
}

interface Target {
  readonly name: string;
  readonly pid: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly expected: number;
  readonly samples: { rps: number; cpuUsPerRequest: number; cpuShare: number; redisUsPerRequest: number }[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

interface CommandStats {
  /** EVALSHA + EVAL calls: with the key set of the 429 path cached, only admitted checks reach Redis. */
  readonly scriptCalls: number;
  /** Microseconds Redis spent inside those calls. */
  readonly scriptUsec: number;
  /** The same for XADD (request-event batches). */
  readonly xaddCalls: number;
  readonly xaddUsec: number;
}

/** Counters of INFO commandstats. */
async function commandStats(url: string): Promise<CommandStats> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const info = await client.info('commandstats');
    const sum = (pattern: RegExp): [number, number] => {
      let calls = 0;
      let usec = 0;
      for (const match of info.matchAll(pattern)) {
        calls += Number(match[1]);
        usec += Number(match[2]);
      }
      return [calls, usec];
    };
    const [scriptCalls, scriptUsec] = sum(/^cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/gm);
    const [xaddCalls, xaddUsec] = sum(/^cmdstat_xadd:calls=(\d+),usec=(\d+)/gm);
    return { scriptCalls, scriptUsec, xaddCalls, xaddUsec };
  } finally {
    client.disconnect();
  }
}

/** CPU seconds Redis has used (INFO cpu: used_cpu_user + used_cpu_sys), all its threads. */
async function redisCpuMs(url: string): Promise<number> {
  const client = new Redis(url, { lazyConnect: true });
  try {
    await client.connect();
    const info = await client.info('cpu');
    const field = (name: string): number => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  } finally {
    client.disconnect();
  }
}

/** tollgate_gateway_store_errors_total of a gateway (limiter calls failed or timed out). */
async function storeErrors(opsUrl: string): Promise<number> {
  const text = await (await fetch(`${opsUrl}/metrics`)).text();
  const match = /^tollgate_gateway_store_errors_total (\S+)$/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function main(): Promise<void> {
  const config = readBenchConfig();
  const rounds = Number(process.env.MICRO_ROUNDS ?? 3);
  const placement = decidePlacement(config.pin);
  pin(process.pid, placement.loadCpu);
  const ownRedis = config.ownRedis ? await startOwnRedis(placement.serviceCpu, config.ownRedisNice) : null;
  const settings = {
    redisUrl: ownRedis?.url ?? config.redisUrl,
    redisPrefix: `bench-micro-${randomBytes(3).toString('hex')}`,
    postgresAdminUrl: config.postgresAdminUrl,
    benchDatabase: config.benchDatabase,
  };
  const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, placement.upstreamCpu);
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const proxy = await forkChild('undici-proxy', siblingModule('children/undici-proxy'), { BENCH_UPSTREAM_URL: upstreamUrl }, placement.systemCpu, { nodeArgs: GATEWAY_NODE_FLAGS });
  const controlPlane = await startControlPlane(settings, await prepareDatabase(settings), randomBytes(24).toString('hex'));
  const gateway = await startGateway(settings, upstreamUrl, placement.systemCpu);
  const baseMain = process.env.MICRO_BASE_GATEWAY;
  const baseGateway = baseMain ? await startGateway(settings, upstreamUrl, placement.systemCpu, { main: baseMain }) : null;
  const gatewayDenied = process.env.MICRO_SKIP_429 === '1' ? null : await startGateway(settings, upstreamUrl, placement.systemCpu);
  try {
    await controlPlane.admin.createTier('micro-open', [{ window: '1m', limit: 1_000_000_000 }]);
    await controlPlane.admin.createTier('micro-exhausted', [{ window: '1d', limit: 1 }]);
    const open = await controlPlane.admin.createKey('micro-open', 'micro-open');
    const exhausted = await controlPlane.admin.createKey('micro-exhausted', 'micro-exhausted');
    await waitForStatus(`${gateway.url}/`, open.secret, 200);
    if (gatewayDenied) await waitForStatus(`${gatewayDenied.url}/`, exhausted.secret, 429);
    await controlPlane.process.stop();
    const targets: Target[] = [
      { name: 'undici-proxy', pid: proxy.child.pid ?? 0, url: `http://127.0.0.1:${proxy.port}/`, headers: { 'x-api-key': 'micro' }, expected: 200, samples: [] },
      { name: 'gateway-admitted', pid: gateway.process.child.pid ?? 0, url: `${gateway.url}/`, headers: { 'x-api-key': open.secret }, expected: 200, samples: [] },
    ];
    if (baseGateway) {
      await waitForStatus(`${baseGateway.url}/`, open.secret, 200);
      targets.push({ name: 'base-admitted', pid: baseGateway.process.child.pid ?? 0, url: `${baseGateway.url}/`, headers: { 'x-api-key': open.secret }, expected: 200, samples: [] });
    }
    if (gatewayDenied) {
      targets.push({ name: 'gateway-429', pid: gatewayDenied.process.child.pid ?? 0, url: `${gatewayDenied.url}/`, headers: { 'x-api-key': exhausted.secret }, expected: 429, samples: [] });
    }
    const load = { connections: config.connections, durationSeconds: config.durationSeconds };
    for (const target of targets) await runRound(target.url, target.headers, target.expected, { ...load, durationSeconds: Math.max(1, config.warmupSeconds) });
    const statsBefore = await commandStats(settings.redisUrl);
    let gatewayResponses = 0;
    for (let round = 0; round < rounds; round += 1) {
      for (const target of targets) {
        const redisBefore = await redisCpuMs(settings.redisUrl);
        const callsBefore = (await commandStats(settings.redisUrl)).scriptCalls;
        const before = cpuMs(target.pid);
        const started = performance.now();
        const result = await runRound(target.url, target.headers, target.expected, load);
        const elapsedMs = performance.now() - started;
        const spentMs = cpuMs(target.pid) - before;
        const redisSpentMs = (await redisCpuMs(settings.redisUrl)) - redisBefore;
        const roundCalls = (await commandStats(settings.redisUrl)).scriptCalls - callsBefore;
        const perRequest = (ms: number): number => (ms * 1000) / Math.max(1, result.responses);
        const sample = { rps: result.requestsPerSecond, cpuUsPerRequest: perRequest(spentMs), cpuShare: spentMs / elapsedMs, redisUsPerRequest: perRequest(redisSpentMs) };
        target.samples.push(sample);
        if (target.expected === 200 && target.name !== 'undici-proxy') gatewayResponses += result.responses;
        const bad = result.responses - result.expectedResponses + result.errors;
        console.log(`round ${round + 1} ${target.name}: ${sample.rps.toFixed(0)} req/s, ${sample.cpuUsPerRequest.toFixed(1)} µs CPU/request, CPU ${(sample.cpuShare * 100).toFixed(0)}%, Redis ${sample.redisUsPerRequest.toFixed(1)} µs/request${roundCalls > 0 ? `, ${(result.responses / roundCalls).toFixed(1)} checks per script call` : ''}${bad > 0 ? `, ${bad} unexpected` : ''}, load ${loadavg()[0]?.toFixed(1)}`);
      }
    }
    const statsAfter = await commandStats(settings.redisUrl);
    const calls = statsAfter.scriptCalls - statsBefore.scriptCalls;
    const perGatewayRequest = (usec: number): string => (usec / Math.max(1, gatewayResponses)).toFixed(1);
    console.log(`\nlimiter script calls (EVALSHA + EVAL): ${calls} for ${gatewayResponses} admitted gateway requests (${(gatewayResponses / Math.max(1, calls)).toFixed(1)} checks per call)`);
    console.log(
      `Redis time inside commands per admitted gateway request: script ${perGatewayRequest(statsAfter.scriptUsec - statsBefore.scriptUsec)} µs, ` +
        `XADD ${perGatewayRequest(statsAfter.xaddUsec - statsBefore.xaddUsec)} µs (${statsAfter.xaddCalls - statsBefore.xaddCalls} batches)`,
    );
    console.log(`store errors (timed out or failed limiter calls): gateway-admitted ${await storeErrors(gateway.opsUrl)}${baseGateway ? `, base-admitted ${await storeErrors(baseGateway.opsUrl)}` : ''}`);
    console.log('\nmedians:');
    for (const target of targets) {
      console.log(`${target.name.padEnd(18)} ${median(target.samples.map((s) => s.rps)).toFixed(0).padStart(7)} req/s  ${median(target.samples.map((s) => s.cpuUsPerRequest)).toFixed(1).padStart(6)} µs CPU/request  Redis ${median(target.samples.map((s) => s.redisUsPerRequest)).toFixed(1).padStart(5)} µs/request`);
    }
  } finally {
    await gateway.process.stop();
    await gatewayDenied?.process.stop();
    await baseGateway?.process.stop();
    await controlPlane.process.stop();
    await proxy.stop();
    await upstream.stop();
    // The run's keys (request-event stream, limiter windows, projection) go with it.
    if (ownRedis) await ownRedis.stop();
    else await deleteKeysWithPrefix(settings.redisUrl, settings.redisPrefix);
  }
}

main().catch((error: unknown) => {
  console.error('micro bench failed:', error);
  // Children started before the failure would keep the process alive.
  process.exit(1);
});
