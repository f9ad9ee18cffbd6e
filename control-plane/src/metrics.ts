// Every metric of the control plane, in one registry of its own. Labels come from closed
// sets: route templates, normalised methods and status codes — never a raw path, key id or secret.
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../contracts/process-metrics.js';

export const registry = new Registry();

collectProcessMetrics(registry, 'tollgate_control_plane_');

export const httpRequestsTotal = new Counter({
  name: 'tollgate_control_plane_http_requests_total',
  help: 'HTTP requests answered by the control plane, by route template, method and status code',
  labelNames: ['route', 'method', 'code'] as const,
  registers: [registry],
});

export const requestLogRowsTotal = new Counter({
  name: 'tollgate_control_plane_request_log_rows_total',
  help: 'request_log rows written (redelivered duplicates not counted)',
  registers: [registry],
});

export const requestLogLagSeconds = new Gauge({
  name: 'tollgate_control_plane_request_log_lag_seconds',
  help: 'seconds between now and the newest request event written; 0 when the stream is drained',
  registers: [registry],
});

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function normaliseMethod(method: string | undefined): string {
  const upper = (method ?? '').toUpperCase();
  return KNOWN_METHODS.has(upper) ? upper : 'OTHER';
}

export interface FleetFigures {
  readonly live: number;
  readonly stale: number;
  readonly maxLagRevisions: number;
  readonly maxLagSeconds: number;
}

/** The fleet's figures, read when Prometheus scrapes; null until a control plane has started. */
let fleetSummary: (() => Promise<FleetFigures>) | null = null;

export function reportFleet(summary: (() => Promise<FleetFigures>) | null): void {
  fleetSummary = summary;
}

/** Reads the fleet once per scrape however many gauges ask; a failed read leaves the gauges as they were. */
let scrape: Promise<FleetFigures | null> | null = null;
function readFleet(): Promise<FleetFigures | null> {
  if (fleetSummary === null) return Promise.resolve(null);
  // Redis away must not hold the scrape: after a second the gauges keep their last values.
  const expired = new Promise<null>((resolve) => setTimeout(resolve, 1000, null).unref());
  scrape ??= Promise.race([fleetSummary().catch(() => null), expired]).finally(() => setImmediate(() => (scrape = null)));
  return scrape;
}

new Gauge({
  name: 'tollgate_control_plane_gateways',
  help: 'gateways in the registry, by state: live (heard from in the last 10 s) or stale',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    const fleet = await readFleet();
    if (fleet === null) return;
    this.set({ state: 'live' }, fleet.live);
    this.set({ state: 'stale' }, fleet.stale);
  },
});

new Gauge({
  name: 'tollgate_control_plane_gateway_lag_revisions',
  help: 'the most configuration changes any live gateway had not applied at its last heartbeat',
  registers: [registry],
  async collect() {
    const fleet = await readFleet();
    if (fleet !== null) this.set(fleet.maxLagRevisions);
  },
});

new Gauge({
  name: 'tollgate_control_plane_gateway_lag_seconds',
  help: 'how long the oldest change some live gateway has not applied has been waiting; 0 when all are up to date',
  registers: [registry],
  async collect() {
    const fleet = await readFleet();
    if (fleet !== null) this.set(fleet.maxLagSeconds);
  },
});
