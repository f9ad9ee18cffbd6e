// Answers that read a key's limits without consuming any: GET /_gateway/quota (the key's limits
// with used, remaining and reset; never proxied) and the 404 of a valid key, which still carries
// the key's rate-limit fields. Both ask the admission step for a read and write what it says.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { wholeSeconds } from '../../contracts/limits.js';
import type { Admission, InspectionListener } from './admission.js';
import type { KeyRecord } from './keys/key-record.js';
import type { StoreReply } from './limiter/store.js';
import { PROBLEMS, sendProblemWithHeaders } from './proxy/respond.js';
import { GATEWAY_ROUTE, NO_ROUTE, type RequestRecorder } from './request-recorder.js';

export const GATEWAY_PATHS = '/_gateway/';
export const QUOTA_PATH = '/_gateway/quota';

/** A request under /_gateway/ from a valid key. */
export function answerGatewayEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  record: KeyRecord,
  startedMs: number,
  admission: Admission,
  recorder: RequestRecorder,
): void {
  const path = url.split('?', 1)[0];
  if (path !== QUOTA_PATH) {
    sendProblemWithHeaders(res, PROBLEMS.noRoute, []);
    recorder.finish(req, GATEWAY_ROUTE, record, 404, startedMs, false);
  } else if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendProblemWithHeaders(res, PROBLEMS.methodNotAllowed, ['allow', 'GET, HEAD']);
    recorder.finish(req, GATEWAY_ROUTE, record, 405, startedMs, false);
  } else {
    admission.inspect(record, 0, new QuotaRequest(req, res, record, startedMs, recorder));
  }
}

/** The quota body: each limit of the key with what is used, what remains and when it is back. */
export function quotaBody(record: KeyRecord, reply: StoreReply): string {
  return JSON.stringify({
    key_id: record.id,
    tier: record.tier,
    limits: record.limits.map((limit, index) => {
      const remaining = reply.remaining[index] ?? 0;
      return {
        window: limit.window,
        limit: limit.limit,
        used: Math.max(0, limit.limit - remaining),
        remaining,
        reset_seconds: wholeSeconds(reply.resetMs[index] ?? 0),
      };
    }),
  });
}

class QuotaRequest implements InspectionListener {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly record: KeyRecord,
    private readonly startedMs: number,
    private readonly recorder: RequestRecorder,
  ) {}

  inspected(reply: StoreReply | null, headers: string[]): void {
    const { req, res } = this;
    let status = 200;
    if (reply === null) {
      status = 503;
      sendProblemWithHeaders(res, PROBLEMS.storeUnavailable, headers);
    } else {
      const body = quotaBody(this.record, reply);
      headers.push('content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)));
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    }
    this.recorder.finish(req, GATEWAY_ROUTE, this.record, status, this.startedMs, false, performance.now());
  }
}

/** A valid key's request that matches no route: 404 with the key's rate-limit fields. */
export class UnroutedRequest implements InspectionListener {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly record: KeyRecord,
    private readonly startedMs: number,
    private readonly recorder: RequestRecorder,
  ) {}

  inspected(_reply: StoreReply | null, headers: string[]): void {
    sendProblemWithHeaders(this.res, PROBLEMS.noRoute, headers);
    this.recorder.finish(this.req, NO_ROUTE, this.record, 404, this.startedMs, false);
  }
}
