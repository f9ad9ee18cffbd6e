/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// Requests and rate-limited requests over time as a server-rendered SVG bar chart: no script, no
// chart library. The SVG holds only the bars and stretches to the width; its labels are HTML so
// they stay readable on a phone. Each bar has a <title> with its exact numbers.
import type { RequestCountBucket } from '../../request-logs/repository.js';

const WIDTH = 1000;
const HEIGHT = 160;

function label(start: string, unit: 'hour' | 'day'): string {
  return unit === 'hour' ? `${start.slice(5, 10)} ${start.slice(11, 16)}` : start.slice(0, 10);
}

export function RequestChart({ buckets, unit }: { readonly buckets: readonly RequestCountBucket[]; readonly unit: 'hour' | 'day' }) {
  const max = Math.max(1, ...buckets.map((bucket) => bucket.total));
  const step = WIDTH / Math.max(1, buckets.length);
  const barWidth = Math.max(1, step * 0.8);
  const height = (count: number) => (count / max) * HEIGHT;
  const total = buckets.reduce((sum, bucket) => sum + bucket.total, 0);
  const limited = buckets.reduce((sum, bucket) => sum + bucket.limited, 0);
  const first = buckets[0];
  const last = buckets.at(-1);
  return (
    <figure class="chart">
      <div class="chart-plot">
        <div class="chart-y" aria-hidden="true">
          <span>{max.toLocaleString('en-US')}</span>
          <span>0</span>
        </div>
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`Requests per ${unit}: ${total} in all, ${limited} refused by a rate limit`}
        >
          {buckets.map((bucket, index) => {
            const x = index * step + (step - barWidth) / 2;
            return (
              <g>
                <title>{`${label(bucket.start, unit)} UTC: ${bucket.total} requests, ${bucket.limited} rate-limited`}</title>
                <rect class="bar-total" x={x} y={HEIGHT - height(bucket.total)} width={barWidth} height={height(bucket.total)} />
                {bucket.limited > 0 && <rect class="bar-limited" x={x} y={HEIGHT - height(bucket.limited)} width={barWidth} height={height(bucket.limited)} />}
              </g>
            );
          })}
        </svg>
        <div class="chart-x" aria-hidden="true">
          <span>{first ? label(first.start, unit) : ''}</span>
          <span>{last && last !== first ? label(last.start, unit) : ''}</span>
        </div>
      </div>
      <figcaption>
        <span class="legend legend-total">Requests</span>
        <span class="legend legend-limited">Rate-limited (429)</span>
        <span class="muted">{`per ${unit}, UTC · ${total.toLocaleString('en-US')} requests, ${limited.toLocaleString('en-US')} rate-limited`}</span>
      </figcaption>
    </figure>
  );
}
