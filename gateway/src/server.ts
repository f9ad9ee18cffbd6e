// The public HTTP server and the composition of one gateway (SPEC §3): createGateway wires the hot
// path, proxy, metrics and ops server from what it is given, so main.ts (Redis), tests and the
// embedded mode (in-memory store) can each supply their own limiter and key table.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { RequestEventSink } from '../../contracts/request-event.js';
import type { GatewayConfig } from './config.js';
import { RequestHandler } from './handle-request.js';
import type { KeyTable } from './keys/key-record.js';
import type { Limiter } from './limiter/limiter.js';
import { createGatewayMetrics, type GatewayMetrics } from './metrics.js';
import { createOpsServer } from './ops/server.js';
import { createForwarder } from './proxy/forward.js';
import { PROBLEMS, writeRawProblem } from './proxy/respond.js';
import { createRouter } from './proxy/routes.js';
import { createWebSocketProxy } from './proxy/websocket.js';

/** Node's limit is on all header bytes of a request; past it the client gets 431 (SPEC §3). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** SPEC §3: in-flight requests get this long to finish after SIGTERM. */
export const DRAIN_GRACE_MS = 30_000;

export interface GatewayOptions {
  readonly config: GatewayConfig;
  /** The current key table; called per request, so a feed can swap tables underneath. */
  readonly keys: () => KeyTable;
  readonly limiter: Limiter;
  readonly logger: Logger;
  /** Epoch ms for key expiry; default Date.now. */
  readonly clock?: () => number;
  /** Whether Redis answers (a GuardedStore fits): /readyz and tollgate_gateway_redis_up. Absent: always up. */
  readonly storeHealth?: { readonly isUp: boolean };
  readonly requestEvents?: RequestEventSink;
  /** Listen address; default all interfaces. */
  readonly host?: string;
}

export interface Gateway {
  readonly server: Server;
  readonly opsServer: Server;
  readonly metrics: GatewayMetrics;
  /** Binds config.port and config.opsPort (0 picks a free port); resolves to the bound ports. */
  listen(): Promise<{ port: number; opsPort: number }>;
  /** Stop accepting, let in-flight requests finish (up to graceMs), then close everything. */
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

/** A parse error gets a minimal HTTP response instead of a bare reset (431 for oversized headers). */
function onClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  writeRawProblem(socket, error.code === 'HPE_HEADER_OVERFLOW' ? PROBLEMS.headersTooLarge : PROBLEMS.badRequest);
}

export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const keys = options.keys;
  const storeHealth = options.storeHealth;
  const redisUp = (): boolean => storeHealth === undefined || storeHealth.isUp;
  const metrics = createGatewayMetrics({
    activeKeysByTier: () => {
      const table = keys() as KeyTable & { activeKeysByTier?: ReadonlyMap<string, number> };
      return table.activeKeysByTier ?? new Map<string, number>();
    },
    configVersion: () => keys().version,
    redisUp,
  });
  const router = createRouter(config.routes);
  const forwarder = createForwarder({
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    origins: router.routes.map((route) => route.origin),
  });
  const webSockets = createWebSocketProxy(logger.child({ component: 'websocket' }));
  const handler = new RequestHandler({
    keys,
    router,
    limiter: options.limiter,
    forwarder,
    webSockets,
    metrics,
    failureMode: config.failureMode,
    clock: options.clock ?? Date.now,
    logger: logger.child({ component: 'hot-path' }),
    requestEvents: options.requestEvents,
  });

  let draining = false;
  const server = createServer(
    {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Against slow clients: headers within 10 s, a whole request within 5 min, idle keep-alive 5 s.
      headersTimeout: 10_000,
      requestTimeout: 300_000,
      keepAliveTimeout: 5_000,
    },
    (req, res) => {
      if (draining) res.shouldKeepAlive = false;
      handler.handle(req, res);
    },
  );
  server.on('clientError', onClientError);
  const upgraded = new Set<Duplex>();
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    if (draining) {
      writeRawProblem(socket, PROBLEMS.storeUnavailable);
      return;
    }
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    handler.handleUpgrade(req, socket, head);
  });

  const opsServer = createOpsServer({
    registry: metrics.registry,
    redisUp,
    keysLoaded: () => keys().loaded,
  });

  return {
    server,
    opsServer,
    metrics,
    async listen() {
      const port = await listenOn(server, config.port, options.host);
      const opsPort = await listenOn(opsServer, config.opsPort, options.host);
      return { port, opsPort };
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
      await new Promise<void>((resolve) => {
        opsServer.close(() => resolve());
        opsServer.closeAllConnections();
      });
    },
  };
}
