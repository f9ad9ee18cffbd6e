// `npm run bench:keys`: how the gateway scales with the number of keys (bench/README.md "Key scale").
// Creates keys in bulk through POST /v1/keys/batch, then for each fleet size starts that many
// gateways together and measures their time to ready, their memory per key, and how long a key
// change takes to be enforced by every one of them. Prints a table and writes
// bench/results/key-scale-<timestamp>.json.
//   npm run bench:keys                                 100k keys, 2 gateways, 100 changes
//   npm run bench:keys -- --keys=1000000 --gateways=2,6
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { META_EPOCH_FIELD, META_VERSION_FIELD } from '../contracts/feed.js';
import { projectionKeys } from '../contracts/redis-keys.js';
import type { KeyTableMemoryMessage } from './children/key-table-memory.js';
import { readBenchConfig } from './config.js';
import { readGatewayMemory, type GatewayMemory } from './gateway-memory.js';
import { createKeysInBulk } from './key-batches.js';
import { parseKeyScaleOptions, type KeyScaleOptions } from './key-scale-options.js';
import { startOwnRedis } from './own-redis.js';
import { resultsDir } from './paths.js';
import { forkChild, siblingModule, type RunningProcess } from './processes.js';
import { measurePropagation, type PropagationResult } from './propagation.js';
import { deleteKeysWithPrefix } from './redis-cleanup.js';
import { machineFacts } from './report.js';
import { median } from './stats.js';
import { prepareDatabase, startControlPlane, startGateway, waitForStatus, type GatewayProcess, type StackSettings } from './tollgate-stack.js';

const TIER = 'bench-keys';
/** After ready, before memory is read: the load's garbage has a moment to be collected. */
const SETTLE_MS = 3_000;
/**
 * Requests every gateway answers before its memory is read: a gateway's young generation (64 MB
 * with the gateway's flags) becomes resident only once traffic has used it, and an idle empty
 * gateway would otherwise make every loaded one look 600 bytes a key heavier at 100k keys.
 */
const WARM_UP_REQUESTS = 20_000;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

interface FleetResult {
  readonly gateways: number;
  /** Seconds from spawn to /readyz 200 (polled every 0.1 s), per gateway. */
  readonly readySeconds: number[];
  readonly memory: GatewayMemory[];
  /** (RSS or heap of each gateway − the empty gateway's) / keys, then the median over gateways. */
  readonly rssBytesPerKey: number;
  readonly heapBytesPerKey: number;
  readonly propagation: PropagationResult;
}

async function startFleet(settings: StackSettings, upstreamUrl: string, count: number): Promise<{ gateways: GatewayProcess[]; readySeconds: number[] }> {
  const started = performance.now();
  const readySeconds: number[] = [];
  const gateways = await Promise.all(
    Array.from({ length: count }, async () => {
      const gateway = await startGateway(settings, upstreamUrl, '', { timeoutMs: 120_000 });
      readySeconds.push((performance.now() - started) / 1000);
      return gateway;
    }),
  );
  return { gateways, readySeconds: readySeconds.sort((a, b) => a - b) };
}

/** Unknown-key requests (401s) to the quota endpoint: traffic without keys or upstream calls. */
async function warmUp(url: string): Promise<void> {
  const pool = new Pool(url, { connections: 8 });
  try {
    let sent = 0;
    const worker = async (): Promise<void> => {
      while (sent < WARM_UP_REQUESTS) {
        sent += 1;
        const { body } = await pool.request({ path: '/_gateway/quota', method: 'GET', headers: { 'x-api-key': 'tg_not_a_key_of_this_bench' } });
        await body.dump();
      }
    };
    await Promise.all(Array.from({ length: 8 }, () => worker()));
  } finally {
    await pool.close();
  }
}

async function memoryAfterTraffic(gateways: readonly GatewayProcess[]): Promise<GatewayMemory[]> {
  for (const gateway of gateways) await warmUp(gateway.url);
  await new Promise((done) => setTimeout(done, SETTLE_MS));
  return Promise.all(gateways.map((gateway) => readGatewayMemory(gateway.opsUrl)));
}

interface TableHeap {
  /** Heap of a ready gateway with the keys − one on an empty projection, per key, garbage collected. */
  readonly heapBytesPerKey: number;
  readonly loadMs: number;
  readonly loadCpuMs: number;
}

/** The key table's exact heap per key: one gateway alone on an empty projection, then on the keys. */
async function tableHeap(settings: StackSettings, upstreamUrl: string, keys: number): Promise<TableHeap> {
  const emptyPrefix = `${settings.redisPrefix}-empty`;
  const redis = new Redis(settings.redisUrl);
  try {
    await redis.hset(projectionKeys(emptyPrefix).meta, META_EPOCH_FIELD, 'empty', META_VERSION_FIELD, '0');
    const empty = await gatewayHeap(settings, emptyPrefix, upstreamUrl);
    const full = await gatewayHeap(settings, settings.redisPrefix, upstreamUrl);
    return { heapBytesPerKey: (full.heapBytes - empty.heapBytes) / keys, loadMs: full.loadMs, loadCpuMs: full.loadCpuMs };
  } finally {
    await redis.del(projectionKeys(emptyPrefix).meta);
    redis.disconnect();
  }
}

async function stopAll(gateways: readonly GatewayProcess[]): Promise<void> {
  await Promise.all(gateways.map((gateway) => gateway.process.stop()));
}

function gatewayHeap(settings: StackSettings, prefix: string, upstreamUrl: string): Promise<KeyTableMemoryMessage> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(siblingModule('children/key-table-memory'), [], {
      env: { ...process.env, REDIS_URL: settings.redisUrl, REDIS_KEY_PREFIX: prefix, GATEWAY_UPSTREAM: upstreamUrl },
      execArgv: [...process.execArgv, '--expose-gc'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.once('message', (message: KeyTableMemoryMessage) => resolvePromise(message));
    child.once('exit', (code) => reject(new Error(`the key-table memory child exited with code ${code} before reporting`)));
  });
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
const ms = (value: number): string => value.toFixed(1);

function printReport(options: KeyScaleOptions, baseline: GatewayMemory, created: { keys: number; seconds: number }, table: TableHeap, fleets: readonly FleetResult[]): void {
  const lines = [
    '',
    `key scale: ${created.keys} keys (created in ${created.seconds.toFixed(1)} s through POST /v1/keys/batch, ${(created.keys / created.seconds).toFixed(0)} keys/s)`,
    `empty gateway after ${WARM_UP_REQUESTS} requests: RSS ${mb(baseline.rssBytes)} MB, heap ${mb(baseline.heapUsedBytes)} MB (every gateway is measured after the same requests)`,
    `one gateway alone, garbage collected: its key table takes ${table.heapBytesPerKey.toFixed(0)} bytes of heap per key; keys loaded ${(table.loadMs / 1000).toFixed(2)} s after start, modules already loaded (${(table.loadCpuMs / 1000).toFixed(2)} s of CPU)`,
    '',
    '| gateways | ready (s) median / max | RSS per key (B) | heap per key (B) | propagation p50 / p99 / max (ms) | late (> 1 s) |',
    '|---|---|---|---|---|---|',
    ...fleets.map(
      (fleet) =>
        `| ${fleet.gateways} | ${median(fleet.readySeconds).toFixed(1)} / ${Math.max(...fleet.readySeconds).toFixed(1)} | ${fleet.rssBytesPerKey.toFixed(0)} | ${fleet.heapBytesPerKey.toFixed(0)} | ` +
        `${ms(fleet.propagation.p50Ms)} / ${ms(fleet.propagation.p99Ms)} / ${ms(fleet.propagation.maxMs)} | ${fleet.propagation.overOneSecond} of ${fleet.propagation.changes} |`,
    ),
    '',
    `aims: propagation p99 < ${options.keys >= 1_000_000 ? 50 : 20} ms to 2 gateways, ≤ 400 bytes per key, ready < 5 s at 1M keys`,
    `load average (1 min) at the end: ${loadavg()[0]?.toFixed(1)} on ${machineFacts().cpuCount} CPUs`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const options = parseKeyScaleOptions(process.argv.slice(2), process.env);
  const config = readBenchConfig();
  const startedAt = new Date().toISOString();
  const loadAtStart = loadavg();
  const running: RunningProcess[] = [];
  let gateways: GatewayProcess[] = [];
  const ownRedis = config.ownRedis ? await startOwnRedis() : null;
  const settings: StackSettings = {
    redisUrl: ownRedis?.url ?? config.redisUrl,
    redisPrefix: `bench-keys-${Date.now()}-${randomBytes(3).toString('hex')}`,
    postgresAdminUrl: config.postgresAdminUrl,
    benchDatabase: options.database,
  };
  try {
    log(`key scale: ${options.keys} keys, fleets of ${options.fleets.join(' and ')} gateways, ${options.changes} changes each`);
    const databaseUrl = await prepareDatabase(settings);
    const controlPlane = await startControlPlane(settings, databaseUrl, randomBytes(24).toString('hex'));
    running.push(controlPlane.process);
    const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, '');
    running.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    await controlPlane.admin.createTier(TIER, [{ window: '1m', limit: 1_000_000_000 }]);

    log('key scale: an empty gateway, for the memory baseline');
    const empty = await startFleet(settings, upstreamUrl, 1);
    const [baseline] = (await memoryAfterTraffic(empty.gateways)) as [GatewayMemory];
    await stopAll(empty.gateways);

    const created = await createKeysInBulk(controlPlane.admin, TIER, options.keys, (count) => log(`key scale: ${count} keys created`));
    log('key scale: one gateway alone, on an empty projection and on the keys, garbage collected');
    const table = await tableHeap(settings, upstreamUrl, created.keys);

    const fleets: FleetResult[] = [];
    for (const count of options.fleets) {
      log(`key scale: starting ${count} gateways together`);
      const fleet = await startFleet(settings, upstreamUrl, count);
      gateways = fleet.gateways;
      for (const gateway of gateways) await waitForStatus(`${gateway.url}/`, created.probe.secret, 200, 30_000);
      log(`key scale: ${options.changes} key changes to ${count} gateways`);
      const propagation = await measurePropagation(controlPlane.admin, gateways.map((gateway) => gateway.url), created.probe, options.changes);
      const memory = await memoryAfterTraffic(gateways);
      fleets.push({
        gateways: count,
        readySeconds: fleet.readySeconds,
        memory,
        rssBytesPerKey: median(memory.map((item) => (item.rssBytes - baseline.rssBytes) / created.keys)),
        heapBytesPerKey: median(memory.map((item) => (item.heapUsedBytes - baseline.heapUsedBytes) / created.keys)),
        propagation,
      });
      await stopAll(gateways);
      gateways = [];
    }

    printReport(options, baseline, created, table, fleets);
    mkdirSync(resultsDir, { recursive: true });
    const path = resolve(resultsDir, `key-scale-${startedAt.replace(/[:.]/g, '-')}.json`);
    const report = { startedAt, options, machine: machineFacts(), loadAverage: { start: loadAtStart, end: loadavg() }, baseline, created, table, fleets };
    writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    log(`key scale: written ${path}`);
  } finally {
    await stopAll(gateways);
    for (const item of running.reverse()) await item.stop();
    if (ownRedis) await ownRedis.stop();
    else await deleteKeysWithPrefix(settings.redisUrl, settings.redisPrefix);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`key scale failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
