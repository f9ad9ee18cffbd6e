// The single-machine mode (SPEC §7): control plane, gateway and request-log writer in one process,
// on PGlite and the in-memory implementations of the three infrastructure seams. Each piece is the
// production code; only the wiring differs from the two services' main.ts:
//   limiter store   MemoryStore behind the same limiter facade (createLimiter)
//   change feed     createMemoryChangeFeed: the control plane publishes to it, the gateway follows it
//                   like Redis (snapshot + versioned messages)
//   request events  the in-process sink hands batches to the control plane's direct delivery
import type { Logger } from 'pino';
import type { Config as ControlPlaneConfig } from '../control-plane/src/config.js';
import { createApp } from '../control-plane/src/app.js';
import { createMemoryChangeFeed } from '../control-plane/src/feed/memory-feed.js';
import { createLogger as createControlPlaneLogger } from '../control-plane/src/log.js';
import { createDirectRequestLogDelivery } from '../control-plane/src/log-writer/direct-delivery.js';
import { createRequestLogRetention } from '../control-plane/src/log-writer/retention.js';
import { requestLogLagSeconds, requestLogRowsTotal } from '../control-plane/src/metrics.js';
import { createProjectionSource } from '../control-plane/src/projection-source.js';
import { requestLogRoutes } from '../control-plane/src/request-logs/routes.js';
import { createRequestLogService } from '../control-plane/src/request-logs/service.js';
import { usageRoutes } from '../control-plane/src/usage/routes.js';
import { createUsageService } from '../control-plane/src/usage/service.js';
import type { GatewayConfig } from '../gateway/src/config.js';
import { followKeyFeed } from '../gateway/src/keys/follow-feed.js';
import { createLimiter } from '../gateway/src/limiter/limiter.js';
import { MemoryStore } from '../gateway/src/limiter/memory-store.js';
import { createLogger as createGatewayLogger } from '../gateway/src/log.js';
import { createInProcessRequestEventSink } from '../gateway/src/request-log/in-process-sink.js';
import { createGateway } from '../gateway/src/server.js';
import { openEmbeddedDatabase } from './embedded-database.js';
import { memoryPeek } from './memory-peek.js';

export interface EmbeddedOptions {
  readonly dataDir: string;
  readonly controlPlane: ControlPlaneConfig;
  readonly gateway: GatewayConfig;
  /** For the launcher's own lines (`service: launcher`). */
  readonly launcherLogger: Logger;
}

export interface EmbeddedSystem {
  readonly gatewayPort: number;
  readonly opsPort: number;
  readonly controlPlanePort: number;
  /** Gateway drain first (its last events still reach request_log), then the control plane, then PGlite. */
  close(): Promise<void>;
}

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedSystem> {
  const log = options.launcherLogger;
  // Each service keeps its own root logger, so its lines carry its `service` and its redaction.
  const controlPlaneLogger = createControlPlaneLogger(options.controlPlane.logLevel);
  const gatewayLogger = createGatewayLogger(options.gateway.logLevel);

  const database = await openEmbeddedDatabase(options.dataDir);
  const { db } = database;
  log.info({ applied: database.migrations.applied }, 'embedded database ready');

  // Partitions for today and the days ahead before the first row is written, and retention hourly.
  const retention = createRequestLogRetention({
    db,
    logger: controlPlaneLogger.child({ component: 'request-log' }),
    retentionDays: options.controlPlane.requestLogRetentionDays,
  });
  await retention.start();

  const feed = createMemoryChangeFeed({ source: createProjectionSource(db), logger: controlPlaneLogger });
  await feed.start();

  const store = new MemoryStore();
  const limiter = createLimiter({ store });
  // The usage endpoint peeks the gateway's own windows: the same store, read-only.
  const usage = createUsageService({ db, scripts: memoryPeek(store) });
  const requestLogs = createRequestLogService(db);
  const app = createApp({
    db,
    publisher: feed,
    logger: controlPlaneLogger,
    adminToken: options.controlPlane.adminToken,
    extraRoutes: () => [...requestLogRoutes(requestLogs), ...usageRoutes(usage)],
  });

  const keyFeed = followKeyFeed({ source: feed, logger: gatewayLogger });
  await keyFeed.ready;
  const requestEvents = createInProcessRequestEventSink({
    deliver: createDirectRequestLogDelivery({
      db,
      logger: controlPlaneLogger.child({ component: 'request-log' }),
      rowsTotal: requestLogRowsTotal,
      lagSeconds: requestLogLagSeconds,
    }),
    logger: gatewayLogger.child({ component: 'request-log' }),
  });
  const gateway = createGateway({
    config: options.gateway,
    keys: () => keyFeed.table(),
    limiter,
    logger: gatewayLogger,
    requestEvents,
  });

  let controlPlanePort: number;
  let ports: { port: number; opsPort: number };
  try {
    controlPlanePort = await app.listen(options.controlPlane.port);
    ports = await gateway.listen();
  } catch (error) {
    // A port in use: release what is open so the process can exit with one clear line.
    await app.close(0);
    await gateway.close(0).catch(() => {});
    await Promise.allSettled([requestEvents.close(), keyFeed.close(), limiter.close(), feed.close(), retention.close()]);
    await database.close();
    throw error;
  }

  return {
    gatewayPort: ports.port,
    opsPort: ports.opsPort,
    controlPlanePort,
    async close() {
      await gateway.close();
      // After the drain no request records anything more; flush what is buffered into request_log.
      await requestEvents.close();
      await Promise.allSettled([keyFeed.close(), limiter.close()]);
      await app.close();
      await feed.close();
      await retention.close();
      await database.close();
    },
  };
}
