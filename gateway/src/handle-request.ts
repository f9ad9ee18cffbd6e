// The hot path, top to bottom: framing → route → API key → key table → admission (one limiter
// call) → forward with the rate-limit fields, or refuse → record. One Redis round trip, one upstream
// call, no PostgreSQL, no info logging. The admission step decides; this file only writes what it
// was told. Per-request state lives in one Exchange; the steps are methods and plain functions.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
// Imported, not the global: globalThis.performance is a lazy getter, so every read of the global
// costs a global-IC miss and a getter call (about 300 instructions per read, callgrind).
import { performance } from 'node:perf_hooks';
import { ADMITTED, type Admission, type AdmissionListener, type Verdict } from './admission.js';
import { answerGatewayEndpoint, GATEWAY_PATHS, UnroutedRequest } from './gateway-endpoints.js';
import type { KeyRecord } from './keys/key-record.js';
import type { KeyLookup } from './keys/key-lookup.js';
import { CONFLICTING_KEYS, findApiKey } from './proxy/api-key.js';
import { framingProblem } from './proxy/framing.js';
import { normaliseTarget } from './proxy/request-target.js';
import { bodyLeftUnread, upstreamProblem, type Forwarder, type UpstreamListener } from './proxy/forward.js';
import { clientAddress, type TrustedProxies } from '../../contracts/trusted-proxies.js';
import { upstreamRequestHeaders } from './proxy/headers.js';
import { PROBLEMS, sendProblem, sendProblemWithHeaders, type PreparedProblem } from './proxy/respond.js';
import { upstreamPath, type Route, type Router } from './proxy/routes.js';
import { NO_ROUTE, type RequestRecorder } from './request-recorder.js';

export interface RequestHandlerOptions {
  readonly keys: KeyLookup;
  readonly router: Router;
  readonly admission: Admission;
  readonly forwarder: Forwarder;
  readonly recorder: RequestRecorder;
  readonly logger: Logger;
  /** GATEWAY_TRUSTED_PROXIES: whose X-Forwarded-* are passed on. */
  readonly trustedProxies: TrustedProxies;
  /** GATEWAY_MAX_BODY_BYTES; undefined: no limit. */
  readonly maxBodyBytes?: number;
}

/** nginx's code for "client closed the connection before the response", for metrics and logs. */
const CLIENT_GONE = 499;

/** What `OPTIONS *` (a question about the server, not a resource) is told. */
const SERVER_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

export class RequestHandler {
  constructor(private readonly options: RequestHandlerOptions) {
    this.handle = this.handle.bind(this);
  }

  /** node:http 'request' listener. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    const startedMs = performance.now();
    const { recorder } = this.options;

    // 0. Framing and target: refused (and the connection closed) before anything is looked up.
    const badFraming = framingProblem(req);
    if (badFraming !== null) {
      res.shouldKeepAlive = false;
      return refuseWithoutKey(req, res, badFraming, NO_ROUTE, startedMs, recorder);
    }
    const raw = req.url ?? '/';
    if (raw === '*') return answerServerOptions(req, res, startedMs, recorder);
    const url = normaliseTarget(raw);
    if (url === null) return refuseWithoutKey(req, res, PROBLEMS.invalidPath, NO_ROUTE, startedMs, recorder);
    // The upstream gets the target the gateway routed on.
    req.url = url;
    const route = this.options.router.match(url);
    const routeName = route === undefined ? NO_ROUTE : route.name;

    // A body declared larger than the gateway forwards is refused before it costs any quota.
    if (this.options.maxBodyBytes !== undefined && Number(req.headers['content-length']) > this.options.maxBodyBytes) {
      res.shouldKeepAlive = false;
      return refuseWithoutKey(req, res, PROBLEMS.bodyTooLarge, routeName, startedMs, recorder);
    }

    // A keyless route (auth: none) needs no key: limited per client address, or not at all.
    if (route !== undefined && route.auth === 'none' && !url.startsWith(GATEWAY_PATHS)) {
      const exchange = new Exchange(this.options, req, res, route, null, startedMs);
      if (route.limitBy === 'client_ip') this.options.admission.decideForClient(route, clientAddress(req, this.options.trustedProxies), exchange);
      else exchange.forward([], ADMITTED);
      return;
    }

    // 1. Key: header → SHA-256 (remembered per secret) → table; missing, unknown, inactive and
    // expired are all 401.
    const secret = findApiKey(req.headers);
    if (secret === undefined) return refuseWithoutKey(req, res, PROBLEMS.missingKey, routeName, startedMs, recorder);
    if (secret === CONFLICTING_KEYS) return refuseWithoutKey(req, res, PROBLEMS.conflictingKeys, routeName, startedMs, recorder);
    const record = this.options.keys.find(secret);
    if (record === undefined) return refuseWithoutKey(req, res, PROBLEMS.invalidKey, routeName, startedMs, recorder);

    // 2. The gateway's own endpoints are answered here and never proxied.
    if (url.startsWith(GATEWAY_PATHS)) {
      answerGatewayEndpoint(req, res, url, record, startedMs, this.options.admission, this.options.router.routes, recorder);
      return;
    }

    // 3. Route (longest prefix); a 404 still reports the key's limits, consuming nothing.
    if (route === undefined) {
      this.options.admission.inspect(record, 'none', this.options.router.routes, 0, new UnroutedRequest(req, res, record, startedMs, recorder));
      return;
    }

    // 4. Admission: one limiter call for every limit that applies; the exchange writes what it decides.
    this.options.admission.decide(record, route, new Exchange(this.options, req, res, route, record, startedMs));
  }
}

/** `OPTIONS *`: the methods the gateway passes on; no key needed, nothing proxied. */
function answerServerOptions(req: IncomingMessage, res: ServerResponse, startedMs: number, recorder: RequestRecorder): void {
  if (req.method !== 'OPTIONS') return refuseWithoutKey(req, res, PROBLEMS.invalidPath, NO_ROUTE, startedMs, recorder);
  res.writeHead(204, ['allow', SERVER_METHODS]);
  res.end();
  recorder.finish(req, NO_ROUTE, null, 204, startedMs);
}

function refuseWithoutKey(
  req: IncomingMessage,
  res: ServerResponse,
  prepared: PreparedProblem,
  routeName: string,
  startedMs: number,
  recorder: RequestRecorder,
): void {
  sendProblem(res, prepared);
  recorder.finish(req, routeName, null, prepared.status, startedMs);
}

/** One proxied request, from the admission's answer to the end of the upstream's response. */
class Exchange implements AdmissionListener, UpstreamListener {
  private upstreamStartedMs = 0;
  /** The rate-limit fields of the decision, for a problem answered after the upstream failed. */
  private responseHeaders: string[] = [];
  private verdict: Verdict = ADMITTED;

  constructor(
    private readonly options: RequestHandlerOptions,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly route: Route,
    /** Null on a keyless route. */
    private readonly record: KeyRecord | null,
    private readonly startedMs: number,
  ) {}

  // 5a. Refused (429, or 503 from the failure mode): the problem with the rate-limit fields.
  refuse(problem: PreparedProblem, headers: string[], verdict: Verdict): void {
    sendProblemWithHeaders(this.res, problem, headers);
    this.options.recorder.finish(this.req, this.route.name, this.record, problem.status, this.startedMs, verdict);
  }

  // 5b. Forwarded: headers rewritten, bodies streamed both ways, the rate-limit fields added.
  forward(headers: string[], verdict: Verdict): void {
    const { req, route, record } = this;
    const now = performance.now();
    this.verdict = verdict;
    if (this.res.destroyed) {
      // The client left while the limiter answered: no upstream call for nobody.
      verdict.slot?.release();
      this.options.recorder.finish(req, route.name, record, CLIENT_GONE, this.startedMs, verdict, now);
      return;
    }
    this.responseHeaders = headers;
    this.upstreamStartedMs = now;
    this.options.forwarder.forward(
      req,
      this.res,
      route.origin,
      upstreamPath(route, req.url ?? '/'),
      upstreamRequestHeaders(req, record?.id ?? null, record?.tier.name ?? null, this.options.trustedProxies),
      headers,
      this,
    );
  }

  // 6. Record, once the upstream's response is over (or failed); the concurrency slot is free again.
  upstreamFinished(error: Error | null): void {
    const { req, res, route } = this;
    const now = performance.now();
    const recorder = this.options.recorder;
    this.verdict.slot?.release();
    recorder.upstream(route.name, this.upstreamStartedMs, now);
    let status = res.statusCode;
    if (error !== null) {
      if (!res.headersSent && !res.destroyed && !req.socket.destroyed) {
        const prepared = upstreamProblem(error);
        // The rest of the client's body is still on the wire: the connection cannot be reused.
        if (bodyLeftUnread(error)) res.shouldKeepAlive = false;
        sendProblemWithHeaders(res, prepared, this.responseHeaders);
        status = prepared.status;
      } else {
        // Mid-body failure or a client that left: nothing valid can be sent any more.
        res.destroy();
        status = res.headersSent ? status : CLIENT_GONE;
      }
      this.options.logger.debug({ err: error, route: route.name }, 'upstream call failed');
    }
    recorder.finish(req, route.name, this.record, status, this.startedMs, this.verdict, now);
  }
}
