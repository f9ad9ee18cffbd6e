// The system under fault: a control plane and two gateways from dist/, on a Redis and a PostgreSQL
// database the test owns, in front of upstreams in the test's process. Gateways run in closed mode
// (a request no limit decision can be had for is refused, so the limit is never exceeded), trust
// 127.0.0.1 for X-Forwarded-For (see steady-load.ts) and have short upstream and Redis budgets, so a
// fault shows up in seconds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres, { type Sql } from 'postgres';
import { GATEWAY_NODE_FLAGS } from '../../../gateway/src/runtime/node-flags.js';
import { freePort } from '../../../test-support/ports.js';
import type { RedisServer } from '../../../test-support/redis-server.js';
import { startNodeService, waitReady, type Exit, type NodeService } from './processes.js';

export const UPSTREAM_TIMEOUT_MS = 2000;
export const REDIS_TIMEOUT_MS = 500;
export const ADMIN_TOKEN = `faults-admin-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

export interface StackOptions {
  readonly redis: RedisServer;
  readonly databaseUrl: string;
  /** Route prefix (also its name) → upstream URL. */
  readonly routes: Readonly<Record<string, string>>;
  readonly gateways?: number;
  /** Extra gateway settings (e.g. GATEWAY_FAILURE_MODE). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
}

export interface GatewayProcess {
  readonly url: string;
  readonly opsUrl: string;
  readonly service: NodeService;
}

export interface CreatedKey {
  readonly id: string;
  readonly secret: string;
}

export interface Stack {
  readonly controlPlaneUrl: string;
  readonly controlPlane: NodeService;
  readonly gateways: readonly GatewayProcess[];
  readonly sql: Sql;
  /** Every exit of a service the test did not cause (a crash), with its output. */
  readonly crashes: string[];
  /** Marks the next exit of `service` as caused by the test. */
  expectExit(service: NodeService): void;
  admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  /** A tier of its own (sliding_log when `exact`) and a key of it, known to every gateway. */
  createKey(name: string, limit: number, exact?: boolean): Promise<CreatedKey>;
  startControlPlane(): Promise<void>;
  startGateway(index: number): Promise<void>;
  /** Request-log rows per client address, of requests answered since `sinceMs` (epoch ms). */
  rowsByAddress(sinceMs: number): Promise<Map<string, number>>;
  /** A metric's sample summed over the gateways' /metrics. */
  gatewayMetric(series: string): Promise<number>;
  close(): Promise<void>;
}

async function metricFrom(url: string, series: string): Promise<number> {
  const text = await (await fetch(url)).text();
  for (const line of text.split('\n')) if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  return 0;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const work = mkdtempSync(join(tmpdir(), 'tollgate-faults-'));
  const routesFile = join(work, 'routes.json');
  writeFileSync(
    routesFile,
    JSON.stringify({ routes: Object.entries(options.routes).map(([prefix, upstream]) => ({ prefix, name: prefix.slice(1), upstream })) }),
  );
  const crashes: string[] = [];
  const expected = new Set<NodeService>();
  const watch = (service: NodeService): void => {
    void service.exited.then((exit: Exit) => {
      if (expected.delete(service)) return;
      crashes.push(`${service.name} exited (code ${exit.code}, signal ${exit.signal}):\n${service.output()}`);
    });
  };

  const controlPlanePort = await freePort();
  const controlPlaneUrl = `http://127.0.0.1:${controlPlanePort}`;
  const controlPlane = startNodeService('control-plane', 'control-plane/src/main.js', {
    DATABASE_URL: options.databaseUrl,
    REDIS_URL: options.redis.url,
    ADMIN_TOKEN,
    CONTROL_PLANE_PORT: String(controlPlanePort),
  });
  watch(controlPlane);
  await waitReady(`${controlPlaneUrl}/readyz`, controlPlane, 60_000);

  const gateways: GatewayProcess[] = [];
  for (let index = 0; index < (options.gateways ?? 2); index += 1) {
    const port = await freePort();
    const opsPort = await freePort();
    const service = startNodeService(
      `gateway-${index + 1}`,
      'gateway/src/main.js',
      {
        REDIS_URL: options.redis.url,
        GATEWAY_PORT: String(port),
        GATEWAY_OPS_PORT: String(opsPort),
        GATEWAY_ROUTES_FILE: routesFile,
        GATEWAY_FAILURE_MODE: 'closed',
        GATEWAY_UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
        GATEWAY_REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
        GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
        ...options.gatewayEnv,
      },
      GATEWAY_NODE_FLAGS,
    );
    watch(service);
    gateways.push({ url: `http://127.0.0.1:${port}`, opsUrl: `http://127.0.0.1:${opsPort}`, service });
  }
  for (const gateway of gateways) await waitReady(`${gateway.opsUrl}/readyz`, gateway.service);

  const sql = postgres(options.databaseUrl, { max: 2, onnotice: () => {} });

  async function admin(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const response = await fetch(`${controlPlaneUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  }

  /** Waits until every gateway knows the key (the quota endpoint consumes nothing and is not logged). */
  async function knownEverywhere(secret: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const statuses = await Promise.all(
        gateways.map(async (gateway) => {
          const response = await fetch(`${gateway.url}/_gateway/quota`, { headers: { 'x-api-key': secret } });
          await response.arrayBuffer();
          return response.status;
        }),
      );
      if (statuses.every((status) => status === 200)) return;
      if (Date.now() > deadline) throw new Error(`a new key is still unknown to a gateway (${statuses.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  return {
    controlPlaneUrl,
    controlPlane,
    gateways,
    sql,
    crashes,
    expectExit: (service) => expected.add(service),
    admin,
    async createKey(name, limit, exact = false) {
      await admin('POST', '/v1/tiers', { name, limits: [{ window: '1h', limit }], ...(exact ? { algorithm: 'sliding_log' } : {}) });
      const key = await admin('POST', '/v1/keys', { name, tier: name });
      const created = { id: key.id as string, secret: key.secret as string };
      await knownEverywhere(created.secret);
      return created;
    },
    async startControlPlane() {
      controlPlane.restart();
      watch(controlPlane);
      await waitReady(`${controlPlaneUrl}/readyz`, controlPlane, 60_000);
    },
    async startGateway(index) {
      const gateway = gateways[index] as GatewayProcess;
      gateway.service.restart();
      watch(gateway.service);
      await waitReady(`${gateway.opsUrl}/readyz`, gateway.service);
    },
    async rowsByAddress(sinceMs) {
      // By time, not key: a request refused as having no valid key (401) has a row without one.
      const rows = await sql<{ ip: string; n: number }[]>`
        select host(client_ip) as ip, count(*)::int as n from request_log where time >= ${new Date(sinceMs)} group by 1`;
      return new Map(rows.map((row) => [row.ip, row.n]));
    },
    async gatewayMetric(series) {
      const values = await Promise.all(gateways.map((gateway) => metricFrom(`${gateway.opsUrl}/metrics`, series)));
      return values.reduce((sum, value) => sum + value, 0);
    },
    async close() {
      for (const service of [...gateways.map((gateway) => gateway.service), controlPlane]) {
        expected.add(service);
        await service.stop('SIGTERM', 10_000);
      }
      await sql.end({ timeout: 5 });
      rmSync(work, { recursive: true, force: true });
    },
  };
}
