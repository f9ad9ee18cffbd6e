// Answers that read a key's limits without consuming any: GET /_gateway/quota (the key's limits with
// used, remaining and reset; never proxied) and the 404 of a valid key, which still carries the key's
// rate-limit fields. Both ask the admission step for a read and write what it says.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { wholeSeconds, type WindowLimit } from '../../contracts/limits.js';
import type { Admission, InspectionListener, Policy } from './admission.js';
import type { KeyRecord } from './keys/key-record.js';
import type { StoreReply } from './limiter/store.js';
import { PROBLEMS, prepareProblem, sendProblemWithHeaders } from './proxy/respond.js';
import type { Route } from './proxy/routes.js';
import { GATEWAY_ROUTE, NO_ROUTE, type RequestRecorder } from './request-recorder.js';

export const GATEWAY_PATHS = '/_gateway/';
export const QUOTA_PATH = '/_gateway/quota';

const BAD_COST = prepareProblem(400, 'validation-failed', 'cost must be a whole number from 1 to 1000000.');
const UNKNOWN_ROUTE = prepareProblem(404, 'not-found', 'route names no route of this gateway.');

/** A request under /_gateway/ from a valid key. */
export function answerGatewayEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  url: string,
  record: KeyRecord,
  startedMs: number,
  admission: Admission,
  routes: readonly Route[],
  recorder: RequestRecorder,
): void {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path !== QUOTA_PATH) {
    sendProblemWithHeaders(res, PROBLEMS.noRoute, []);
    recorder.finish(req, GATEWAY_ROUTE, record, 404, startedMs);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendProblemWithHeaders(res, PROBLEMS.methodNotAllowed, ['allow', 'GET, HEAD']);
    recorder.finish(req, GATEWAY_ROUTE, record, 405, startedMs);
    return;
  }
  const query = new URLSearchParams(queryAt === -1 ? '' : url.slice(queryAt + 1));
  const costText = query.get('cost');
  const cost = costText === null ? null : Number(costText);
  if (cost !== null && !(Number.isInteger(cost) && cost >= 1 && cost <= 1_000_000 && /^\d+$/.test(costText ?? ''))) {
    sendProblemWithHeaders(res, BAD_COST, []);
    recorder.finish(req, GATEWAY_ROUTE, record, 400, startedMs);
    return;
  }
  const routeName = query.get('route');
  const route = routeName === null ? undefined : routes.find((one) => one.name === routeName);
  if (routeName !== null && route === undefined) {
    sendProblemWithHeaders(res, UNKNOWN_ROUTE, []);
    recorder.finish(req, GATEWAY_ROUTE, record, 404, startedMs);
    return;
  }
  // A peek of the asked cost answers would_admit exactly as a request of that cost would be decided.
  admission.inspect(record, route ?? 'every', routes, cost ?? 0, new QuotaRequest(req, res, record, cost, startedMs, recorder));
}

/**
 * The quota body: each limit that applies to the key (its own, then each route's) with what is used,
 * what remains and when it is back; the concurrency cap and what is in flight; and, asked with
 * `cost`, whether a request of that cost would be admitted now (`reply` is a peek of that cost).
 */
export function quotaBody(record: KeyRecord, policy: Policy, reply: StoreReply, cost: number | null): string {
  const limits = policy.limits.map((limit: WindowLimit, index) => {
    const remaining = reply.remaining[index] ?? 0;
    return {
      name: limit.name,
      window: limit.window,
      limit: limit.limit,
      ...(limit.burst !== null ? { burst: limit.burst } : {}),
      used: Math.max(0, (limit.burst ?? limit.limit) - remaining),
      remaining,
      reset_seconds: wholeSeconds(reply.resetMs[index] ?? 0),
    };
  });
  const concurrency = policy.concurrency === null ? undefined : { limit: policy.concurrency, in_flight: reply.inFlight ?? 0 };
  const body: Record<string, unknown> = { key_id: record.id, tier: record.tier.name, mode: policy.mode, limits };
  if (concurrency !== undefined) body.concurrency = concurrency;
  // In shadow mode every request is forwarded: it would be admitted whatever its limits say.
  if (cost !== null) body.would_admit = reply.allowed || policy.mode === 'shadow';
  return JSON.stringify(body);
}

class QuotaRequest implements InspectionListener {
  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly record: KeyRecord,
    private readonly cost: number | null,
    private readonly startedMs: number,
    private readonly recorder: RequestRecorder,
  ) {}

  inspected(reply: StoreReply | null, headers: string[], policy: Policy): void {
    const { req, res } = this;
    let status = 200;
    if (reply === null) {
      status = 503;
      sendProblemWithHeaders(res, PROBLEMS.storeUnavailable, headers);
    } else {
      const body = quotaBody(this.record, policy, reply, this.cost);
      headers.push('content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)));
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    }
    this.recorder.finish(req, GATEWAY_ROUTE, this.record, status, this.startedMs, undefined, performance.now());
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
    this.recorder.finish(this.req, NO_ROUTE, this.record, 404, this.startedMs);
  }
}
