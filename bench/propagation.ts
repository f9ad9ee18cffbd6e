// Change propagation: for each change made through the control plane REST, the time from
// the REST call returning until EVERY gateway enforces it. A change alternately deactivates and
// reactivates one key; each gateway is polled back to back on GET /_gateway/quota (consumes
// nothing) until it answers 401 (inactive) or stops answering 401 (active again), with a pause of
// POLL_PAUSE_MS between polls so the pollers do not take the CPU the control plane and gateways need
// to propagate (on 2 cores, back-to-back polling of two gateways visibly slows propagation). The
// resolution is about one pause plus one poll round trip.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { AdminClient } from './admin-client.js';
import { percentile } from './stats.js';

export interface PropagationResult {
  readonly changes: number;
  readonly gateways: number;
  /** Changes some gateway had not enforced within the deadline (counted, not in the percentiles). */
  readonly timedOut: number;
  /** Changes enforced later than the 1 s Tollgate promises (timed-out ones included). */
  readonly overOneSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly samplesMs: readonly number[];
}

const POLL_PATH = '/_gateway/quota';
const POLL_PAUSE_MS = 1;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function pollUntil(pool: Pool, apiKey: string, wantRevoked: boolean, deadline: number): Promise<number | null> {
  while (performance.now() < deadline) {
    const { statusCode, body } = await pool.request({ path: POLL_PATH, method: 'GET', headers: { 'x-api-key': apiKey } });
    await body.dump();
    if ((statusCode === 401) === wantRevoked) return performance.now();
    await pause(POLL_PAUSE_MS);
  }
  return null;
}

export async function measurePropagation(
  admin: AdminClient,
  gatewayUrls: readonly string[],
  key: { id: string; secret: string },
  changes: number,
  deadlineMs = 2_000,
): Promise<PropagationResult> {
  const pools = gatewayUrls.map((url) => new Pool(url, { connections: 1 }));
  const samples: number[] = [];
  let timedOut = 0;
  try {
    for (let index = 0; index < changes; index += 1) {
      const deactivate = index % 2 === 0;
      await admin.setKeyActive(key.id, !deactivate);
      const returnedAt = performance.now();
      const deadline = returnedAt + deadlineMs;
      const seenAt = await Promise.all(pools.map((pool) => pollUntil(pool, key.secret, deactivate, deadline)));
      if (seenAt.some((time) => time === null)) {
        timedOut += 1;
        // Let every gateway settle before the next change so one late change does not skew the next.
        await Promise.all(pools.map((pool) => pollUntil(pool, key.secret, deactivate, performance.now() + 5_000)));
        continue;
      }
      samples.push(Math.max(...(seenAt as number[])) - returnedAt);
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
  return {
    changes,
    gateways: gatewayUrls.length,
    timedOut,
    overOneSecond: timedOut + samples.filter((value) => value > 1_000).length,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    maxMs: samples.length ? Math.max(...samples) : Number.NaN,
    samplesMs: samples.map((value) => Math.round(value * 1000) / 1000),
  };
}
