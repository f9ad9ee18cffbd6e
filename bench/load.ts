// One autocannon round against one system under test. Every system gets the same request (GET with
// an X-API-Key header), the same connections, pipelining 1 and the same duration.
import autocannon from 'autocannon';
import type { RedisUsage } from './redis-cost.js';

export interface LoadSettings {
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface RoundResult {
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly responses: number;
  /** Responses with the status the system is expected to answer (200, or 429 on the 429 path). */
  readonly expectedResponses: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  /** CPU time (user + system) the system under test spent per response, when its pid is known. */
  readonly cpuMsPerRequest?: number | null;
  /** What the round cost the bench's Redis (CPU, calls per command), when it was read. */
  readonly redis?: RedisUsage | null;
}

export async function runRound(
  url: string,
  headers: Record<string, string>,
  expectedStatus: number,
  settings: LoadSettings,
): Promise<RoundResult> {
  const result = await autocannon({
    url,
    headers,
    connections: settings.connections,
    pipelining: 1,
    duration: settings.durationSeconds,
    timeout: 10,
  });
  const statusCodes: Record<string, number> = {};
  let responses = 0;
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCodes[code] = count;
    responses += count;
  }
  return {
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMaxMs: result.latency.max,
    responses,
    expectedResponses: statusCodes[String(expectedStatus)] ?? 0,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  };
}
