// What every fault file starts with (Redis as the compose stack runs it, a database, two upstreams
// behind routes /a and /b, the stack) and what every fault under load does (a key of its own that
// nobody limits and one with an exact limit, the phase, its figures and its checks).
import type { Test } from 'tap';
import { createTestDatabase } from '../../../test-support/postgres-database.js';
import { startRedisServer, type RedisServer } from '../../../test-support/redis-server.js';
import { checkPhase, printPhase, runPhase, type FaultWindow, type PhaseExpectations, type PhaseResult } from './phase.js';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { startFaultyUpstream, type FaultyUpstream } from './upstream.js';

/** Redis as the compose stack runs it: never evicting, with its append-only file. */
export const COMPOSE_REDIS_ARGS = ['--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction'];
/** The tight key's exact limit per hour: the load reaches it within seconds of each phase. */
export const TIGHT_LIMIT = 150;

export interface FaultSetup {
  readonly redis: RedisServer;
  readonly stack: Stack;
  readonly upstreams: readonly [FaultyUpstream, FaultyUpstream];
}

export interface FaultSetupOptions {
  /** A database of the file's own on the machine's server, unless a URL is given. */
  readonly label: string;
  readonly databaseUrl?: string;
  readonly stack?: Partial<Pick<StackOptions, 'gateways' | 'gatewayEnv'>>;
}

/** Everything a fault file needs, stopped when the file ends. */
export async function setUpFaults(t: Test, options: FaultSetupOptions): Promise<FaultSetup> {
  const redis = await startRedisServer(COMPOSE_REDIS_ARGS);
  const database = options.databaseUrl === undefined ? await createTestDatabase(options.label) : null;
  const upstreams = [await startFaultyUpstream(), await startFaultyUpstream()] as const;
  const stack = await startStack({
    redis,
    databaseUrl: database?.url ?? (options.databaseUrl as string),
    routes: { '/a': upstreams[0].url, '/b': upstreams[1].url },
    ...options.stack,
  });
  t.teardown(async () => {
    await stack.close();
    await redis.stop();
    await Promise.all(upstreams.map((upstream) => upstream.stop()));
    await database?.drop();
  });
  return { redis, stack, upstreams };
}

export interface FaultOptions extends PhaseExpectations {
  /** Names the phase's keys. */
  readonly slug: string;
  /** Times Redis starts empty during the fault, plus one. */
  readonly limitEpochs?: number;
  fault(): Promise<FaultWindow>;
}

/** One fault under load: run, printed, and checked property by property. */
export async function faultUnderLoad(t: Test, setup: FaultSetup, name: string, options: FaultOptions): Promise<PhaseResult> {
  const open = await setup.stack.createKey(`${options.slug}-open`, 1_000_000);
  const tight = await setup.stack.createKey(`${options.slug}-tight`, TIGHT_LIMIT, true);
  const result = await runPhase({
    name,
    stack: setup.stack,
    upstreams: setup.upstreams,
    paths: ['/a/x', '/b/x'],
    open,
    tight,
    tightLimit: TIGHT_LIMIT,
    limitEpochs: options.limitEpochs,
    fault: options.fault,
  });
  printPhase(t, result);
  await checkPhase(t, result, options);
  return result;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
