// Tollgate's own processes for the bench: a fresh bench database, the control plane (to create keys
// the way operators do) and gateways that learn keys only from the control plane's Redis projection.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { AdminClient } from './admin-client.js';
import { freePort } from './free-port.js';
import { GATEWAY_NODE_FLAGS } from '../gateway/src/index.js';
import { controlPlaneMain, gatewayMain, migrateCli, missingReason } from './paths.js';
import { BenchProcessError, spawnService, type RunningProcess } from './processes.js';

const execFileAsync = promisify(execFile);

export interface StackSettings {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly postgresAdminUrl: string;
  readonly benchDatabase: string;
}

export interface GatewayProcess {
  readonly process: RunningProcess;
  readonly url: string;
  readonly opsUrl: string;
}

export interface ControlPlaneProcess {
  readonly process: RunningProcess;
  readonly admin: AdminClient;
}

/** Why the Tollgate part of the bench cannot run, or null when both services are built. */
export function stackMissingReason(): string | null {
  return missingReason(gatewayMain, 'the gateway') ?? missingReason(controlPlaneMain, 'the control plane');
}

/** Drops and recreates the bench database (a fresh one per run), then applies the migrations. */
export async function prepareDatabase(settings: StackSettings): Promise<string> {
  const admin = postgres(settings.postgresAdminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS "${settings.benchDatabase}" WITH (FORCE)`);
    await admin.unsafe(`CREATE DATABASE "${settings.benchDatabase}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(settings.postgresAdminUrl);
  url.pathname = `/${settings.benchDatabase}`;
  const databaseUrl = url.toString();
  if (missingReason(migrateCli, 'migrate') === null) {
    try {
      await execFileAsync(process.execPath, [migrateCli], { env: { ...process.env, DATABASE_URL: databaseUrl } });
    } catch (error) {
      throw new BenchProcessError('npm run migrate failed on the bench database', { cause: error });
    }
  }
  return databaseUrl;
}

export async function startControlPlane(settings: StackSettings, databaseUrl: string, adminToken: string): Promise<ControlPlaneProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const service = await spawnService(
    'control plane',
    controlPlaneMain,
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: settings.redisPrefix,
      CONTROL_PLANE_PORT: String(port),
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
    },
    `${baseUrl}/readyz`,
    '',
  );
  return { process: service, admin: new AdminClient(baseUrl, adminToken) };
}

export interface GatewayStartOptions {
  readonly extraEnv?: Record<string, string>;
  /** The gateway's main.js; default this build's (another build's for an A/B comparison). */
  readonly main?: string;
  /** A command the gateway runs under, e.g. ['valgrind', '--tool=callgrind']. */
  readonly wrapper?: readonly string[];
  /** How long to wait for /readyz; default 30 s. */
  readonly timeoutMs?: number;
}

export async function startGateway(
  settings: StackSettings,
  upstreamUrl: string,
  cpuList: string,
  options: GatewayStartOptions = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const opsPort = await freePort();
  const service = await spawnService(
    'gateway',
    options.main ?? gatewayMain,
    {
      REDIS_URL: settings.redisUrl,
      REDIS_KEY_PREFIX: settings.redisPrefix,
      GATEWAY_PORT: String(port),
      GATEWAY_OPS_PORT: String(opsPort),
      GATEWAY_UPSTREAM: upstreamUrl,
      GATEWAY_FAILURE_MODE: 'open',
      LOG_LEVEL: 'warn',
      ...options.extraEnv,
    },
    `http://127.0.0.1:${opsPort}/readyz`,
    cpuList,
    { nodeArgs: GATEWAY_NODE_FLAGS, wrapper: options.wrapper, timeoutMs: options.timeoutMs },
  );
  return { process: service, url: `http://127.0.0.1:${port}`, opsUrl: `http://127.0.0.1:${opsPort}` };
}

/** Polls `url` with the key until it answers `status` (a key becomes known through the feed). */
export async function waitForStatus(url: string, apiKey: string, status: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { headers: { 'x-api-key': apiKey }, signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      last = response.status;
      if (last === status) return;
    } catch {
      last = -1;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new BenchProcessError(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}
