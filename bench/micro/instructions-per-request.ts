// `node dist/bench/micro/instructions-per-request.js` (after `npm run build`): the machine
// instructions the bare undici proxy and the gateway's admitted path run per request, counted by
// valgrind's callgrind. Each runs under callgrind with instrumentation off (a few times faster than
// with it) for a warm-up, so the JIT settles; instrumentation is then switched on for a fixed number
// of requests and the count dumped. Req/s and CPU time move with the machine's neighbours by ±5–40%
// here; an instruction count does not, so it resolves hot-path changes of a few percent. Kernel
// time is not in it (the syscalls per request are the same for both: one read and one write each way).
// Settings: MICRO_REQUESTS (default 4000); MICRO_WARMUP_REQUESTS (default 10000: fewer leave the JIT
// unsettled and the count up to 1.5× higher); MICRO_BASE_GATEWAY (another build's gateway main.js,
// for an A/B comparison); MICRO_SKIP_PROXY=1 (gateways only); MICRO_KEEP_DUMPS=1 (keep the
// callgrind files for callgrind_annotate).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startOwnRedis } from '../own-redis.js';
import { forkChild, siblingModule, type RunningProcess } from '../processes.js';
import { GATEWAY_NODE_FLAGS } from '../../gateway/src/index.js';
import { positiveInteger, readBenchConfig } from '../config.js';
import { prepareDatabase, startControlPlane, startGateway, waitForStatus } from '../tollgate-stack.js';

/** Few connections: under instrumentation every request is ~50× slower, and the count is per request. */
const CONNECTIONS = 10;
const START_TIMEOUT_MS = 180_000;

interface Count {
  /** Every thread: the event loop, V8's compiler and GC helpers, libuv's pool. */
  readonly total: number;
  /** The event loop's thread alone: the request's own work, without background compilation. */
  readonly main: number;
}

interface Measured {
  readonly name: string;
  readonly requests: number;
  readonly instructions: Count;
}

/** Sends exactly `amount` requests and checks every answer had the expected status. */
async function send(url: string, headers: Record<string, string>, amount: number): Promise<void> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, pipelining: 1, amount, timeout: 60 });
  const ok = result['2xx'];
  if (ok !== amount || result.errors > 0) {
    throw new Error(`${url}: ${ok} of ${amount} requests answered 2xx, ${result.errors} errors`);
  }
}

/** Instruction counts (callgrind's `totals:` line, event Ir) of the newest dump of `pid`. */
function dumpedInstructions(dir: string, pid: number): Count {
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
  // With --separate-threads, dump n is callgrind.<pid>.<n>-<thread>, thread 01 the main one.
  const dumps = readdirSync(dir).filter((name) => name.startsWith(`callgrind.${pid}.`));
  const part = (name: string): number => Number(name.slice(`callgrind.${pid}.`.length).split('-')[0]);
  const newest = Math.max(...dumps.map(part));
  if (!Number.isFinite(newest)) throw new Error(`callgrind wrote no dump for pid ${pid} in ${dir}`);
  let total = 0;
  let main = 0;
  for (const name of dumps.filter((file) => part(file) === newest)) {
    const match = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(dir, name), 'utf8'));
    if (match === null) throw new Error(`no totals line in ${name}`);
    total += Number(match[1]);
    if (name.endsWith('-01')) main = Number(match[1]);
  }
  return { total, main };
}

async function measure(
  name: string,
  process: RunningProcess,
  url: string,
  headers: Record<string, string>,
  dir: string,
  warmup: number,
  requests: number,
): Promise<Measured> {
  const pid = process.child.pid ?? 0;
  await send(url, headers, warmup);
  // A dump right after switching on resets the counters, so the next dump holds only the requests.
  execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
  dumpedInstructions(dir, pid);
  await send(url, headers, requests);
  const instructions = dumpedInstructions(dir, pid);
  const perRequest = (count: number): string => (count / requests / 1000).toFixed(1).padStart(7);
  console.log(`${name.padEnd(18)} ${perRequest(instructions.total)} k instructions per request, ${perRequest(instructions.main)} k on the event loop's thread (${requests} requests)`);
  return { name, requests, instructions };
}

async function main(): Promise<void> {
  const config = readBenchConfig();
  const requests = positiveInteger(process.env, 'MICRO_REQUESTS', 4000, 100);
  const warmup = positiveInteger(process.env, 'MICRO_WARMUP_REQUESTS', 10_000, 100);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-callgrind-'));
  const wrapper = ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${dir}/callgrind.%p`];
  const redis = await startOwnRedis();
  const settings = {
    redisUrl: redis.url,
    redisPrefix: `bench-instr-${randomBytes(3).toString('hex')}`,
    postgresAdminUrl: config.postgresAdminUrl,
    benchDatabase: config.benchDatabase,
  };
  const running: RunningProcess[] = [];
  try {
    const upstream = await forkChild('upstream', siblingModule('children/upstream'), {}, '');
    running.push(upstream);
    const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
    const controlPlane = await startControlPlane(settings, await prepareDatabase(settings), randomBytes(24).toString('hex'));
    running.push(controlPlane.process);
    await controlPlane.admin.createTier('instr-open', [{ window: '1m', limit: 1_000_000_000 }]);
    const key = await controlPlane.admin.createKey('instr-open', 'instr-open');
    const results: Measured[] = [];

    if (process.env.MICRO_SKIP_PROXY !== '1') {
      const proxy = await forkChild('undici-proxy', siblingModule('children/undici-proxy'), { BENCH_UPSTREAM_URL: upstreamUrl }, '', { wrapper, timeoutMs: START_TIMEOUT_MS, nodeArgs: GATEWAY_NODE_FLAGS });
      running.push(proxy);
      results.push(await measure('undici-proxy', proxy, `http://127.0.0.1:${proxy.port}/`, { 'x-api-key': 'micro' }, dir, warmup, requests));
      await proxy.stop();
    }
    const builds: [string, string | undefined][] = [['gateway-admitted', undefined]];
    if (process.env.MICRO_BASE_GATEWAY) builds.push(['base-admitted', process.env.MICRO_BASE_GATEWAY]);
    for (const [name, main] of builds) {
      // Under callgrind a Redis round trip takes tens of ms: with the default limiter timeout (100 ms)
      // some checks would time out and fail open, and the count would include that path.
      const extraEnv = { GATEWAY_REDIS_TIMEOUT_MS: String(START_TIMEOUT_MS) };
      const gateway = await startGateway(settings, upstreamUrl, '', { main, wrapper, timeoutMs: START_TIMEOUT_MS, extraEnv });
      running.push(gateway.process);
      await waitForStatus(`${gateway.url}/`, key.secret, 200, START_TIMEOUT_MS);
      results.push(await measure(name, gateway.process, `${gateway.url}/`, { 'x-api-key': key.secret }, dir, warmup, requests));
      await gateway.process.stop();
    }
    const [first] = results;
    if (first !== undefined) {
      console.log('');
      for (const result of results.slice(1)) {
        const ratio = (of: keyof Count): string => (result.instructions[of] / result.requests / (first.instructions[of] / first.requests)).toFixed(3);
        console.log(`${result.name} / ${first.name}: ${ratio('total')}× (event loop's thread ${ratio('main')}×)`);
      }
    }
  } finally {
    await Promise.all(running.map((item) => item.stop()));
    await redis.stop();
    if (process.env.MICRO_KEEP_DUMPS === '1') console.log(`callgrind files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error('instruction count failed:', error);
  process.exit(1);
});
