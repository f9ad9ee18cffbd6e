// The client's request body as the gateway streams it to the upstream, watched on the way:
// - a client that stops sending (a body dribbled at one byte a second) is cut off after
//   GATEWAY_CLIENT_BODY_TIMEOUT_MS without a byte, instead of holding a connection for minutes;
// - a chunked body past GATEWAY_MAX_BODY_BYTES is cut off where it passes it (a body with a
//   Content-Length over it never gets this far: see handle-request.ts).
// Either way the upstream call is aborted with an error the exchange answers (408, 413).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { hasRequestBody } from './headers.js';

export class ClientBodyTimeoutError extends Error {
  override readonly name = 'ClientBodyTimeoutError';
  readonly code = 'CLIENT_BODY_TIMEOUT';
}

export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  readonly code = 'BODY_TOO_LARGE';
}

export interface BodyLimits {
  readonly idleTimeoutMs: number;
  /** Undefined: no limit. */
  readonly maxBytes: number | undefined;
}

/** Passes bytes through until `maxBytes` is passed, then reports it once and passes nothing more. */
class ByteLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly exceeded: () => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) {
      done();
      this.exceeded();
      return;
    }
    done(null, chunk);
  }
}

/**
 * The socket's idle timer while the body is still being received (Node emits 'timeout' on an
 * incomplete request only), cleared once it is in.
 */
function watchForStall(req: IncomingMessage, res: ServerResponse, idleTimeoutMs: number, abort: (error: Error) => void): void {
  const stalled = (): void => abort(new ClientBodyTimeoutError(`no request body byte for ${idleTimeoutMs} ms`));
  req.setTimeout(idleTimeoutMs, stalled);
  const received = (): void => {
    req.off('timeout', stalled);
    // Once the response is over, Node's own keep-alive timer is on the socket: leave it.
    if (!res.writableFinished) (req.socket as typeof req.socket | null)?.setTimeout(0);
  };
  req.once('end', received);
  req.once('close', received);
}

/** The body to stream (null: none), with its watch set up; `abort` ends the upstream call. */
export function watchedRequestBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits, abort: (error: Error) => void): Readable | null {
  if (!hasRequestBody(req)) return null;
  if (!req.complete) watchForStall(req, res, limits.idleTimeoutMs, abort);
  const maxBytes = limits.maxBytes;
  if (maxBytes === undefined || req.headers['content-length'] !== undefined) return req;
  return req.pipe(new ByteLimit(maxBytes, () => abort(new BodyTooLargeError(`the request body passed ${maxBytes} bytes`))));
}
