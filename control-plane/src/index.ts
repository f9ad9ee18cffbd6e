// The control plane's entry module: its own main.ts, the single-machine launcher, the bench and
// end-to-end tests start a control plane through startControlPlane and nothing else.
//
//   const cp = await startControlPlane({ config });      // PostgreSQL and Redis (production)
//   const cp = await startControlPlane({ config, inProcess: { dataDir, limiter } });   // one machine
//   await cp.close();
//
// Production: migrates PostgreSQL (under an advisory lock), publishes the gateways' projection and
// changes to Redis, writes request events from the Redis stream into request_log, and serves the
// REST API. In process: PGlite in the data directory, and the change feed and request-log delivery
// in memory, handed to the gateway running in the same process (`feed`, `deliverRequestEvents`).
import type { Logger } from 'pino';
import type { FeedSource } from '../../contracts/feed.js';
import { MemoryGatewayRegistry, type GatewayRegistry } from '../../contracts/gateway-registry.js';
import { createLimiterScripts, type LimiterScripts } from '../../contracts/lua/scripts.js';
import { createRedisConnection, reportConnectionState, type RedisConnection } from '../../contracts/redis-connection.js';
import type { RequestEvent } from '../../contracts/request-event.js';
import { createAdminUi } from './admin-ui/admin-ui.js';
import { createApp, type App } from './app.js';
import { systemClock } from './clock.js';
import type { Config } from './config.js';
import { createDb, postgresDialect, type Db } from './db.js';
import { createMemoryChangeFeed } from './feed/memory-feed.js';
import type { ChangePublisher } from './feed/publisher.js';
import { createRedisChangePublisher } from './feed/redis-publisher.js';
import { gatewayRoutes } from './gateways/routes.js';
import { redisFleetSource } from './gateways/redis-fleet-source.js';
import { createGatewayService, type FleetSource } from './gateways/service.js';
import { createLogger } from './log.js';
import { createDirectRequestLogDelivery } from './log-writer/direct-delivery.js';
import { startRequestLogPipeline } from './log-writer/request-log-pipeline.js';
import { createRequestLogRetention } from './log-writer/retention.js';
import { reportFleet, requestLogLagSeconds, requestLogRowsTotal } from './metrics.js';
import { runMigrations, type MigrationResult } from './migrate.js';
import { createProjectionSource } from './projection-source.js';
import { requestLogRoutes } from './request-logs/routes.js';
import { createRequestLogService } from './request-logs/service.js';
import { usageRoutes } from './usage/routes.js';
import { createUsageService } from './usage/service.js';

export { ConfigError, DEFAULT_ADMIN_USER, loadConfig, loadDotEnv, type Config } from './config.js';

export interface InProcessOptions {
  /** Where PGlite keeps its files. */
  readonly dataDir: string;
  /** The in-process gateway's limiter (its in-memory store in the scripts' shape). */
  readonly limiter: Pick<LimiterScripts, 'peek' | 'consume'>;
}

export interface StartControlPlaneOptions {
  readonly config: Config;
  /** Default: a pino logger at config.logLevel. */
  readonly logger?: Logger;
  /** The single-machine mode; absent: PostgreSQL and Redis. */
  readonly inProcess?: InProcessOptions;
  /** Listen address, overriding config.host (tests). */
  readonly host?: string;
}

export interface RunningControlPlane {
  readonly port: number;
  readonly migrations: MigrationResult;
  /** In process only: the change feed the gateway follows. */
  readonly feed?: FeedSource;
  /** In process only: where the gateway delivers request events. */
  readonly deliverRequestEvents?: (batch: readonly RequestEvent[]) => Promise<void>;
  /** In process only: the registry the gateway heartbeats into (GET /v1/gateways lists it). */
  readonly gateways?: GatewayRegistry;
  /** Stops accepting, lets in-flight requests finish, then stops the writers and the database. */
  close(graceMs?: number): Promise<void>;
}

/** What differs between the two modes; the rest is built the same way. */
interface Backend {
  readonly db: Db;
  readonly migrations: MigrationResult;
  readonly publisher: ChangePublisher;
  readonly limiter: Pick<LimiterScripts, 'peek' | 'consume'>;
  /** The gateways' heartbeats and the change history they are compared with. */
  readonly fleet: FleetSource;
  readonly feed?: FeedSource;
  readonly deliverRequestEvents?: (batch: readonly RequestEvent[]) => Promise<void>;
  /** Stops the background work (feed, request-log writers), then the database and connections. */
  close(): Promise<void>;
}

export async function startControlPlane(options: StartControlPlaneOptions): Promise<RunningControlPlane> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const backend = options.inProcess ? await inProcessBackend(options.inProcess, config, logger) : await productionBackend(config, logger);
  // The usage endpoint peeks the gateways' windows with the same script they consume with; the
  // admin UI counts failed sign-ins with it.
  const usage = createUsageService({ db: backend.db, scripts: backend.limiter });
  const requestLogs = createRequestLogService(backend.db);
  const gateways = createGatewayService(backend.fleet);
  reportFleet(() => gateways.summary());
  const adminUi = createAdminUi({
    db: backend.db,
    clock: systemClock,
    logger,
    usage,
    requestLogs,
    gateways,
    signInLimiter: backend.limiter,
    trustedProxies: config.trustedProxies,
    session: config.adminSession,
  });
  const app: App = createApp({
    db: backend.db,
    publisher: backend.publisher,
    logger,
    adminToken: config.adminToken,
    extraRoutes: () => [...requestLogRoutes(requestLogs), ...usageRoutes(usage), ...gatewayRoutes(gateways)],
    pages: adminUi.pages,
    errorPage: adminUi.errorPage,
  });
  let port: number;
  try {
    await adminUi.ensureFirstUser(config.firstAdmin);
    port = await app.listen(config.port, options.host ?? config.host);
  } catch (error) {
    await backend.close();
    throw error;
  }
  return {
    port,
    migrations: backend.migrations,
    feed: backend.feed,
    deliverRequestEvents: backend.deliverRequestEvents,
    gateways: options.inProcess ? backend.fleet.registry : undefined,
    async close(graceMs) {
      await app.close(graceMs);
      await backend.close();
    },
  };
}

async function productionBackend(config: Config, logger: Logger): Promise<Backend> {
  const db = createDb(postgresDialect(config.databaseUrl));
  let migrations: MigrationResult;
  try {
    migrations = await runMigrations(db);
    logger.info({ component: 'migrate', applied: migrations.applied }, 'migrations applied');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const redis: RedisConnection = createRedisConnection({
    url: config.redisUrl,
    clusterNodes: config.redisClusterNodes,
    behaviour: 'patient',
    connectionName: 'tollgate-control-plane',
    maxReconnectDelayMs: 2000,
  });
  reportConnectionState(redis, logger.child({ component: 'redis' }));
  const publisher = createRedisChangePublisher({ redis, prefix: config.redisKeyPrefix, source: createProjectionSource(db), logger });
  await publisher.start();
  const requestLogs = await startRequestLogPipeline({
    redis,
    db,
    prefix: config.redisKeyPrefix,
    logger,
    retentionDays: config.requestLogRetentionDays,
    rowsTotal: requestLogRowsTotal,
    lagSeconds: requestLogLagSeconds,
  });
  return {
    db,
    migrations,
    publisher,
    limiter: createLimiterScripts(redis, config.redisKeyPrefix),
    fleet: redisFleetSource(redis, config.redisKeyPrefix),
    async close() {
      await requestLogs.close();
      await publisher.close();
      redis.disconnect();
      // postgres.js's end() waits for queries stuck on a frozen server; give up after 5 s.
      await Promise.race([db.destroy(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    },
  };
}

async function inProcessBackend(options: InProcessOptions, config: Config, logger: Logger): Promise<Backend> {
  // Loaded only here: PGlite is large, and production never needs it.
  const { openEmbeddedDatabase } = await import('./embedded-database.js');
  const database = await openEmbeddedDatabase(options.dataDir);
  const { db } = database;
  const requestLogLogger = logger.child({ component: 'request-log' });
  // Partitions for today and the days ahead before the first row is written, and retention hourly.
  const retention = createRequestLogRetention({ db, logger: requestLogLogger, retentionDays: config.requestLogRetentionDays });
  await retention.start();
  const feed = createMemoryChangeFeed({ source: createProjectionSource(db), logger });
  await feed.start();
  return {
    db,
    migrations: database.migrations,
    publisher: feed,
    limiter: options.limiter,
    fleet: {
      registry: new MemoryGatewayRegistry(),
      async changes() {
        return { version: (await feed.head())?.version ?? 0, times: feed.changeTimes() };
      },
    },
    feed,
    deliverRequestEvents: createDirectRequestLogDelivery({
      db,
      logger: requestLogLogger,
      rowsTotal: requestLogRowsTotal,
      lagSeconds: requestLogLagSeconds,
    }),
    async close() {
      await feed.close();
      await retention.close();
      await database.close();
    },
  };
}
