// Every gateway metric, declared in one place. Labels come from closed sets only: the
// configured route name, a normalised method, the status code and the tier; never a key id, raw
// path or IP. Labelled children are cached so a request costs map lookups, not label hashing.
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../contracts/process-metrics.js';
import { FastCounter, FastHistogram, type CounterChild, type HistogramChild } from './fast-metrics.js';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Methods outside the usual set collapse to OTHER so a client cannot grow the label set. */
export function normaliseMethod(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'OTHER';
}

// Request latencies span sub-millisecond 429s to slow uploads.
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// A limiter check is one Redis round trip: most of the range is below a millisecond.
const CHECK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Which kind of limit refused a request (a closed set, for labels). */
export type LimitKind = 'key' | 'route' | 'client' | 'concurrency';

export interface GatewayMetricsSources {
  /** Keys per tier in the current key table (tollgate_gateway_active_keys). */
  activeKeysByTier(): ReadonlyMap<string, number>;
  /** Config version applied last (tollgate_gateway_config_version). */
  configVersion(): number;
  /** Whether Redis answers now (tollgate_gateway_redis_up). */
  redisUp(): boolean;
  /**
   * Per route name, its upstream origin's connections and waiting requests
   * (tollgate_gateway_upstream_connections, _upstream_waiting_requests).
   */
  upstreams(): ReadonlyMap<string, { readonly connections: number; readonly waiting: number }>;
}

export interface GatewayMetrics {
  readonly registry: Registry;
  /** One finished request: counts it and observes its duration. */
  recordRequest(route: string, method: string | undefined, code: number, durationSeconds: number): void;
  recordUpstream(route: string, durationSeconds: number): void;
  recordCheck(durationSeconds: number): void;
  /** A 429: the key's tier (`none` on a keyless route) and the kind of limit that refused it. */
  recordRateLimited(tier: string, kind: LimitKind): void;
  /** A request a shadow-mode limit would have refused (it was forwarded). */
  recordShadowLimited(tier: string): void;
  recordStoreError(): void;
  recordFailOpen(): void;
  /** A request decided in memory against this gateway's share of its limits (failure mode local). */
  recordLocalDecision(): void;
  /** A check refused because too many checks were waiting for Redis (the gateway is overloaded). */
  recordShed(): void;
  /** Request events dropped because Redis stayed away longer than the buffer lasts. */
  recordRequestLogDropped(count: number): void;
}

export function createGatewayMetrics(sources: GatewayMetricsSources, registry = new Registry()): GatewayMetrics {
  collectProcessMetrics(registry, 'tollgate_gateway_');

  // The per-request metrics are fast-metrics.ts ones (no label hashing per call); the rest are
  // prom-client's.
  const requests = new FastCounter(
    'tollgate_gateway_requests_total',
    'Requests answered by the gateway, by route, method and status code.',
    ['route', 'method', 'code'],
    registry,
  );
  const rateLimited = new FastCounter(
    'tollgate_gateway_rate_limited_total',
    'Requests rejected with 429, by tier (none on a keyless route) and the kind of limit that refused them (key, route, client, concurrency).',
    ['tier', 'kind'],
    registry,
  );
  const shadowLimited = new FastCounter(
    'tollgate_gateway_shadow_limited_total',
    'Requests a shadow-mode limit would have refused (they were forwarded), by tier.',
    ['tier'],
    registry,
  );
  const requestDuration = new FastHistogram(
    'tollgate_gateway_request_duration_seconds',
    'Time from request to response end, by route.',
    'route',
    REQUEST_BUCKETS,
    registry,
  );
  const upstreamDuration = new FastHistogram(
    'tollgate_gateway_upstream_duration_seconds',
    'Time spent on the upstream call, by route.',
    'route',
    REQUEST_BUCKETS,
    registry,
  );
  const checkDuration = new FastHistogram(
    'tollgate_gateway_ratelimit_check_duration_seconds',
    'Time of one limiter check (one Redis round trip).',
    null,
    CHECK_BUCKETS,
    registry,
  ).labels();
  // Gauges say how to merge workers' values (GATEWAY_WORKERS): Redis is up for the group only if
  // every worker sees it, and the group has applied the oldest version any worker has.
  new Gauge({
    name: 'tollgate_gateway_redis_up',
    help: '1 when Redis answers (limiter store up), else 0.',
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.set(sources.redisUp() ? 1 : 0);
    },
  });
  const storeErrors = new Counter({
    name: 'tollgate_gateway_store_errors_total',
    help: 'Limiter calls that failed or timed out (the failure mode applied).',
    registers: [registry],
  });
  const failOpen = new Counter({
    name: 'tollgate_gateway_failopen_total',
    help: 'Requests forwarded without a limiter decision because the store failed (failure mode open).',
    registers: [registry],
  });
  const localDecisions = new Counter({
    name: 'tollgate_gateway_local_decisions_total',
    help: "Requests decided by this gateway's local share of their limits because Redis could not answer (failure mode local).",
    registers: [registry],
  });
  const shed = new Counter({
    name: 'tollgate_gateway_overload_shed_total',
    help: 'Requests refused with 503 because too many checks were waiting for Redis (the gateway, not Redis, was overloaded).',
    registers: [registry],
  });
  const requestLogDropped = new Counter({
    name: 'tollgate_gateway_request_log_dropped_total',
    help: 'Request events dropped before reaching Redis (buffer full while Redis was unreachable).',
    registers: [registry],
  });
  new Gauge({
    name: 'tollgate_gateway_active_keys',
    help: 'Keys in the key table, by tier.',
    labelNames: ['tier'],
    registers: [registry],
    // Every worker holds the same table.
    aggregator: 'max',
    collect() {
      this.reset();
      for (const [tier, count] of sources.activeKeysByTier()) this.set({ tier }, count);
    },
  });
  // Labelled by route, not by upstream URL (labels name no address). Routes that share an origin
  // share its connections and report the same numbers. Each worker holds its own: the group's
  // are the sum.
  new Gauge({
    name: 'tollgate_gateway_upstream_connections',
    help: "Connections open to the route's upstream origin (at most 256 per origin and process).",
    labelNames: ['route'],
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const [route, use] of sources.upstreams()) this.set({ route }, use.connections);
    },
  });
  new Gauge({
    name: 'tollgate_gateway_upstream_waiting_requests',
    help: "Admitted requests waiting for a connection to the route's upstream origin (all of them busy).",
    labelNames: ['route'],
    registers: [registry],
    aggregator: 'sum',
    collect() {
      this.reset();
      for (const [route, use] of sources.upstreams()) this.set({ route }, use.waiting);
    },
  });
  new Gauge({
    name: 'tollgate_gateway_config_version',
    help: 'Version of the key and tier configuration applied last.',
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.set(sources.configVersion());
    },
  });

  // Children cached by label values: route and method come from closed sets, codes from HTTP.
  // route → method → code: nested maps, so a lookup builds no key string.
  const requestChildren = new Map<string, Map<string, Map<number, CounterChild>>>();
  const durationChildren = new Map<string, HistogramChild>();
  const upstreamChildren = new Map<string, HistogramChild>();
  const tierChildren = new Map<string, CounterChild>();
  const shadowChildren = new Map<string, CounterChild>();

  return {
    registry,
    recordRequest(route, method, code, durationSeconds) {
      const normalised = normaliseMethod(method);
      let byMethod = requestChildren.get(route);
      if (byMethod === undefined) {
        byMethod = new Map();
        requestChildren.set(route, byMethod);
      }
      let byCode = byMethod.get(normalised);
      if (byCode === undefined) {
        byCode = new Map();
        byMethod.set(normalised, byCode);
      }
      let counter = byCode.get(code);
      if (counter === undefined) {
        counter = requests.labels(route, normalised, String(code));
        byCode.set(code, counter);
      }
      counter.inc();
      let histogram = durationChildren.get(route);
      if (histogram === undefined) {
        histogram = requestDuration.labels(route);
        durationChildren.set(route, histogram);
      }
      histogram.observe(durationSeconds);
    },
    recordUpstream(route, durationSeconds) {
      let histogram = upstreamChildren.get(route);
      if (histogram === undefined) {
        histogram = upstreamDuration.labels(route);
        upstreamChildren.set(route, histogram);
      }
      histogram.observe(durationSeconds);
    },
    recordCheck(durationSeconds) {
      checkDuration.observe(durationSeconds);
    },
    recordRateLimited(tier, kind) {
      // Tier names and kinds contain no tab: one string keys both labels.
      const id = `${tier}\t${kind}`;
      let counter = tierChildren.get(id);
      if (counter === undefined) {
        counter = rateLimited.labels(tier, kind);
        tierChildren.set(id, counter);
      }
      counter.inc();
    },
    recordShadowLimited(tier) {
      let counter = shadowChildren.get(tier);
      if (counter === undefined) {
        counter = shadowLimited.labels(tier);
        shadowChildren.set(tier, counter);
      }
      counter.inc();
    },
    recordStoreError() {
      storeErrors.inc();
    },
    recordFailOpen() {
      failOpen.inc();
    },
    recordLocalDecision() {
      localDecisions.inc();
    },
    recordShed() {
      shed.inc();
    },
    recordRequestLogDropped(count) {
      requestLogDropped.inc(count);
    },
  };
}
