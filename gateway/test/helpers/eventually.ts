// Polls until a condition holds or a deadline passes: deadlines bound waits, they are not timings.
export async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, deadlineMs: number): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One sample's value from Prometheus text, e.g. metricValue(text, 'tollgate_gateway_redis_up'). */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
