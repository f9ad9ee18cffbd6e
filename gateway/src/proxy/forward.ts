// Streams an admitted request to its upstream and the response back: one undici Pool
// (keep-alive) per upstream origin, the client's request as the body stream, each response chunk
// written to the client's response as it arrives, so neither body is buffered.
//
// Each origin gets at most `maxConnections` connections; more requests wait in the pool for one.
// Without a bound, a gateway offered more than it could serve opened a connection per waiting
// request (about 9 000 to one upstream in the fault suite's overload test): the upstream's accept
// queue overflowed, connects waited out their SYN retries, and answers fell from about 2 500/s to
// about 350/s with p50 at 9 s. 256 stays under the accept queue most servers ask for (Node: 511).
//
// Each call is its own undici dispatch handler: undici's HTTP/1.1 client calls its methods directly.
// Pool.stream drives the same callbacks but adds an AsyncResource scope and watches the response
// with stream.finished (about eight listeners per request); without them a bare proxy used 2–10%
// less CPU per request on the development machine.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool, errors, type Dispatcher } from 'undici';
import { PROBLEMS, type PreparedProblem } from './respond.js';
import { clientResponseHeaders } from './headers.js';
import { BodyTooLargeError, ClientBodyTimeoutError, watchedRequestBody } from './request-body.js';

/** The reason undici is given when the client left before the upstream call was over. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client closed the connection');
    this.name = 'ClientGoneError';
  }
}

export interface ForwarderOptions {
  /** Longest wait for the upstream's response headers (GATEWAY_UPSTREAM_TIMEOUT_MS). */
  readonly upstreamTimeoutMs: number;
  /** Longest pause in the upstream's response body (GATEWAY_UPSTREAM_BODY_TIMEOUT_MS); 0: none. */
  readonly upstreamBodyTimeoutMs: number;
  /** Longest pause in the client's request body (GATEWAY_CLIENT_BODY_TIMEOUT_MS). */
  readonly clientBodyTimeoutMs: number;
  /** Largest chunked request body forwarded (GATEWAY_MAX_BODY_BYTES); undefined: no limit. */
  readonly maxBodyBytes?: number;
  readonly origins: readonly string[];
  /** Connections per upstream origin (default DEFAULT_UPSTREAM_CONNECTIONS). */
  readonly maxConnections?: number;
}

export const DEFAULT_UPSTREAM_CONNECTIONS = 256;

export interface Forwarder {
  /**
   * Streams `req` to `origin` + `path` with `headers` and the response back into `res`, adding
   * `extraHeaders`; `listener` hears once when it is over.
   */
  forward(
    req: IncomingMessage,
    res: ServerResponse,
    origin: string,
    path: string,
    headers: string[],
    extraHeaders: readonly string[],
    listener: UpstreamListener,
  ): void;
  /** Per upstream origin: connections open now and requests not yet sent on one. */
  upstreams(): ReadonlyMap<string, UpstreamUse>;
  close(): Promise<void>;
}

export interface UpstreamUse {
  readonly connections: number;
  readonly waiting: number;
}

type Abort = (reason?: Error) => void;

function noop(): void {}

/** Told once when an upstream call is over: null when the whole response reached the client. */
export interface UpstreamListener {
  upstreamFinished(error: Error | null): void;
}

/** One upstream call, as an undici dispatch handler: undici's HTTP/1.1 client calls it directly. */
class UpstreamCall implements Dispatcher.DispatchHandler {
  private abortUpstream: Abort | null = null;
  /** undici's resume for this call's socket (one function per connection, not per request). */
  private resumeUpstream: () => void = noop;
  private clientGone = false;
  private finished = false;

  constructor(
    private readonly res: ServerResponse,
    /** Fields the gateway adds to the upstream's response (rate-limit headers). */
    private readonly extraHeaders: readonly string[],
    private readonly listener: UpstreamListener,
  ) {}

  /** Why the call was stopped before undici connected, if it was. */
  private stopped: Error | null = null;

  /** The response's 'close' before it finished: the client went away, so the upstream call stops. */
  readonly onResponseClose = (): void => {
    if (this.res.writableFinished || this.finished || this.clientGone) return;
    this.clientGone = true;
    this.abort(new ClientGoneError());
  };

  /** Stops the upstream call; undici then reports `reason` to onError. */
  readonly abort = (reason: Error): void => {
    if (this.finished) return;
    if (this.abortUpstream !== null) this.abortUpstream(reason);
    else this.stopped ??= reason;
  };

  onConnect(abort: Abort): void {
    if (this.stopped !== null) abort(this.stopped);
    else this.abortUpstream = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx interim responses are the upstream's business; the client gets the final one.
    if (statusCode < 200) return true;
    this.resumeUpstream = resume;
    const res = this.res;
    // A header Node refuses throws here; undici then aborts the call and onError answers 502.
    res.writeHead(statusCode, clientResponseHeaders(rawHeaders, this.extraHeaders));
    return !res.writableNeedDrain;
  }

  /** Returning false pauses the upstream socket until the client has taken what is buffered. */
  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resumeUpstream);
    return false;
  }

  onComplete(): void {
    this.res.end();
    this.settle(null);
  }

  onError(error: Error): void {
    this.settle(error);
  }

  private settle(error: Error | null): void {
    if (this.finished) return;
    this.finished = true;
    this.abortUpstream = null;
    this.listener.upstreamFinished(error);
  }
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        connections: options.maxConnections ?? DEFAULT_UPSTREAM_CONNECTIONS,
        headersTimeout: options.upstreamTimeoutMs,
        // An upstream that stalls mid-body is cut off after this pause; 0 lets streams (SSE, long
        // downloads) pause as long as they like.
        bodyTimeout: options.upstreamBodyTimeoutMs,
        keepAliveTimeout: 4_000,
        connect: { timeout: Math.min(options.upstreamTimeoutMs, 10_000) },
      });
      pools.set(origin, pool);
    }
    return pool;
  };
  for (const origin of options.origins) poolFor(origin);
  const bodyLimits = { idleTimeoutMs: options.clientBodyTimeoutMs, maxBytes: options.maxBodyBytes };

  return {
    forward(req, res, origin, path, headers, extraHeaders, listener) {
      const call = new UpstreamCall(res, extraHeaders, listener);
      res.on('close', call.onResponseClose);
      poolFor(origin).dispatch(
        {
          path,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: watchedRequestBody(req, res, bodyLimits, call.abort),
          headersTimeout: options.upstreamTimeoutMs,
        },
        call,
      );
    },
    upstreams() {
      const use = new Map<string, UpstreamUse>();
      for (const [origin, pool] of pools) {
        const stats = pool.stats;
        use.set(origin, { connections: stats.connected, waiting: stats.pending });
      }
      return use;
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}

/**
 * The problem for a failed upstream call: the client's own body stalled (408) or grew too large
 * (413); what the client sent cannot be forwarded (400); the upstream sent no headers in time
 * (504); anything else the upstream did (502).
 */
export function upstreamProblem(error: Error): PreparedProblem {
  if (error instanceof ClientBodyTimeoutError) return PROBLEMS.requestTimeout;
  if (error instanceof BodyTooLargeError) return PROBLEMS.bodyTooLarge;
  const code = (error as { code?: string }).code;
  if (code === 'UND_ERR_INVALID_ARG') return PROBLEMS.unforwardable;
  if (error instanceof errors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') return PROBLEMS.upstreamTimeout;
  return PROBLEMS.upstreamUnavailable;
}

/** Whether the client's request body was left unread, so the connection cannot be kept alive. */
export function bodyLeftUnread(error: Error): boolean {
  return error instanceof ClientBodyTimeoutError || error instanceof BodyTooLargeError || (error as { code?: string }).code === 'UND_ERR_INVALID_ARG';
}
