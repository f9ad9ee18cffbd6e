// The last step of every answered request: its metrics, and one request event for the request log
// (except the gateway's own /_gateway/ endpoints, which are counted but not logged).
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { createRequestEventIds, type RequestEventSink } from '../../contracts/request-event.js';
import { ADMITTED, type Verdict } from './admission.js';
import type { KeyRecord } from './keys/key-record.js';
import { normaliseMethod, type GatewayMetrics } from './metrics.js';
import { clientAddress, type TrustedProxies } from '../../contracts/trusted-proxies.js';

/** Route label for requests that match no route (a closed set: route names plus these two). */
export const NO_ROUTE = 'none';
export const GATEWAY_ROUTE = '_gateway';

export class RequestRecorder {
  private readonly nextEventId = createRequestEventIds();

  constructor(
    private readonly metrics: GatewayMetrics,
    private readonly events: RequestEventSink | undefined,
    private readonly trustedProxies: TrustedProxies,
  ) {}

  /** How long an upstream call took, from sending the request to the end of the response. */
  upstream(routeName: string, startedMs: number, endMs: number): void {
    this.metrics.recordUpstream(routeName, (endMs - startedMs) / 1000);
  }

  /** One answered request; `verdict` says whether and which limit refused it. */
  finish(
    req: IncomingMessage,
    routeName: string,
    record: KeyRecord | null,
    status: number,
    startedMs: number,
    verdict: Verdict = ADMITTED,
    endMs = performance.now(),
  ): void {
    const seconds = (endMs - startedMs) / 1000;
    this.metrics.recordRequest(routeName, req.method, status, seconds);
    const sink = this.events;
    if (sink === undefined || routeName === GATEWAY_ROUTE) return;
    sink.record({
      id: this.nextEventId(),
      timeMs: Date.now(),
      keyId: record === null ? null : record.id,
      tier: record === null ? null : record.tier.name,
      route: routeName === NO_ROUTE ? null : routeName,
      method: normaliseMethod(req.method),
      status,
      durationMs: seconds * 1000,
      limited: verdict.limited,
      clientIp: clientAddress(req, this.trustedProxies) || null,
      limitedBy: verdict.limitedBy,
      shadowLimited: verdict.shadowLimited,
    });
  }
}
