// Upgrade requests. A WebSocket handshake goes through the same steps as any request (key, route,
// admission) and, once admitted, is relayed by the WebSocket proxy; refusals are written to the raw
// socket as HTTP responses. Any other protocol (`Upgrade: h2c` from `curl --http2`, …) is not
// upgraded: the request is served as plain HTTP/1.1, as RFC 9110 §7.8 allows, and consumes quota only
// when it is forwarded like any other request.
import { ServerResponse, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Admission, AdmissionListener, InspectionListener } from './admission.js';
import { GATEWAY_PATHS } from './gateway-endpoints.js';
import type { KeyLookup } from './keys/key-lookup.js';
import type { KeyRecord } from './keys/key-record.js';
import type { StoreReply } from './limiter/store.js';
import { CONFLICTING_KEYS, findApiKey } from './proxy/api-key.js';
import { hasRequestBody } from './proxy/headers.js';
import { PROBLEMS, writeRawProblem, type PreparedProblem } from './proxy/respond.js';
import { normaliseTarget } from './proxy/request-target.js';
import type { Route, Router } from './proxy/routes.js';
import { isWebSocketUpgrade, type WebSocketProxy } from './proxy/websocket.js';
import { NO_ROUTE, type RequestRecorder } from './request-recorder.js';

export interface UpgradeHandlerOptions {
  readonly keys: KeyLookup;
  readonly router: Router;
  readonly admission: Admission;
  readonly webSockets: WebSocketProxy;
  readonly recorder: RequestRecorder;
  /** The public server's request listener: serves a non-WebSocket upgrade as plain HTTP. */
  readonly serveHttp: (req: IncomingMessage, res: ServerResponse) => void;
}

export class UpgradeHandler {
  constructor(private readonly options: UpgradeHandlerOptions) {
    this.handle = this.handle.bind(this);
  }

  /** node:http 'upgrade' listener. */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (!isWebSocketUpgrade(req)) {
      this.serveWithoutUpgrade(req, socket);
      return;
    }
    const startedMs = performance.now();
    const { recorder } = this.options;
    const url = normaliseTarget(req.url ?? '/');
    if (url === null) return this.refuse(req, socket, PROBLEMS.invalidPath, NO_ROUTE, startedMs);
    req.url = url;
    const route = this.options.router.match(url);
    const routeName = route === undefined ? NO_ROUTE : route.name;
    const secret = findApiKey(req.headers);
    if (secret === undefined) return this.refuse(req, socket, PROBLEMS.missingKey, routeName, startedMs);
    if (secret === CONFLICTING_KEYS) return this.refuse(req, socket, PROBLEMS.conflictingKeys, routeName, startedMs);
    const record = this.options.keys.find(secret);
    if (record === undefined) return this.refuse(req, socket, PROBLEMS.invalidKey, routeName, startedMs);
    // The gateway's own endpoints are never proxied, not even as WebSockets.
    if (route === undefined || url.startsWith(GATEWAY_PATHS)) {
      this.options.admission.inspect(record, 0, new UnroutedUpgrade(req, socket, record, startedMs, recorder));
      return;
    }
    this.options.admission.decide(record, route.cost, new UpgradeExchange(this.options, req, socket, head, route, record, startedMs));
  }

  /** A refusal before any key is known: a raw response, then the connection closes. */
  private refuse(req: IncomingMessage, socket: Duplex, prepared: PreparedProblem, routeName: string, startedMs: number): void {
    writeRawProblem(socket, prepared);
    this.options.recorder.finish(req, routeName, null, prepared.status, startedMs, false);
  }

  /**
   * Node versions without `shouldUpgradeCallback` hand every Upgrade request to the 'upgrade'
   * listener. One without a body is served as plain HTTP/1.1 on this socket (the connection closes
   * after the response); one with a body cannot be (Node no longer parses it), so it is refused.
   */
  private serveWithoutUpgrade(req: IncomingMessage, socket: Duplex): void {
    if (hasRequestBody(req)) {
      writeRawProblem(socket, PROBLEMS.unsupportedUpgrade);
      this.options.recorder.finish(req, NO_ROUTE, null, 400, performance.now(), false);
      return;
    }
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as never);
    res.on('finish', () => {
      res.detachSocket(socket as never);
      socket.end();
    });
    this.options.serveHttp(req, res);
  }
}

/** One WebSocket handshake, from the admission's answer on. */
class UpgradeExchange implements AdmissionListener {
  constructor(
    private readonly options: UpgradeHandlerOptions,
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly route: Route,
    private readonly record: KeyRecord,
    private readonly startedMs: number,
  ) {}

  forward(_headers: string[]): void {
    const { req, route, record } = this;
    this.options.webSockets.forward(req, this.socket, this.head, route, record.id, record.tier);
    this.options.recorder.finish(req, route.name, record, 101, this.startedMs, false);
  }

  refuse(problem: PreparedProblem, headers: string[]): void {
    writeRawProblem(this.socket, problem, headers);
    this.options.recorder.finish(this.req, this.route.name, this.record, problem.status, this.startedMs, problem === PROBLEMS.rateLimited);
  }
}

/** A handshake for no route (or a /_gateway/ path): 404 with the key's rate-limit fields. */
class UnroutedUpgrade implements InspectionListener {
  constructor(
    private readonly req: IncomingMessage,
    private readonly socket: Duplex,
    private readonly record: KeyRecord,
    private readonly startedMs: number,
    private readonly recorder: RequestRecorder,
  ) {}

  inspected(_reply: StoreReply | null, headers: string[]): void {
    writeRawProblem(this.socket, PROBLEMS.noRoute, headers);
    this.recorder.finish(this.req, NO_ROUTE, this.record, 404, this.startedMs, false);
  }
}
