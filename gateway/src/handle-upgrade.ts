// Upgrade requests. A WebSocket handshake goes through the same steps as any request (key, route,
// admission) and, once admitted, is relayed by the WebSocket proxy; refusals are written to the raw
// socket as HTTP responses. Any other protocol (`Upgrade: h2c` from `curl --http2`, …) is not
// upgraded: the request is served as plain HTTP/1.1, as RFC 9110 §7.8 allows, and consumes quota only
// when it is forwarded like any other request.
import { ServerResponse, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { ADMITTED, type Admission, type AdmissionListener, type InspectionListener, type Verdict } from './admission.js';
import { clientAddress, type TrustedProxies } from '../../contracts/trusted-proxies.js';
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
  readonly trustedProxies: TrustedProxies;
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
    if (route !== undefined && route.auth === 'none' && !url.startsWith(GATEWAY_PATHS)) {
      const upgrade = new UpgradeExchange(this.options, req, socket, head, route, null, startedMs);
      if (route.limitBy === 'client_ip') this.options.admission.decideForClient(route, clientAddress(req, this.options.trustedProxies), upgrade);
      else upgrade.forward([], ADMITTED);
      return;
    }
    const secret = findApiKey(req.headers);
    if (secret === undefined) return this.refuse(req, socket, PROBLEMS.missingKey, routeName, startedMs);
    if (secret === CONFLICTING_KEYS) return this.refuse(req, socket, PROBLEMS.conflictingKeys, routeName, startedMs);
    const record = this.options.keys.find(secret);
    if (record === undefined) return this.refuse(req, socket, PROBLEMS.invalidKey, routeName, startedMs);
    // The gateway's own endpoints are never proxied, not even as WebSockets.
    if (route === undefined || url.startsWith(GATEWAY_PATHS)) {
      this.options.admission.inspect(record, 'none', this.options.router.routes, 0, new UnroutedUpgrade(req, socket, record, startedMs, recorder));
      return;
    }
    this.options.admission.decide(record, route, new UpgradeExchange(this.options, req, socket, head, route, record, startedMs));
  }

  /** A refusal before any key is known: a raw response, then the connection closes. */
  private refuse(req: IncomingMessage, socket: Duplex, prepared: PreparedProblem, routeName: string, startedMs: number): void {
    writeRawProblem(socket, prepared);
    this.options.recorder.finish(req, routeName, null, prepared.status, startedMs);
  }

  /**
   * Node versions without `shouldUpgradeCallback` hand every Upgrade request to the 'upgrade'
   * listener. One without a body is served as plain HTTP/1.1 on this socket (the connection closes
   * after the response); one with a body cannot be (Node no longer parses it), so it is refused.
   */
  private serveWithoutUpgrade(req: IncomingMessage, socket: Duplex): void {
    if (hasRequestBody(req)) {
      writeRawProblem(socket, PROBLEMS.unsupportedUpgrade);
      this.options.recorder.finish(req, NO_ROUTE, null, 400, performance.now());
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
    /** Null on a keyless route. */
    private readonly record: KeyRecord | null,
    private readonly startedMs: number,
  ) {}

  forward(_headers: string[], verdict: Verdict): void {
    const { req, route, record } = this;
    // A WebSocket holds its concurrency slot for as long as it is open.
    if (verdict.slot !== null) this.socket.once('close', () => verdict.slot?.release());
    this.options.webSockets.forward(req, this.socket, this.head, route, record?.id ?? null, record?.tier.name ?? null);
    this.options.recorder.finish(req, route.name, record, 101, this.startedMs, verdict);
  }

  refuse(problem: PreparedProblem, headers: string[], verdict: Verdict): void {
    writeRawProblem(this.socket, problem, headers);
    this.options.recorder.finish(this.req, this.route.name, this.record, problem.status, this.startedMs, verdict);
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
    this.recorder.finish(this.req, NO_ROUTE, this.record, 404, this.startedMs);
  }
}
