// The run as a picture: one self-contained SVG (no scripts, fonts or links) with the systems side by
// side in small multiples — req/s, p99 latency, CPU per request of the system under test and Redis
// CPU per request — each a bar at the median of the rounds with a whisker from their min to max,
// then the ratios that have targets. Written beside the run's JSON.
import type { BenchReport, SystemSummary } from './report.js';
import type { Spread } from './stats.js';

interface Panel {
  readonly title: string;
  readonly better: string;
  readonly digits: number;
  readonly value: (summary: SystemSummary) => Spread | null;
}

const PANELS: readonly Panel[] = [
  { title: 'requests per second', better: 'higher is better', digits: 0, value: (s) => s.requestsPerSecond },
  { title: 'p99 latency, ms', better: 'lower is better', digits: 0, value: (s) => s.latencyP99Ms },
  {
    title: 'CPU µs per request',
    better: 'system under test; lower is better',
    digits: 0,
    value: (s) => (s.cpuMsPerRequest ? scale(s.cpuMsPerRequest, 1000) : null),
  },
  { title: 'Redis CPU µs per request', better: 'main thread; lower is better', digits: 1, value: (s) => s.redis?.usPerRequest ?? null },
];

const COLOURS = { baseline: '#8a9aad', peer: '#e0883a', gateway: '#23917f', target: '#7a5fc4' } as const;
type Group = keyof typeof COLOURS;
const LEGEND: Record<Group, string> = {
  baseline: 'upstream alone and bare proxies',
  peer: 'fastify peer',
  gateway: 'Tollgate gateway',
  target: 'BENCH_TARGET',
};

const WIDTH = 1100;
const MARGIN = 20;
const NAME_WIDTH = 200;
const GAP = 22;
const ROW_HEIGHT = 26;
const BAR_HEIGHT = 14;
const LABEL_ROOM = 48;
const FONT = "font-family=\"'DejaVu Sans', 'Segoe UI', Arial, sans-serif\"";

function scale(value: Spread, factor: number): Spread {
  return { median: value.median * factor, min: value.min * factor, max: value.max * factor };
}

function groupOf(name: string): Group {
  if (name.startsWith('gateway')) return 'gateway';
  if (name.startsWith('fastify')) return 'peer';
  if (name === 'target') return 'target';
  return 'baseline';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

/** A round number at or above `value` (1, 2 or 5 times a power of ten, in quarters). */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(value / 4));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (factor * step * 4 >= value) return factor * step * 4;
  }
  return value;
}

function formatValue(value: number, digits: number): string {
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function panel(
  definition: Panel,
  rows: readonly { name: string; summary: SystemSummary | null }[],
  x: number,
  width: number,
  top: number,
): string[] {
  const values = rows.map((row) => (row.summary ? definition.value(row.summary) : null));
  // One wild round must not flatten every bar: the axis stops at 1.6× the largest median, and a
  // whisker beyond it is cut at the edge and left open.
  const largestMedian = Math.max(0, ...values.map((value) => value?.median ?? 0));
  const largestMax = Math.max(0, ...values.map((value) => value?.max ?? 0));
  const max = niceMax(Math.min(largestMax, 1.6 * largestMedian));
  const plotWidth = width - LABEL_ROOM;
  const at = (value: number): number => x + (Math.min(value, max) / max) * plotWidth;
  const bottom = top + rows.length * ROW_HEIGHT;
  const parts = [
    text(x, top - 26, definition.title, 'font-size="13" font-weight="bold" fill="#222"'),
    text(x, top - 11, definition.better, 'font-size="11" fill="#666"'),
  ];
  for (let tick = 0; tick <= 4; tick += 1) {
    const value = (max / 4) * tick;
    parts.push(`<line x1="${at(value).toFixed(1)}" y1="${top}" x2="${at(value).toFixed(1)}" y2="${bottom}" stroke="#d9d9d9" stroke-width="1"/>`);
    if (tick % 2 === 0) {
      parts.push(text(at(value), bottom + 14, formatValue(value, value < 10 && value % 1 !== 0 ? 1 : 0), 'font-size="10" fill="#777" text-anchor="middle"'));
    }
  }
  rows.forEach((row, index) => {
    const value = values[index];
    const middle = top + index * ROW_HEIGHT + ROW_HEIGHT / 2;
    if (!value) {
      const why = !row.summary ? 'skipped' : definition.title.startsWith('Redis') ? 'does not use Redis' : 'not measured';
      parts.push(text(x + 2, middle + 4, why, 'font-size="11" fill="#999"'));
      return;
    }
    const colour = COLOURS[groupOf(row.name)];
    parts.push(
      `<rect x="${x}" y="${(middle - BAR_HEIGHT / 2).toFixed(1)}" width="${Math.max(1, at(value.median) - x).toFixed(1)}" height="${BAR_HEIGHT}" fill="${colour}"/>`,
    );
    if (value.max > value.min) {
      const y = middle.toFixed(1);
      const top = (middle - 4).toFixed(1);
      const end = value.max > max ? `l-4 -4m4 4l-4 4` : `M${at(value.max).toFixed(1)} ${top}v8`;
      parts.push(
        `<path d="M${at(value.min).toFixed(1)} ${y}H${at(value.max).toFixed(1)}${end}M${at(value.min).toFixed(1)} ${top}v8" stroke="#333" stroke-width="1.2" fill="none"/>`,
      );
    }
    parts.push(text(Math.max(at(value.median), at(value.max)) + 4, middle + 4, formatValue(value.median, definition.digits), 'font-size="11" fill="#222"'));
  });
  return parts;
}

function footerLines(report: BenchReport): string[] {
  const lines = report.ratios
    .filter((ratio) => ratio.target !== null && ratio.value !== null)
    .map((ratio) => `${ratio.name}: ${ratio.value?.toFixed(2)}× (target ≥ ${ratio.target}×, ${ratio.met ? 'met' : 'not met'})`);
  const workers = report.ratios.find((ratio) => ratio.name.startsWith('gateway-2-workers'));
  if (workers?.value != null) lines.push(`${workers.name}: ${workers.value.toFixed(2)}×`);
  const redis = report.systems.find((system) => system.name === 'gateway-admitted')?.summary?.redis;
  if (redis) {
    const aim = report.redis.aimUsPerAdmittedRequest;
    lines.push(
      `Redis per admitted request (gateway-admitted): ${redis.usPerRequest.median.toFixed(1)} µs → ${Math.round(redis.requestsPerCoreSecond / 1000)}k admitted req/s per Redis core ` +
        `(aim ≤ ${aim} µs, ${redis.usPerRequest.median <= aim ? 'met' : 'not met'})`,
    );
  }
  return lines;
}

/** The load average around the run: above the CPU count, other work competed and the figures are noisy. */
function loadNote(report: BenchReport): string {
  const [start = 0] = report.loadAverage.start;
  const [end = 0] = report.loadAverage.end;
  const busy = Math.max(start, end) > report.cpuCount;
  return `Load average ${start.toFixed(1)} → ${end.toFixed(1)} on ${report.cpuCount} CPUs${busy ? ': other work competed, noisy.' : '.'}`;
}

export function renderChart(report: BenchReport): string {
  // The 429 paths answer several times faster than the admitted ones: they go last, under a rule.
  const admitted = report.systems.filter((system) => system.expectedStatus !== 429);
  const refused = report.systems.filter((system) => system.expectedStatus === 429);
  const rows = [...admitted, ...refused].map((system) => ({ name: system.name, summary: system.summary }));
  const panels = PANELS.filter((definition) => rows.some((row) => row.summary && definition.value(row.summary)));
  const panelWidth = (WIDTH - 2 * MARGIN - NAME_WIDTH - GAP * (panels.length - 1)) / Math.max(1, panels.length);
  const top = 118;
  const bottom = top + rows.length * ROW_HEIGHT;
  const footer = footerLines(report);
  const legendY = bottom + 42;
  const height = legendY + 24 + footer.length * 17 + MARGIN;
  const settings = report.settings as { connections?: number; rounds?: number; durationSeconds?: number };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    text(MARGIN, 30, `Tollgate bench, ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`, 'font-size="18" font-weight="bold" fill="#111"'),
    text(
      MARGIN,
      50,
      `node ${report.node}, ${report.cpuCount} × ${report.cpuModel}; ${settings.connections} connections, ${settings.rounds} rounds of ${settings.durationSeconds} s per system, interleaved`,
      'font-size="12" fill="#555"',
    ),
    text(MARGIN, 66, `bars: median of the rounds; whiskers: min–max. ${loadNote(report)} Compare systems within this run, not across runs.`, 'font-size="12" fill="#555"'),
  ];
  rows.forEach((row, index) => {
    const y = top + index * ROW_HEIGHT;
    if (index % 2 === 0) parts.push(`<rect x="${MARGIN - 6}" y="${y}" width="${WIDTH - 2 * MARGIN + 12}" height="${ROW_HEIGHT}" fill="#f4f6f8"/>`);
    parts.push(text(MARGIN + NAME_WIDTH - 12, y + ROW_HEIGHT / 2 + 4, row.name, 'font-size="12.5" fill="#222" text-anchor="end"'));
  });
  if (admitted.length > 0 && refused.length > 0) {
    const y = top + admitted.length * ROW_HEIGHT;
    parts.push(`<line x1="${MARGIN - 6}" y1="${y}" x2="${WIDTH - MARGIN + 6}" y2="${y}" stroke="#888" stroke-width="1" stroke-dasharray="4 3"/>`);
    parts.push(text(MARGIN - 2, y + 11, 'refused (429):', 'font-size="10" fill="#777"'));
  }
  panels.forEach((definition, index) => {
    parts.push(...panel(definition, rows, MARGIN + NAME_WIDTH + index * (panelWidth + GAP), panelWidth, top));
  });
  let legendX = MARGIN;
  for (const group of Object.keys(COLOURS) as Group[]) {
    if (!rows.some((row) => groupOf(row.name) === group)) continue;
    parts.push(`<rect x="${legendX}" y="${legendY - 10}" width="12" height="12" fill="${COLOURS[group]}"/>`);
    parts.push(text(legendX + 17, legendY, LEGEND[group], 'font-size="12" fill="#333"'));
    legendX += 40 + LEGEND[group].length * 7;
  }
  footer.forEach((line, index) => parts.push(text(MARGIN, legendY + 26 + index * 17, line, 'font-size="12" fill="#333"')));
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
