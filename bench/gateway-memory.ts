// A gateway's memory as it reports it on /metrics (the process metrics every service exports).

export interface GatewayMemory {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

function valueOf(lines: readonly string[], name: string): number {
  const line = lines.find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1));
}

export async function readGatewayMemory(opsUrl: string): Promise<GatewayMemory> {
  const response = await fetch(`${opsUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const lines = (await response.text()).split('\n');
  return {
    rssBytes: valueOf(lines, 'tollgate_gateway_process_resident_memory_bytes'),
    heapUsedBytes: valueOf(lines, 'tollgate_gateway_nodejs_heap_size_used_bytes'),
  };
}
