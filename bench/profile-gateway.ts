// `node dist/bench/profile-gateway.js` (after `npm run build`): runs the gateway under
// `node --cpu-prof` with the bench's upstream and load, on the admitted path (or the 429 path with
// BENCH_PROFILE_PATH=429), then prints the self time by area and the top functions. The raw
// .cpuprofile is kept (open it in Chrome DevTools or speedscope) and a text summary is written to
// bench/results/profile-<path>-<timestamp>.txt.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readBenchConfig } from './config.js';
import { formatProfile, summariseProfile } from './cpu-profile.js';
import { runRound } from './load.js';
import { startOwnRedis } from './own-redis.js';
import { resultsDir } from './paths.js';
import { deleteKeysWithPrefix } from './redis-cleanup.js';
import { decidePlacement, pin } from './placement.js';
import { forkChild, siblingModule } from './processes.js';
import { describeError } from './systems.js';
import { prepareDatabase, stackMissingReason, startControlPlane, startGateway, waitForStatus } from './tollgate-stack.js';

async function main(): Promise<void> {
  const missing = stackMissingReason();
  if (missing !== null) throw new Error(missing);
  const config = readBenchConfig();
  const path = process.env.BENCH_PROFILE_PATH === '429' ? '429' : 'admitted';
  const placement = decidePlacement(config.pin);
  pin(process.pid, placement.loadCpu);
  const ownRedis = config.ownRedis ? await startOwnRedis(placement.serviceCpu, config.ownRedisNice) : null;
  const settings = {
    redisUrl: ownRedis?.url ?? config.redisUrl,
    redisPrefix: `bench-profile-${randomBytes(3).toString('hex')}`,
    postgresAdminUrl: config.postgresAdminUrl,
    benchDatabase: config.benchDatabase,
  };
  const profileDir = mkdtempSync(join(tmpdir(), 'tollgate-gateway-profile-'));

  const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, placement.upstreamCpu);
  const controlPlane = await startControlPlane(settings, await prepareDatabase(settings), randomBytes(24).toString('hex'));
  const gateway = await startGateway(settings, `http://127.0.0.1:${upstream.port}`, placement.systemCpu, {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  try {
    const tier = path === '429' ? { name: 'profile-exhausted', limits: [{ window: '1d', limit: 1 }] } : { name: 'profile-open', limits: [{ window: '1m', limit: 1_000_000_000 }] };
    await controlPlane.admin.createTier(tier.name, tier.limits);
    const key = await controlPlane.admin.createKey('profile', tier.name);
    await waitForStatus(`${gateway.url}/`, key.secret, path === '429' ? 429 : 200);
    await controlPlane.process.stop();
    const headers = { 'x-api-key': key.secret };
    const expected = path === '429' ? 429 : 200;
    const round = await runRound(`${gateway.url}/`, headers, expected, { connections: config.connections, durationSeconds: config.durationSeconds });
    console.log(`${path} path under profiling: ${round.requestsPerSecond.toFixed(0)} req/s, p50 ${round.latencyP50Ms} ms, p99 ${round.latencyP99Ms} ms (profiling slows it down)`);
  } finally {
    await gateway.process.stop();
    await controlPlane.process.stop();
    await upstream.stop();
    // The run's keys (request-event stream, limiter windows, projection) go with it.
    if (ownRedis) await ownRedis.stop();
    else await deleteKeysWithPrefix(settings.redisUrl, settings.redisPrefix);
  }

  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`the gateway wrote no profile in ${profileDir} (did it exit cleanly on SIGTERM?)`);
  const text = formatProfile(summariseProfile(join(profileDir, file)));
  console.log(`\n${text}\n\nprofile: ${join(profileDir, file)}`);
  const summaryPath = resolve(resultsDir, `profile-${path}-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
  writeFileSync(summaryPath, `${text}\n`);
  console.log(`wrote ${summaryPath}`);
}

main().catch((error: unknown) => {
  console.error(`profile failed: ${describeError(error)}`);
  process.exitCode = 1;
});
