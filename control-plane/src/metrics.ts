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
