// The control plane's composition root (production mode): logger, PostgreSQL (migrated at start),
// Redis change feed, request-log writer and retention, HTTP server, signals.
import { createLimiterScripts } from '../../contracts/lua/scripts.js';
import { createApp } from './app.js';
import type { Config } from './config.js';
import { createDb, postgresDialect } from './db.js';
import { createRedisClient } from './feed/redis-connection.js';
import { createRedisChangePublisher } from './feed/redis-publisher.js';
import { createLogger } from './log.js';
import { startRequestLogPipeline } from './log-writer/request-log-pipeline.js';
import { requestLogLagSeconds, requestLogRowsTotal } from './metrics.js';
import { runMigrations } from './migrate.js';
import { createProjectionSource } from './projection-source.js';
import { requestLogRoutes } from './request-logs/routes.js';
import { createRequestLogService } from './request-logs/service.js';
import { usageRoutes } from './usage/routes.js';
import { createUsageService } from './usage/service.js';

export async function runControlPlane(config: Config): Promise<void> {
  const logger = createLogger(config.logLevel);
  const db = createDb(postgresDialect(config.databaseUrl));
  try {
    const result = await runMigrations(db);
    logger.info({ component: 'migrate', applied: result.applied }, 'migrations applied');
  } catch (error) {
    logger.fatal({ err: error, component: 'migrate' }, 'cannot migrate the database');
    await db.destroy();
    process.exit(1);
  }

  const redis = createRedisClient({ url: config.redisUrl, clusterNodes: config.redisClusterNodes });
  const publisher = createRedisChangePublisher({
    redis,
    prefix: config.redisKeyPrefix,
    source: createProjectionSource(db),
    logger,
  });
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
  // The usage endpoint peeks the gateways' windows with the same script they consume with.
  const scripts = createLimiterScripts(redis, config.redisKeyPrefix);
  const app = createApp({
    db,
    publisher,
    logger,
    adminToken: config.adminToken,
    extraRoutes: () => [
      ...requestLogRoutes(createRequestLogService(db)),
      ...usageRoutes(createUsageService({ db, scripts })),
    ],
  });
  const port = await app.listen(config.port);
  logger.info({ port }, 'control plane listening');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await app.close();
    await requestLogs.close();
    await publisher.close();
    redis.disconnect();
    // postgres.js's end() waits for queries stuck on a frozen server; exit 0 regardless.
    await Promise.race([db.destroy(), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
