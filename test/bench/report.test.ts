// The bench's verdicts: ratios of median req/s against their targets, the per-round spread,
// and the same ratio from CPU time per request.
import t from 'tap';
import type { RoundResult } from '../../bench/load.js';
import { computeRatios, summarise, type SystemOutcome, type SystemSummary } from '../../bench/report.js';

function round(requestsPerSecond: number, cpuMsPerRequest: number | null): RoundResult {
  return {
    requestsPerSecond,
    latencyP50Ms: 1,
    latencyP99Ms: 2,
    latencyMaxMs: 3,
    responses: 100,
    expectedResponses: 100,
    errors: 0,
    timeouts: 0,
    statusCodes: { 200: 100 },
    cpuMsPerRequest,
  };
}

function outcome(name: string, rounds: RoundResult[]): SystemOutcome {
  return { name, description: name, expectedStatus: 200, usesRedis: false, skipped: null, rounds, warmup: null };
}

function ratiosOf(outcomes: SystemOutcome[]) {
  const summaries = new Map<string, SystemSummary>();
  for (const item of outcomes) summaries.set(item.name, summarise(item) as SystemSummary);
  return computeRatios(summaries, outcomes);
}

t.test('the admitted / undici ratio is the ratio of median req/s, with per-round spread and CPU', async (t) => {
  const ratios = ratiosOf([
    outcome('undici-proxy', [round(1000, 0.1), round(2000, 0.1), round(1500, 0.12)]),
    outcome('gateway-admitted', [round(900, 0.125), round(1200, 0.125), round(1300, 0.2)]),
  ]);
  const ratio = ratios.find((item) => item.name === 'gateway-admitted / undici-proxy');
  t.equal(ratio?.value, 1200 / 1500);
  t.equal(ratio?.met, true, '0.8 reaches the 0.8× target');
  t.same([ratio?.pairedMin, ratio?.pairedMedian, ratio?.pairedMax], [1200 / 2000, 1300 / 1500, 900 / 1000]);
  t.equal(ratio?.byCpu, 0.1 / 0.125, 'the undici proxy’s CPU per request over the gateway’s');
});

t.test('a ratio with a side that was not measured, or without CPU times, says so', async (t) => {
  const ratios = ratiosOf([outcome('gateway-admitted', [round(900, null)]), outcome('undici-proxy', [round(1000, null)])]);
  const undici = ratios.find((item) => item.name === 'gateway-admitted / undici-proxy');
  t.equal(undici?.byCpu, null);
  const fastify = ratios.find((item) => item.name === 'gateway-admitted / fastify-peer');
  t.equal(fastify?.value, null);
  t.equal(fastify?.met, null);
});
