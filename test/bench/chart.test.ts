// The run's chart: one self-contained SVG with the systems side by side.
import t from 'tap';
import { renderChart } from '../../bench/chart.js';
import type { BenchReport, SystemSummary } from '../../bench/report.js';

const spreadOf = (median: number) => ({ median, min: median * 0.9, max: median * 1.1 });

function summary(rps: number, redis: boolean): SystemSummary {
  return {
    requestsPerSecond: spreadOf(rps),
    latencyP50Ms: spreadOf(2),
    latencyP99Ms: spreadOf(20),
    expectedShare: 1,
    errors: 0,
    cpuMsPerRequest: spreadOf(0.05),
    redis: redis
      ? {
          usPerRequest: spreadOf(9),
          allThreadsUsPerRequest: 9,
          kernelShare: 0.4,
          requestsPerCoreSecond: 111_111,
          scriptCallsPerRequest: 0.1,
          requestsPerScriptCall: 10,
          scriptUsPerRequest: 6,
          scriptCommandsUsPerRequest: 1,
          luaUsPerRequest: 5,
          otherCommandsUsPerRequest: 0.2,
          outsideCommandsUsPerRequest: 2.8,
          commands: [],
        }
      : null,
  };
}

function system(name: string, expectedStatus: number, measured: SystemSummary | null) {
  return { name, description: name, expectedStatus, usesRedis: false, skipped: measured ? null : 'not built', rounds: [], warmup: null, summary: measured };
}

const report: BenchReport = {
  startedAt: '2026-12-07T12:00:00.000Z',
  finishedAt: '2026-12-07T12:10:00.000Z',
  node: 'v20.20.2',
  cpuModel: 'Some <CPU> & Co',
  cpuCount: 2,
  placement: 'pinned',
  loadAverage: { start: [1], end: [1] },
  settings: { connections: 50, rounds: 3, durationSeconds: 10 },
  systems: [
    system('undici-proxy', 200, summary(8000, false)),
    system('gateway-429', 429, summary(20000, true)),
    system('gateway-admitted', 200, summary(6000, true)),
    system('fastify-peer', 200, null),
  ],
  ratios: [],
  propagation: { skipped: 'disabled by settings' },
  requestLogLag: { skipped: 'disabled by settings' },
  requestLogCpuRatio: null,
  redis: { aimUsPerAdmittedRequest: 5, backgroundMsPerSecond: null, scriptCost: { skipped: 'not measured' } },
  gatewayMetrics: null,
  notes: [],
};

t.test('the chart is an SVG that loads nothing from elsewhere', async (t) => {
  const svg = renderChart(report);
  t.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.notMatch(svg.replace('xmlns="http://www.w3.org/2000/svg"', ''), /href|url\(|<script|@import|https?:/);
});

t.test('every system has its row, the 429 paths after the admitted ones', async (t) => {
  const svg = renderChart(report);
  const at = (name: string) => svg.indexOf(`>${name}</text>`);
  t.ok(at('undici-proxy') > 0 && at('gateway-admitted') > at('undici-proxy'));
  t.ok(at('gateway-429') > at('gateway-admitted'), 'the refused path goes last');
  t.match(svg, />skipped</, 'a system that was not measured says so');
});

t.test('text from the run is escaped', async (t) => {
  const svg = renderChart(report);
  t.match(svg, /Some &lt;CPU&gt; &amp; Co/);
});

t.test('the Redis aim is stated under the chart', async (t) => {
  t.match(renderChart(report), /Redis per admitted request \(gateway-admitted\): 9\.0 µs → 111k admitted req\/s per Redis core \(aim ≤ 5 µs, not met\)/);
});

t.test('one wild round does not change the scale of the other bars', async (t) => {
  const barWidths = (svg: string) => [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="14"/g)].map((match) => Number(match[1]));
  const wild = { ...summary(8000, false), requestsPerSecond: { median: 8000, min: 7000, max: 800_000 } };
  const skewed = { ...report, systems: [system('undici-proxy', 200, wild), ...report.systems.slice(1)] };
  // The second bar is gateway-admitted's req/s.
  t.equal(barWidths(renderChart(skewed))[1], barWidths(renderChart(report))[1]);
});
