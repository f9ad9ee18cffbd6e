// The process and Node.js metrics both services export, under their own prefix, so one dashboard
// reads both the same way. prom-client's defaults, less three gauges it names `…_total`: that suffix
// is for counters in Prometheus's conventions (`promtool check metrics` rejects them), and handles
// and requests in flight say little that the event-loop lag and heap metrics do not.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** `prefix` ends with `_`, e.g. `tollgate_gateway_`. */
export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(prefix + name);
}
