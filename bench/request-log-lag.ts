// End-to-end request-log lag: a steady load through the gateway while the control plane's
// writer runs; PostgreSQL is polled every `pollMs` for the newest row of the load's own key, and each
// poll during the load gives a lag sample = poll time − newest visible event time. After the load
// stops, polling goes on until every answered request has its row (or the deadline passes), which
// also checks that nothing was lost or written twice.
import autocannon from 'autocannon';
import postgres from 'postgres';
import { percentile } from './stats.js';

export interface LagSettings {
  readonly gatewayUrl: string;
  readonly apiKey: string;
  readonly keyId: string;
  readonly databaseUrl: string;
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly pollMs: number;
  /** How long to wait after the load for the last row. */
  readonly settleMs: number;
}

export interface LagResult {
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly pollMs: number;
  /** Responses autocannon received (every one should have exactly one row). */
  readonly answered: number;
  readonly statusCodes: Record<string, number>;
  readonly rows: number;
  readonly distinctEventIds: number;
  readonly lost: number;
  readonly doubled: number;
  /** Rows of this load's key for requests autocannon did not count (should be 0). */
  readonly extra: number;
  readonly exactlyOnce: boolean;
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** From the load's end until the last row was visible; null when it never was. */
  readonly lastRowAfterLoadMs: number | null;
  /** Mean duration of one poll query (its cost bounds the resolution). */
  readonly meanPollQueryMs: number;
}

export async function measureRequestLogLag(settings: LagSettings): Promise<LagResult> {
  const sql = postgres(settings.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const poll = async (): Promise<{ at: number; newest: number | null; rows: number; queryMs: number }> => {
      const started = Date.now();
      const [row] = await sql<{ newest: Date | null; rows: string }[]>`
        select max(time) as newest, count(*) as rows from request_log where key_id = ${settings.keyId}`;
      const at = Date.now();
      return { at, newest: row?.newest ? row.newest.getTime() : null, rows: Number(row?.rows ?? 0), queryMs: at - started };
    };
    const before = await poll();

    let loadDone = false;
    const lags: number[] = [];
    const queryTimes: number[] = [];
    const sampler = (async () => {
      while (!loadDone) {
        const sample = await poll();
        queryTimes.push(sample.queryMs);
        // Only rows written by this load count (the key is the load's own).
        if (sample.newest !== null && sample.rows > before.rows && !loadDone) lags.push(sample.at - sample.newest);
        await new Promise((resolve) => setTimeout(resolve, settings.pollMs));
      }
    })();

    const result = await autocannon({
      url: settings.gatewayUrl,
      headers: { 'x-api-key': settings.apiKey },
      connections: 10,
      pipelining: 1,
      // A fixed count, not a duration: autocannon stops counting at the end of a duration while
      // requests still in flight get answered (and logged), which would spoil the exactly-once check.
      amount: settings.ratePerSecond * settings.durationSeconds,
      overallRate: settings.ratePerSecond,
      timeout: 10,
    });
    const loadEnd = Date.now();
    loadDone = true;
    await sampler;

    const statusCodes: Record<string, number> = {};
    let answered = 0;
    for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
      statusCodes[code] = count;
      answered += count;
    }
    const expected = before.rows + answered;
    let lastRowAfterLoadMs: number | null = null;
    const deadline = loadEnd + settings.settleMs;
    while (Date.now() < deadline) {
      const sample = await poll();
      queryTimes.push(sample.queryMs);
      if (sample.rows >= expected) {
        lastRowAfterLoadMs = sample.at - loadEnd;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, settings.pollMs));
    }
    // Give late duplicates a moment to show, then count exactly.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [counts] = await sql<{ rows: string; distinct_ids: string }[]>`
      select count(*) as rows, count(distinct event_id) as distinct_ids from request_log where key_id = ${settings.keyId}`;
    const rows = Number(counts?.rows ?? 0) - before.rows;
    const distinctEventIds = Number(counts?.distinct_ids ?? 0) - before.rows;
    const doubled = rows - distinctEventIds;
    const lost = Math.max(0, answered - distinctEventIds);
    const sorted = [...lags].sort((a, b) => a - b);
    return {
      ratePerSecond: settings.ratePerSecond,
      durationSeconds: settings.durationSeconds,
      pollMs: settings.pollMs,
      answered,
      statusCodes,
      rows,
      distinctEventIds,
      lost,
      doubled,
      extra: Math.max(0, distinctEventIds - answered),
      exactlyOnce: lost === 0 && doubled === 0 && distinctEventIds === answered,
      samples: lags.length,
      p50Ms: sorted.length ? percentile(sorted, 50) : Number.NaN,
      p99Ms: sorted.length ? percentile(sorted, 99) : Number.NaN,
      maxMs: sorted.length ? (sorted[sorted.length - 1] ?? Number.NaN) : Number.NaN,
      lastRowAfterLoadMs,
      meanPollQueryMs: queryTimes.length ? queryTimes.reduce((sum, value) => sum + value, 0) / queryTimes.length : 0,
    };
  } finally {
    await sql.end();
  }
}
