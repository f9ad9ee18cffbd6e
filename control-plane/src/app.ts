// The control plane's HTTP server: a plain node:http server, one route table, one error handler.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { auditRoutes } from './audit/routes.js';
import { createAuditService } from './audit/service.js';
import { systemClock, type Clock } from './clock.js';
import type { Db } from './db.js';
import type { ChangePublisher } from './feed/publisher.js';
import { createBearerCheck } from './http/auth.js';
import { readJsonBody } from './http/body.js';
import { answerUnknownExpectation, createClientErrorHandler, hostProblem, refuseConnect } from './http/client-error.js';
import { ApiError } from './http/errors.js';
import { sendProblem } from './http/problem.js';
import { refuseUnstorablePairs } from './http/storable.js';
import { Router, type Reply, type Route } from './http/router.js';
import { createKeyService } from './keys/service.js';
import { keyRoutes } from './keys/routes.js';
import type { Logger } from './log.js';
import { httpRequestsTotal, normaliseMethod } from './metrics.js';
import { buildOpenApiDocument } from './openapi.js';
import { DEFAULT_READY_TIMEOUT_MS, opsRoutes } from './ops-routes.js';
import { createPublish } from './publish-after-commit.js';
import { tierRoutes } from './tiers/routes.js';
import { createTierService } from './tiers/service.js';

export interface AppDeps {
  readonly db: Db;
  readonly publisher: ChangePublisher;
  readonly logger: Logger;
  readonly adminToken: string;
  readonly clock?: Clock;
  readonly readyTimeoutMs?: number;
  /** More routes (usage, request logs), built from the same services. */
  readonly extraRoutes?: (services: AppServices) => Route[];
  /** Pages for people (admin UI, API reference): in the route table, left out of /openapi.json. */
  readonly pages?: (services: AppServices) => Route[];
  /** An error of a request no route answered, as a page for paths people browse; else problem+json. */
  readonly errorPage?: (pathname: string, error: unknown) => Reply | undefined;
  /** Against slow clients; the defaults suit production, tests shorten them. */
  readonly httpTimeouts?: HttpTimeouts;
}

export interface HttpTimeouts {
  /** Longest wait for a request's headers (then 408). */
  readonly headersMs: number;
  /** Longest wait for a whole request, body included (then 408). */
  readonly requestMs: number;
  /** How often Node looks for connections past those deadlines. */
  readonly checkIntervalMs: number;
}

// A slow client (slowloris) holds a connection 10 s at most before its headers are complete, and a
// minute for a body of at most 1 MiB; checked every second, not Node's default 30 s.
export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 10_000, requestMs: 60_000, checkIntervalMs: 1_000 };

export interface AppServices {
  readonly tiers: ReturnType<typeof createTierService>;
  readonly keys: ReturnType<typeof createKeyService>;
  readonly audit: ReturnType<typeof createAuditService>;
}

export interface App {
  readonly server: Server;
  readonly router: Router;
  readonly services: AppServices;
  /** Resolves with the bound port (pass 0 for any free one). */
  listen(port: number, host?: string): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (forcing them after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

const UNMATCHED_ROUTE = 'unmatched';

export function createApp(deps: AppDeps): App {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'http' });
  const publish = createPublish(deps.logger.child({ component: 'publish' }));
  const serviceDeps = { db: deps.db, publisher: deps.publisher, publish, clock };
  const services: AppServices = {
    tiers: createTierService(serviceDeps),
    keys: createKeyService(serviceDeps),
    audit: createAuditService(deps.db),
  };
  const routes: Route[] = [
    ...tierRoutes(services.tiers),
    ...keyRoutes(services.keys),
    ...auditRoutes(services.audit),
    ...(deps.extraRoutes?.(services) ?? []),
    ...opsRoutes(deps.db, deps.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, () => openApiDocument),
  ];
  const router = new Router([...routes, ...(deps.pages?.(services) ?? [])]);
  // Read lazily by the /openapi.json handler, after this line ran.
  const openApiDocument = buildOpenApiDocument(routes);
  const checkBearer = createBearerCheck(deps.adminToken);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedMs = performance.now();
    let routeLabel = UNMATCHED_ROUTE;
    let pathname: string | undefined;
    response.once('finish', () => {
      const method = normaliseMethod(request.method);
      const code = String(response.statusCode);
      httpRequestsTotal.inc({ route: routeLabel, method, code });
      logger.info(
        { method, route: routeLabel, status: response.statusCode, duration_ms: Math.round((performance.now() - startedMs) * 100) / 100 },
        'request',
      );
    });
    try {
      const badHost = hostProblem(request);
      if (badHost !== undefined) throw new ApiError(400, badHost.kind, badHost.detail);
      const url = new URL(request.url ?? '/', 'http://control-plane');
      pathname = url.pathname;
      const { route, params } = router.match(request.method ?? 'GET', url.pathname);
      routeLabel = route.path;
      if (route.auth) checkBearer(request);
      // One rule for every text a request carries outside its body (the body readers apply it too).
      refuseUnstorablePairs(Object.entries(params));
      refuseUnstorablePairs(url.searchParams);
      const reply = await route.handler({
        request,
        params,
        query: url.searchParams,
        body: () => readJsonBody(request),
      });
      send(response, reply);
    } catch (error) {
      const page = pathname === undefined ? undefined : errorPage(pathname, error);
      if (page && !response.headersSent) send(response, page);
      else sendProblem(response, error, logger);
    }
  }

  /** The page for an error, if its path has one; a page that fails itself falls back to problem+json. */
  function errorPage(pathname: string, error: unknown): Reply | undefined {
    try {
      return deps.errorPage?.(pathname, error);
    } catch (pageError) {
      logger.error({ err: pageError }, 'error page failed');
      return undefined;
    }
  }

  const timeouts = deps.httpTimeouts ?? DEFAULT_HTTP_TIMEOUTS;
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
      // handle() answers a missing Host itself, as problem+json instead of Node's empty 400.
      requireHostHeader: false,
    },
    (request, response) => {
      void handle(request, response);
    },
  );
  server.on('clientError', createClientErrorHandler(logger));
  server.on('checkExpectation', answerUnknownExpectation);
  server.on('connect', refuseConnect);

  return {
    server,
    router,
    services,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close(graceMs = 10_000) {
      return new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

function send(response: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | Buffer | undefined;
  if (reply.raw !== undefined) {
    payload = reply.raw;
    headers['content-type'] = reply.contentType ?? 'text/plain; charset=utf-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] = reply.contentType ?? 'application/json';
  }
  response.writeHead(reply.status, headers);
  response.end(payload);
}
