// One gateway's servers: the public server (hot path, upgrades) and the ops server, wired from what
// they are given, so the entry module (index.ts), tests and the single-machine mode can each supply
// their own limiter store and key table.
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RequestEventSink } from '../../contracts/request-event.js';
import { Admission } from './admission.js';
import type { GatewayConfig } from './config.js';
import { RequestHandler } from './handle-request.js';
import { UpgradeHandler } from './handle-upgrade.js';
import { KeyLookup } from './keys/key-lookup.js';
import type { KeyTable } from './keys/key-record.js';
import type { StoreHealth } from './limiter/breaker.js';
import type { RateLimitStore } from './limiter/store.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import type { RedisSettings } from './ops/redis-settings.js';
import { gatewayReadiness, type Readiness } from './ops/readiness.js';
import { createOpsServer } from './ops/server.js';
import { TrustedProxies } from '../../contracts/trusted-proxies.js';
import { createForwarder } from './proxy/forward.js';
import { PROBLEMS, sendProblem, writeRawProblem } from './proxy/respond.js';
import { createRouter } from './proxy/routes.js';
import { createWebSocketProxy, isWebSocketUpgrade } from './proxy/websocket.js';
import { NO_ROUTE, RequestRecorder } from './request-recorder.js';

/** Node's limit is on all header bytes of a request; past it the client gets 431. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** In-flight requests get this long to finish after SIGTERM. */
export const DRAIN_GRACE_MS = 30_000;

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** The current key table; read per request, so a feed can swap tables underneath. */
  readonly keys: () => KeyTable;
  readonly store: RateLimitStore;
  /** Redis's health (the Redis store's breaker); absent for the in-memory store, which needs none. */
  readonly storeHealth?: StoreHealth;
  readonly logger: Logger;
  /** Epoch ms for key expiry; default Date.now. */
  readonly clock?: () => number;
  readonly requestEvents?: RequestEventSink;
  /** Listen address of both ports, overriding config.host and config.opsHost (tests). */
  readonly host?: string;
  /** Redis's eviction policy and persistence (Redis mode), for /readyz. */
  readonly redisSettings?: () => RedisSettings | null;
  /** Live gateways at the last heartbeat (GATEWAY_FAILURE_MODE=local's shares); default 1. */
  readonly liveGateways?: () => number;
  /** false: no ops port (a worker process, whose primary serves it for the group). */
  readonly ops?: boolean;
}

export interface Gateway {
  readonly server: Server;
  /** null without an ops port (options.ops false). */
  readonly opsServer: Server | null;
  readonly metrics: GatewayMetrics;
  readonly admission: Admission;
  /** What /readyz answers. */
  readiness(): Readiness;
  /** Binds config.port and config.opsPort (0 picks a free port); resolves to the bound ports
   * (opsPort 0 without an ops port). */
  listen(): Promise<{ port: number; opsPort: number }>;
  /** Binds the ops port alone (0 without one), so probes answer while the gateway starts. */
  listenOps(): Promise<number>;
  /** Binds the public port alone. */
  listenPublic(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to graceMs), then closes the servers. */
  close(graceMs?: number): Promise<void>;
}

function listenOn(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * What Node's parser refuses gets a problem+json response instead of a bare reset or Node's own
 * empty one: 431 for oversized headers, 408 for a request not received in time (headers dribbled
 * in, slowloris), 400 for the rest.
 */
function onClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const prepared =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? PROBLEMS.headersTooLarge
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? PROBLEMS.requestTimeout
        : PROBLEMS.badRequest;
  writeRawProblem(socket, prepared);
}

export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger, keys, storeHealth } = options;
  const storeUp = (): boolean => storeHealth === undefined || storeHealth.isUp;
  const router = createRouter(config.routes);
  const forwarder = createForwarder({
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    upstreamBodyTimeoutMs: config.upstreamBodyTimeoutMs ?? 60_000,
    clientBodyTimeoutMs: config.clientBodyTimeoutMs ?? 30_000,
    maxBodyBytes: config.maxBodyBytes,
    origins: router.routes.map((route) => route.origin),
  });
  const metrics = createGatewayMetrics({
    activeKeysByTier: () => {
      const table = keys() as KeyTable & { activeKeysByTier?: ReadonlyMap<string, number> };
      return table.activeKeysByTier ?? new Map<string, number>();
    },
    configVersion: () => keys().version,
    redisUp: storeUp,
    upstreams: () => {
      const byOrigin = forwarder.upstreams();
      const empty = { connections: 0, waiting: 0 };
      return new Map(router.routes.map((route) => [route.name, byOrigin.get(route.origin) ?? empty]));
    },
  });
  const admission = new Admission({
    store: options.store,
    failureMode: config.failureMode,
    metrics,
    logger: logger.child({ component: 'admission' }),
    // An answer without I/O (the in-memory store) gains nothing from remembering denials.
    deniedCache: storeHealth !== undefined,
    concurrencyLeaseMs: config.concurrencyLeaseMs,
    clientIpv6PrefixBits: config.clientIpv6PrefixBits,
    clock: options.clock,
    liveGateways: options.liveGateways,
  });
  // Redis may have come back empty: a remembered denial could deny what it now admits, and Redis,
  // not local shares, decides again.
  storeHealth?.subscribe((up) => {
    if (up) admission.storeRecovered();
  });
  const trustedProxies = config.trustedProxies ?? TrustedProxies.NONE;
  const webSockets = createWebSocketProxy(logger.child({ component: 'websocket' }), trustedProxies);
  const recorder = new RequestRecorder(metrics, options.requestEvents, trustedProxies);
  const keyLookup = new KeyLookup(keys, options.clock ?? Date.now);
  const handler = new RequestHandler({
    keys: keyLookup,
    router,
    admission,
    forwarder,
    recorder,
    logger: logger.child({ component: 'hot-path' }),
    trustedProxies,
    maxBodyBytes: config.maxBodyBytes,
  });

  let draining = false;
  const serveHttp = (req: Parameters<RequestHandler['handle']>[0], res: Parameters<RequestHandler['handle']>[1]): void => {
    if (draining) res.shouldKeepAlive = false;
    handler.handle(req, res);
  };
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Against slow clients: headers within 10 s, a whole request within 5 min, idle keep-alive 5 s,
      // checked every second (Node's default of 30 s lets a dribbling client stay 40 s).
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
      connectionsCheckingInterval: 1_000,
      // Only WebSocket handshakes are upgrades; Node versions that know this option serve the rest
      // (h2c, …) as plain HTTP themselves, the others leave it to the upgrade handler.
      shouldUpgradeCallback: isWebSocketUpgrade,
      // A missing Host is answered by framing.ts as problem+json, not by Node's bare 400.
      requireHostHeader: false,
    } as Parameters<typeof createServer>[0],
    serveHttp,
  );
  // framing.ts refuses more than MAX_REQUEST_HEADER_FIELDS fields (431 too-many-headers). Node's own
  // count limit differs by version (20 drops the fields past it, 22 and later fail the parse as a
  // header overflow, which reads as headers-too-large), so it is off; the 16 KiB size still bounds
  // what is parsed.
  server.maxHeadersCount = 0;
  server.on('clientError', onClientError);
  // Any Expect but 100-continue (which Node answers itself): 417, as problem+json.
  server.on('checkExpectation', (req, res) => {
    sendProblem(res, PROBLEMS.expectationFailed);
    recorder.finish(req, NO_ROUTE, null, 417, performance.now());
  });
  // Not a forward proxy: CONNECT gets 405 instead of a closed connection.
  server.on('connect', (req, socket: Socket) => {
    writeRawProblem(socket, PROBLEMS.connectNotSupported);
    recorder.finish(req, NO_ROUTE, null, 405, performance.now());
  });
  const upgrades = new UpgradeHandler({ keys: keyLookup, router, admission, webSockets, recorder, trustedProxies, serveHttp });
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (draining) {
      writeRawProblem(socket, PROBLEMS.storeUnavailable);
      return;
    }
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    upgrades.handle(req, socket, head);
  });

  const readiness = gatewayReadiness({
    store: storeHealth === undefined ? 'memory' : 'redis',
    storeUp,
    keysLoaded: () => keys().loaded,
    redisSettings: options.redisSettings,
  });
  const opsServer =
    options.ops === false ? null : createOpsServer({ metrics: () => metrics.registry.metrics(), metricsContentType: metrics.registry.contentType, readiness });

  return {
    server,
    opsServer,
    metrics,
    admission,
    readiness,
    async listen() {
      const opsPort = await this.listenOps();
      const port = await this.listenPublic();
      return { port, opsPort };
    },
    listenOps() {
      return opsServer === null ? Promise.resolve(0) : listenOn(opsServer, config.opsPort, options.host ?? config.opsHost ?? '127.0.0.1');
    },
    listenPublic() {
      return listenOn(server, config.port, options.host ?? config.host);
    },
    async close(graceMs = DRAIN_GRACE_MS) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open; in-flight ones close after their
      // response (shouldKeepAlive is off while draining).
      server.closeIdleConnections();
      const sweep = setInterval(() => server.closeIdleConnections(), 100);
      const deadline = setTimeout(() => {
        server.closeAllConnections();
        for (const socket of upgraded) socket.destroy();
      }, graceMs);
      await closed;
      clearInterval(sweep);
      clearTimeout(deadline);
      webSockets.close();
      await forwarder.close();
      if (opsServer !== null) {
        await new Promise<void>((resolve) => {
          opsServer.close(() => resolve());
          opsServer.closeAllConnections();
        });
      }
    },
  };
}
