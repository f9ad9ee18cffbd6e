// autocannon ships no types; this declares the part of its API the bench and the fault suite use.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  /** What setupRequest may change before one request is written. */
  interface RequestParams {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
  }

  /** One entry of `requests`: called once per request on its connection, with that connection's context. */
  interface RequestTemplate extends RequestParams {
    setupRequest?: (request: RequestParams, context: Record<string, unknown>) => RequestParams;
    onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string>) => void;
  }

  interface AutocannonOptions {
    url: string;
    connections?: number;
    pipelining?: number;
    duration?: number;
    amount?: number;
    timeout?: number;
    headers?: Record<string, string>;
    method?: string;
    overallRate?: number;
    requests?: RequestTemplate[];
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  interface AutocannonResult {
    duration: number;
    requests: Histogram;
    latency: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  /** The running instance: awaitable for the result, stoppable, and emitting `reqError` (error). */
  interface AutocannonInstance extends EventEmitter, PromiseLike<AutocannonResult> {
    stop(): void;
  }

  function autocannon(options: AutocannonOptions): AutocannonInstance;
  export default autocannon;
  export type { AutocannonInstance, AutocannonOptions, AutocannonResult, RequestParams };
}
