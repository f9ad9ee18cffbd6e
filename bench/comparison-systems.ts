// The systems Tollgate is compared with, each forked as a process of its own on the
// system-under-test core: the upstream alone, two bare proxies and the fastify peer (admitted and 429).
// Each runs with the gateway's Node flags (gateway/src/node-flags.ts: V8 heap sizes, no memory
// reducer): every system idles for minutes between its rounds, and with V8's defaults the first
// seconds after an idle spell go to shrunken-heap scavenges and recompiling, so the ratios would
// partly compare GC settings instead of request paths.
import { GATEWAY_NODE_FLAGS } from '../gateway/src/index.js';
import type { Placement } from './placement.js';
import { forkChild, siblingModule, type RunningProcess } from './processes.js';
import { describeError, type SkippedSystem, type SystemUnderTest } from './systems.js';

interface ForkedSystem {
  readonly name: string;
  readonly description: string;
  readonly module: string;
  readonly env: Record<string, string>;
  readonly expectedStatus: number;
  readonly usesRedis?: boolean;
}

/** The same header the gateway rows send, so every system parses the same request. */
const PEER_KEY = 'bench-peer-key';

function forkedSystems(upstreamUrl: string, prefix: string, redisUrl: string): ForkedSystem[] {
  const proxyEnv = { BENCH_UPSTREAM_URL: upstreamUrl };
  const peerEnv = { ...proxyEnv, BENCH_REDIS_PREFIX: prefix, REDIS_URL: redisUrl };
  return [
    { name: 'direct', description: 'the upstream alone (its own instance, on the system-under-test core)', module: 'children/upstream', env: {}, expectedStatus: 200 },
    { name: 'undici-proxy', description: 'bare undici Pool.stream proxy', module: 'children/undici-proxy', env: proxyEnv, expectedStatus: 200 },
    { name: 'http-proxy-3', description: 'bare http-proxy-3 proxy (node:http keep-alive agent)', module: 'children/http-proxy-3-proxy', env: proxyEnv, expectedStatus: 200 },
    { name: 'fastify-peer', description: 'fastify + @fastify/http-proxy + @fastify/rate-limit (Redis store), limit 1e9/1m', module: 'children/fastify-peer', env: { ...peerEnv, BENCH_PEER_MAX: '1000000000' }, expectedStatus: 200, usesRedis: true },
    { name: 'fastify-peer-429', description: 'the fastify peer with limit 1/1m: every request refused with 429', module: 'children/fastify-peer', env: { ...peerEnv, BENCH_PEER_MAX: '1', BENCH_REDIS_PREFIX: `${prefix}:429` }, expectedStatus: 429, usesRedis: true },
  ];
}

export interface ComparisonSystems {
  readonly systems: SystemUnderTest[];
  readonly skipped: SkippedSystem[];
}

/** Starts the wanted systems; each started process is added to `running` for the caller to stop. */
export async function startComparisonSystems(
  upstreamUrl: string,
  prefix: string,
  redisUrl: string,
  placement: Placement,
  wanted: (name: string) => boolean,
  running: RunningProcess[],
): Promise<ComparisonSystems> {
  const systems: SystemUnderTest[] = [];
  const skipped: SkippedSystem[] = [];
  for (const item of forkedSystems(upstreamUrl, prefix, redisUrl)) {
    if (!wanted(item.name)) continue;
    const { name, description, expectedStatus, usesRedis } = item;
    try {
      const child = await forkChild(name, siblingModule(item.module), item.env, placement.systemCpu, { nodeArgs: GATEWAY_NODE_FLAGS });
      running.push(child);
      systems.push({ name, description, expectedStatus, url: `http://127.0.0.1:${child.port}/`, headers: { 'x-api-key': PEER_KEY }, pid: child.child.pid, usesRedis });
    } catch (error) {
      skipped.push({ name, description, expectedStatus, skipped: describeError(error) });
    }
  }
  return { systems, skipped };
}
