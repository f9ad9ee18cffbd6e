// Streams an admitted request to its upstream and the response back (SPEC §3): one undici Pool
// (keep-alive) per upstream origin, the client's request as the body stream, the client's response
// as the sink, so neither body is buffered. The factory and callback are plain functions that get
// the exchange through `opaque`: no closure per request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Pool, errors, type Dispatcher } from 'undici';
import { PROBLEMS, type PreparedProblem } from './respond.js';
import { clientResponseHeaders, hasRequestBody } from './headers.js';

/** What undici needs of an abort signal that is an EventEmitter: one 'abort' listener at a time. */
export interface AbortSource {
  readonly aborted: boolean;
  on(event: 'abort', listener: () => void): unknown;
  once(event: 'abort', listener: () => void): unknown;
  removeListener(event: 'abort', listener: () => void): unknown;
}

/**
 * The per-request state the proxy needs; handle-request.ts owns the concrete class (ExchangeBase).
 * It is also the request's abort signal for undici: it fires when the client leaves early.
 */
export interface ForwardExchange extends AbortSource {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Listens to the response's 'close' (ExchangeBase). */
  readonly onResponseClose: () => void;
  /** Fields the gateway adds to the upstream's response (rate-limit headers), or null. */
  readonly responseHeaders: readonly string[] | null;
  /** Called once when the upstream call is over; `error` null when the response was relayed. */
  upstreamFinished(error: Error | null): void;
}

export interface ForwarderOptions {
  /** Longest wait for the upstream's response headers (GATEWAY_UPSTREAM_TIMEOUT_MS). */
  readonly upstreamTimeoutMs: number;
  readonly origins: readonly string[];
}

export interface Forwarder {
  forward(exchange: ForwardExchange, origin: string, path: string, headers: string[]): void;
  close(): Promise<void>;
}

function writeResponseHead(data: Dispatcher.StreamFactoryData<ForwardExchange>): ServerResponse {
  const exchange = data.opaque as ForwardExchange;
  const res = exchange.res;
  res.writeHead(data.statusCode, clientResponseHeaders(data.headers as unknown as string[], exchange.responseHeaders));
  return res;
}

function onStreamDone(error: Error | null, data: { opaque: unknown }): void {
  (data.opaque as ForwardExchange).upstreamFinished(error);
}

/**
 * The abort-signal half of an exchange: undici accepts any object with on/once/removeListener as a
 * signal, and a single listener slot costs less than an EventEmitter's listener list on the
 * ServerResponse (add, once-wrapper, remove per request). The response's 'close' before it finished
 * (the client went away) fires it, which cancels the upstream call.
 */
export abstract class ExchangeBase implements AbortSource {
  abstract readonly res: ServerResponse;
  aborted = false;
  private abortListener: (() => void) | null = null;

  readonly onResponseClose = (): void => {
    if (this.res.writableFinished || this.aborted) return;
    this.aborted = true;
    const listener = this.abortListener;
    this.abortListener = null;
    if (listener !== null) listener();
  };

  on(_event: 'abort', listener: () => void): this {
    this.abortListener = listener;
    return this;
  }

  once(event: 'abort', listener: () => void): this {
    return this.on(event, listener);
  }

  removeListener(_event: 'abort', listener: () => void): this {
    if (this.abortListener === listener) this.abortListener = null;
    return this;
  }
}

export function createForwarder(options: ForwarderOptions): Forwarder {
  const pools = new Map<string, Pool>();
  const poolFor = (origin: string): Pool => {
    let pool = pools.get(origin);
    if (pool === undefined) {
      pool = new Pool(origin, {
        headersTimeout: options.upstreamTimeoutMs,
        // Streaming responses (SSE, long downloads) may pause for long; the client can hang up.
        bodyTimeout: 0,
        keepAliveTimeout: 4_000,
        connect: { timeout: Math.min(options.upstreamTimeoutMs, 10_000) },
      });
      pools.set(origin, pool);
    }
    return pool;
  };
  for (const origin of options.origins) poolFor(origin);

  return {
    forward(exchange, origin, path, headers) {
      const { req, res } = exchange;
      res.on('close', exchange.onResponseClose);
      poolFor(origin).stream(
        {
          path,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: hasRequestBody(req) ? req : null,
          opaque: exchange,
          signal: exchange,
          responseHeaders: 'raw',
          headersTimeout: options.upstreamTimeoutMs,
        },
        writeResponseHead,
        onStreamDone,
      );
    },
    async close() {
      await Promise.all([...pools.values()].map((pool) => pool.close()));
    },
  };
}

/** The problem for a failed upstream call: 504 for a headers timeout, 502 for anything else. */
export function upstreamProblem(error: Error): PreparedProblem {
  return error instanceof errors.HeadersTimeoutError || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT'
    ? PROBLEMS.upstreamTimeout
    : PROBLEMS.upstreamUnavailable;
}
