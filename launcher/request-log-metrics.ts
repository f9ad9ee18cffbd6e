// The control plane's request-log metrics (SPEC §5) for the embedded writer. They belong in
// control-plane/src/metrics.ts; until they are declared there, they are registered here on the same
// registry, and taken from it when they already exist (registering a name twice throws).
import { Counter, Gauge, type Metric } from 'prom-client';
import type { CounterLike, GaugeLike } from '../control-plane/src/log-writer/log-writer.js';
import { registry } from '../control-plane/src/metrics.js';

const ROWS = 'tollgate_control_plane_request_log_rows_total';
const LAG = 'tollgate_control_plane_request_log_lag_seconds';

function existing<T extends Metric>(name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function requestLogMetrics(): { rowsTotal: CounterLike; lagSeconds: GaugeLike } {
  const rowsTotal =
    existing<Counter>(ROWS) ??
    new Counter({ name: ROWS, help: 'request_log rows written', registers: [registry] });
  const lagSeconds =
    existing<Gauge>(LAG) ??
    new Gauge({ name: LAG, help: 'seconds between the newest written request event and its write', registers: [registry] });
  return { rowsTotal, lagSeconds };
}
