// A few of the gateway's own metrics (docs/operations.md, "Metrics"), read from its ops port after the load rounds so
// the report can say whether the limiter kept up: store errors mean Redis calls failed or ran past
// GATEWAY_REDIS_TIMEOUT_MS and the failure mode (open) applied instead of a real check.

export interface GatewayMetrics {
  readonly storeErrors: number;
  readonly rateLimitChecks: number;
  readonly meanRateLimitCheckMs: number;
  readonly requestsByCode: Record<string, number>;
}

function sumOf(lines: readonly string[], name: string): number {
  let total = 0;
  for (const line of lines) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) {
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) total += value;
    }
  }
  return total;
}

export async function readGatewayMetrics(opsUrl: string): Promise<GatewayMetrics> {
  const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const lines = (await response.text()).split('\n');
  const checks = sumOf(lines, 'tollgate_gateway_ratelimit_check_duration_seconds_count');
  const checkSeconds = sumOf(lines, 'tollgate_gateway_ratelimit_check_duration_seconds_sum');
  const requestsByCode: Record<string, number> = {};
  for (const line of lines) {
    const match = /^tollgate_gateway_requests_total\{.*code="(\d+)".*\} (\S+)$/.exec(line);
    if (match?.[1] && match[2]) requestsByCode[match[1]] = (requestsByCode[match[1]] ?? 0) + Number(match[2]);
  }
  return {
    storeErrors: sumOf(lines, 'tollgate_gateway_store_errors_total'),
    rateLimitChecks: checks,
    meanRateLimitCheckMs: checks > 0 ? (checkSeconds / checks) * 1000 : 0,
    requestsByCode,
  };
}
