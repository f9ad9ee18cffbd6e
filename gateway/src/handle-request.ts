// The hot path (STYLE §3), top to bottom: find key → key table → route → limiter → 429 / 503 /
// fail-open → rate-limit headers → forward → record. One limiter call (one Redis round trip), one
// upstream call, no PostgreSQL, no info logging. Per-request state lives in one Exchange object;
// the steps are methods and plain functions, not closures made per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
// Imported, not the global: globalThis.performance is a lazy getter, so every read of the global
// costs a global-IC miss and a getter call (about 300 instructions per read, callgrind).
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { createRequestEventIds, type RequestEventSink } from '../../contracts/request-event.js';
import type { FailureMode } from './config.js';
import type { KeyRecord, KeyTable } from './keys/key-record.js';
import { SecretMemo } from './keys/secret-memo.js';
import {
  rateLimitHeaderList,
  setRateLimitHeaders,
  setUndecidedHeaders,
  undecidedHeaderList,
  type HeaderSink,
} from './limiter/headers.js';
import type { Limiter } from './limiter/limiter.js';
import type { ReplyReceiver, StoreReply } from './limiter/store.js';
import { normaliseMethod, type GatewayMetrics } from './metrics.js';
import { findApiKey } from './proxy/api-key.js';
import { UpstreamCall, upstreamProblem, type Forwarder } from './proxy/forward.js';
import { upstreamRequestHeaders } from './proxy/headers.js';
import { PROBLEMS, sendProblem, sendProblemWithHeaders, writeRawProblem, type PreparedProblem } from './proxy/respond.js';
import { upstreamPath, type Route, type Router } from './proxy/routes.js';
import type { WebSocketProxy } from './proxy/websocket.js';

export interface RequestHandlerOptions {
  /** The current key table (the feed swaps it; read it per request). */
  readonly keys: () => KeyTable;
  readonly router: Router;
  readonly limiter: Limiter;
  readonly forwarder: Forwarder;
  readonly webSockets: WebSocketProxy;
  readonly metrics: GatewayMetrics;
  readonly failureMode: FailureMode;
  /** Epoch ms, for key expiry. */
  readonly clock: () => number;
  readonly logger: Logger;
  /** One event per answered request except /_gateway/ ones (SPEC §6). */
  readonly requestEvents?: RequestEventSink;
}

export const QUOTA_PATH = '/_gateway/quota';
const GATEWAY_PATHS = '/_gateway/';
/** Route label for requests that match no route (a closed set: route names plus these two). */
const NO_ROUTE = 'none';
const GATEWAY_ROUTE = '_gateway';
/** nginx's code for "client closed the connection before the response", for metrics and logs. */
const CLIENT_GONE = 499;

/** An active, unexpired key for `secret`, or undefined (the 401 cases). */
function findKeyRecord(secrets: SecretMemo, table: KeyTable, secret: string, nowMs: number): KeyRecord | undefined {
  const record = secrets.lookup(table, secret);
  if (record === undefined || !record.active) return undefined;
  if (record.expiresAtMs !== null && record.expiresAtMs <= nowMs) return undefined;
  return record;
}

function secondsBetween(startMs: number, endMs: number): number {
  return (endMs - startMs) / 1000;
}

/** Both framings at once is the request-smuggling pattern (RFC 9112 §6.3); refuse and close. */
function hasConflictingFraming(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] !== undefined;
}

/**
 * One admitted-or-not request through the limiter and the upstream: the limiter answers it
 * (ReplyReceiver) and undici streams through it (UpstreamCall), so a request allocates this one
 * object instead of promises and closures per step.
 */
class Exchange extends UpstreamCall implements ReplyReceiver {
  checkStartedMs = 0;
  upstreamStartedMs = 0;
  /** The rate-limit fields of the decision, added to the upstream's response. */
  responseHeaders: string[] | null = null;
  /** The limiter has answered (it answers once; a second answer is ignored). */
  answered = false;

  constructor(
    readonly handler: RequestHandler,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly route: Route,
    readonly record: KeyRecord,
    readonly startedMs: number,
  ) {
    super();
  }

  received(reply: StoreReply): void {
    if (this.answered) return;
    this.answered = true;
    this.handler.decided(this, reply);
  }

  failed(error: unknown): void {
    if (this.answered) return;
    this.answered = true;
    this.handler.storeFailed(this, error);
  }

  upstreamFinished(error: Error | null): void {
    this.handler.upstreamFinished(this, error);
  }
}

/** Collects rate-limit headers for a raw socket response (WebSocket upgrades). */
class RawHeaders implements HeaderSink {
  readonly list: string[] = [];
  setHeader(name: string, value: string): void {
    this.list.push(name, value);
  }
}

export class RequestHandler {
  private readonly options: RequestHandlerOptions;
  private readonly nextEventId = createRequestEventIds();
  private readonly secrets = new SecretMemo();
  private readonly log: Logger;

  constructor(options: RequestHandlerOptions) {
    this.options = options;
    this.log = options.logger;
    this.handle = this.handle.bind(this);
    this.handleUpgrade = this.handleUpgrade.bind(this);
  }

  /** node:http 'request' listener. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const startedMs = performance.now();
    const url = req.url ?? '/';
    const route = this.options.router.match(url);
    const routeName = route === undefined ? NO_ROUTE : route.name;

    if (hasConflictingFraming(req)) {
      res.shouldKeepAlive = false;
      sendProblem(res, PROBLEMS.badRequest);
      this.finish(req, routeName, null, 400, startedMs, false);
      return;
    }

    // 1. Key: header → SHA-256 (remembered per secret) → table; missing, unknown, inactive and
    // expired are all 401.
    const secret = findApiKey(req.headers);
    if (secret === undefined) return this.refuse(req, res, PROBLEMS.missingKey, routeName, null, startedMs);
    const record = findKeyRecord(this.secrets, this.options.keys(), secret, this.options.clock());
    if (record === undefined) return this.refuse(req, res, PROBLEMS.invalidKey, routeName, null, startedMs);

    // 2. The gateway's own endpoints are answered here and never proxied.
    if (url.startsWith(GATEWAY_PATHS)) {
      void this.gatewayEndpoint(req, res, url, record, startedMs);
      return;
    }

    // 3. Route (longest prefix).
    if (route === undefined) {
      void this.noRoute(req, res, record, startedMs);
      return;
    }

    // 4. Limiter: one store call, answered to the exchange (decided or storeFailed); a denial
    // already known is answered at once, without I/O.
    const exchange = new Exchange(this, req, res, route, record, startedMs);
    exchange.checkStartedMs = performance.now();
    try {
      this.options.limiter.checkTo(record, route.cost, exchange);
    } catch (error) {
      // A store that throws instead of answering is a store failure; a throw from the answer's own
      // handling (already answered) is a bug and stays one.
      if (exchange.answered) throw error;
      exchange.failed(error);
    }
  }

  decided(exchange: Exchange, reply: StoreReply): void {
    const { res, route, record } = exchange;
    // One clock read ends the check and starts the upstream call.
    const now = performance.now();
    this.options.metrics.recordCheck(secondsBetween(exchange.checkStartedMs, now));
    // 5. Every answer to a valid key carries the rate-limit fields (and Retry-After on a 429),
    // written with the rest of the head in one writeHead.
    const headers = rateLimitHeaderList(record, reply);
    if (!reply.allowed) {
      this.options.metrics.recordRateLimited(record.tier);
      sendProblemWithHeaders(res, PROBLEMS.rateLimited, headers);
      this.finish(exchange.req, route.name, record, 429, exchange.startedMs, true, now);
      return;
    }
    this.forward(exchange, headers, now);
  }

  /** A store failure is handled once, here, by GATEWAY_FAILURE_MODE (STYLE §5). */
  storeFailed(exchange: Exchange, error: unknown): void {
    const { record } = exchange;
    this.options.metrics.recordStoreError();
    this.log.debug({ err: error }, 'limiter store failed');
    // No decision was made: only the fields that need none go out (headers.ts).
    if (this.options.failureMode === 'open') {
      this.options.metrics.recordFailOpen();
      this.forward(exchange, undecidedHeaderList(record, false), performance.now());
      return;
    }
    sendProblemWithHeaders(exchange.res, PROBLEMS.storeUnavailable, undecidedHeaderList(record, true));
    this.finish(exchange.req, exchange.route.name, record, 503, exchange.startedMs, false);
  }

  // 6. Forward: headers rewritten, bodies streamed both ways.
  private forward(exchange: Exchange, responseHeaders: string[] | null, now: number): void {
    const { req, route, record } = exchange;
    if (exchange.res.destroyed) {
      // The client left while the limiter answered: no upstream call for nobody.
      this.finish(req, route.name, record, CLIENT_GONE, exchange.startedMs, false, now);
      return;
    }
    exchange.responseHeaders = responseHeaders;
    exchange.upstreamStartedMs = now;
    this.options.forwarder.forward(
      exchange,
      route.origin,
      upstreamPath(route, req.url ?? '/'),
      upstreamRequestHeaders(req, record.id, record.tier),
    );
  }

  upstreamFinished(exchange: Exchange, error: Error | null): void {
    const { req, res, route, record } = exchange;
    const now = performance.now();
    this.options.metrics.recordUpstream(route.name, secondsBetween(exchange.upstreamStartedMs, now));
    let status = res.statusCode;
    if (error !== null) {
      if (!res.headersSent && !res.destroyed && !req.socket.destroyed) {
        const prepared = upstreamProblem(error);
        if (exchange.responseHeaders === null) sendProblem(res, prepared);
        else sendProblemWithHeaders(res, prepared, exchange.responseHeaders);
        status = prepared.status;
      } else {
        // Mid-body failure or a client that left: nothing valid can be sent any more.
        res.destroy();
        status = res.headersSent ? status : CLIENT_GONE;
      }
      this.log.debug({ err: error, route: route.name }, 'upstream call failed');
    }
    // 7. Record.
    this.finish(req, route.name, record, status, exchange.startedMs, false, now);
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    prepared: PreparedProblem,
    routeName: string,
    record: KeyRecord | null,
    startedMs: number,
  ): void {
    sendProblem(res, prepared);
    this.finish(req, routeName, record, prepared.status, startedMs, false);
  }

  /** 404 for a valid key: a peek (no unit consumed) still gives it its rate-limit fields. */
  private async noRoute(req: IncomingMessage, res: ServerResponse, record: KeyRecord, startedMs: number): Promise<void> {
    try {
      setRateLimitHeaders(res, record, await this.options.limiter.peek(record));
    } catch {
      // The 404 stands with the fields that need no store answer.
      setUndecidedHeaders(res, record, false);
    }
    this.refuse(req, res, PROBLEMS.noRoute, NO_ROUTE, record, startedMs);
  }

  /** GET /_gateway/quota: the key's limits with used/remaining/reset; consumes nothing. */
  private async gatewayEndpoint(
    req: IncomingMessage,
    res: ServerResponse,
    url: string,
    record: KeyRecord,
    startedMs: number,
  ): Promise<void> {
    const path = url.split('?', 1)[0];
    let status: number;
    if (path !== QUOTA_PATH) {
      status = 404;
      sendProblem(res, PROBLEMS.noRoute);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      status = 405;
      res.setHeader('allow', 'GET, HEAD');
      sendProblem(res, PROBLEMS.methodNotAllowed);
    } else {
      try {
        const reply = await this.options.limiter.peek(record);
        setRateLimitHeaders(res, record, reply);
        const body = JSON.stringify({
          key_id: record.id,
          tier: record.tier,
          limits: record.limits.map((limit, index) => {
            const remaining = reply.remaining[index] ?? 0;
            return {
              window: limit.window,
              limit: limit.limit,
              used: Math.max(0, limit.limit - remaining),
              remaining,
              reset_seconds: reply.resetSeconds[index] ?? 0,
            };
          }),
        });
        status = 200;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      } catch (error) {
        this.options.metrics.recordStoreError();
        this.log.debug({ err: error }, 'limiter store failed on quota');
        status = 503;
        setUndecidedHeaders(res, record, true);
        sendProblem(res, PROBLEMS.storeUnavailable);
      }
    }
    this.options.metrics.recordRequest(GATEWAY_ROUTE, req.method, status, secondsBetween(startedMs, performance.now()));
  }

  private finish(
    req: IncomingMessage,
    routeName: string,
    record: KeyRecord | null,
    status: number,
    startedMs: number,
    limited: boolean,
    endMs = performance.now(),
  ): void {
    const seconds = secondsBetween(startedMs, endMs);
    this.options.metrics.recordRequest(routeName, req.method, status, seconds);
    const sink = this.options.requestEvents;
    if (sink === undefined) return;
    sink.record({
      id: this.nextEventId(),
      timeMs: Date.now(),
      keyId: record === null ? null : record.id,
      tier: record === null ? null : record.tier,
      route: routeName === NO_ROUTE ? null : routeName,
      method: normaliseMethod(req.method),
      status,
      durationMs: seconds * 1000,
      limited,
    });
  }

  /**
   * node:http 'upgrade' listener (WebSocket): the same key and limiter checks, refusals written to
   * the socket as HTTP responses, then an http-proxy-3 passthrough.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void this.upgrade(req, socket, head);
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const startedMs = performance.now();
    const url = req.url ?? '/';
    const route = this.options.router.match(url);
    const routeName = route === undefined ? NO_ROUTE : route.name;
    const secret = findApiKey(req.headers);
    const record = secret === undefined ? undefined : findKeyRecord(this.secrets, this.options.keys(), secret, this.options.clock());
    let refusal: PreparedProblem | null = null;
    const headers = new RawHeaders();
    if (secret === undefined) refusal = PROBLEMS.missingKey;
    else if (record === undefined) refusal = PROBLEMS.invalidKey;
    else if (route === undefined) refusal = PROBLEMS.noRoute;
    else {
      try {
        const reply = await this.options.limiter.check(record, route.cost);
        setRateLimitHeaders(headers, record, reply);
        if (!reply.allowed) {
          this.options.metrics.recordRateLimited(record.tier);
          refusal = PROBLEMS.rateLimited;
        }
      } catch {
        this.options.metrics.recordStoreError();
        const closed = this.options.failureMode === 'closed';
        setUndecidedHeaders(headers, record, closed);
        if (closed) refusal = PROBLEMS.storeUnavailable;
        else this.options.metrics.recordFailOpen();
      }
    }
    if (refusal !== null || record === undefined || route === undefined) {
      const prepared = refusal ?? PROBLEMS.noRoute;
      writeRawProblem(socket, prepared, headers.list);
      this.finish(req, routeName, record ?? null, prepared.status, startedMs, prepared.status === 429);
      return;
    }
    this.options.webSockets.forward(req, socket, head, route, record);
    this.finish(req, routeName, record, 101, startedMs, false);
  }
}

export function createRequestHandler(options: RequestHandlerOptions): RequestHandler {
  return new RequestHandler(options);
}
