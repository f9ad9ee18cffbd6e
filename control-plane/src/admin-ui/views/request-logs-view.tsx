/** @jsxRuntime automatic */
/** @jsxImportSource preact */
// /admin/request-logs: filters, the per-day drill-down, the chart and the rows. A row names the
// limit that refused it (or, in shadow mode, would have: such rows are marked and were forwarded);
// a request on a keyless route shows its client address instead of a key.
import type { RequestCountBucket } from '../../request-logs/repository.js';
import type { RequestLogEntry } from '../../request-logs/schema.js';
import { Badge, EmptyState, FilterGroup, FormErrors, Pagination, TableWrap, TextField, type FieldErrors } from './components.js';
import { Page, type Viewer } from './layout.js';
import { RequestChart } from './request-chart.js';

export interface RequestLogFilters {
  readonly key_id: string;
  readonly status: string;
  readonly route: string;
  readonly from: string;
  readonly to: string;
  readonly day: string;
  /** 'true' or 'false' as in GET /v1/request-logs; '' for all. */
  readonly limited: string;
  readonly shadow_limited: string;
}

export interface RequestLogsViewProps {
  readonly viewer: Viewer;
  readonly filters: RequestLogFilters;
  readonly errors: FieldErrors;
  readonly days: readonly RequestCountBucket[];
  readonly chart: { readonly buckets: readonly RequestCountBucket[]; readonly unit: 'hour' | 'day' } | null;
  readonly rows: readonly RequestLogEntry[];
  readonly nextCursor: string | null;
  readonly cursor: string | null;
}

export function requestLogsHref(filters: Partial<RequestLogFilters>, cursor?: string): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return query === '' ? '/admin/request-logs' : `/admin/request-logs?${query}`;
}

function statusKind(status: number): 'ok' | 'warn' | 'bad' | 'plain' {
  if (status === 429) return 'warn';
  if (status >= 500) return 'bad';
  if (status >= 400) return 'plain';
  return 'ok';
}

/** The limit that refused the request, or that would have in shadow mode (it was forwarded). */
function LimitedBy({ row }: { readonly row: RequestLogEntry }) {
  if (!row.limited && !row.shadow_limited) return <span class="muted">—</span>;
  return (
    <>
      {row.limited_by ? <code>{row.limited_by}</code> : <span>a limit</span>}
      {row.shadow_limited && (
        <span class="tag tag-shadow" title="A shadow-mode limit would have refused it; it was forwarded">
          shadow
        </span>
      )}
    </>
  );
}

/** Filters chosen from a list of links rather than typed: their errors go on top of the form. */
function linkFilterErrors(errors: FieldErrors): string | undefined {
  const messages = [
    errors.day && `The day ${errors.day}.`,
    errors.limited && `The limited filter ${errors.limited}.`,
    errors.shadow_limited && `The shadow-limited filter ${errors.shadow_limited}.`,
  ].filter(Boolean);
  return messages.length > 0 ? messages.join(' ') : undefined;
}

export function RequestLogsView(props: RequestLogsViewProps) {
  const { viewer, filters, errors } = props;
  const { day: _day, ...withoutDay } = filters;
  const anyOutcome = { ...filters, limited: '', shadow_limited: '' };
  const filtered = Object.values(filters).some(Boolean);
  return (
    <Page title="Request logs" viewer={viewer} section="request-logs">
      <div class="page-head">
        <h1>Request logs</h1>
      </div>
      <section class="panel">
        <form method="get" action="/admin/request-logs" class="filter-form" novalidate>
          <FormErrors errors={errors} general={linkFilterErrors(errors)} />
          {filters.day && <input type="hidden" name="day" value={filters.day} />}
          {filters.limited && <input type="hidden" name="limited" value={filters.limited} />}
          {filters.shadow_limited && <input type="hidden" name="shadow_limited" value={filters.shadow_limited} />}
          <TextField name="key_id" label="Key id" value={filters.key_id} error={errors.key_id} placeholder="key_…" idPrefix="logs" />
          <TextField name="status" label="Status" value={filters.status} error={errors.status} placeholder="429" idPrefix="logs" />
          <TextField name="route" label="Route" value={filters.route} error={errors.route} idPrefix="logs" />
          <TextField name="from" label="From (UTC)" type="datetime-local" value={filters.from} error={errors.from} idPrefix="logs" />
          <TextField name="to" label="To (UTC)" type="datetime-local" value={filters.to} error={errors.to} idPrefix="logs" />
          <div class="form-actions">
            <button type="submit" class="button primary">
              Apply filters
            </button>
            {filtered && (
              <a class="button quiet" href="/admin/request-logs">
                Clear
              </a>
            )}
          </div>
        </form>
        <FilterGroup
          title="By outcome"
          options={[
            { label: 'All requests', href: requestLogsHref(anyOutcome), current: !filters.limited && !filters.shadow_limited },
            { label: 'Limited only', href: requestLogsHref({ ...anyOutcome, limited: 'true' }), current: filters.limited === 'true' && !filters.shadow_limited },
            {
              label: 'Shadow-limited only',
              href: requestLogsHref({ ...anyOutcome, shadow_limited: 'true' }),
              current: filters.shadow_limited === 'true' && !filters.limited,
            },
          ]}
        />
        <FilterGroup
          title="By day"
          options={[
            { label: 'All days', href: requestLogsHref({ ...withoutDay }), current: !filters.day },
            ...props.days.map((bucket) => {
              const date = bucket.start.slice(0, 10);
              return { label: `${date} (${bucket.total.toLocaleString('en-US')})`, href: requestLogsHref({ ...withoutDay, from: '', to: '', day: date }), current: filters.day === date };
            }),
          ]}
        />
      </section>

      {props.chart && props.chart.buckets.some((bucket) => bucket.total > 0) && <RequestChart buckets={props.chart.buckets} unit={props.chart.unit} />}

      {props.rows.length === 0 ? (
        <EmptyState title={filtered ? 'No requests match these filters.' : 'No requests logged yet.'}>
          {filtered ? <a href="/admin/request-logs">Show all requests</a> : 'Requests answered by the gateways show up here within seconds.'}
        </EmptyState>
      ) : (
        <TableWrap label="Requests">
          <table class="data one-line">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Key</th>
                <th scope="col">Tier</th>
                <th scope="col">Route</th>
                <th scope="col">Client</th>
                <th scope="col">Method</th>
                <th scope="col">Status</th>
                <th scope="col">Limited by</th>
                <th scope="col" class="num">
                  Duration
                </th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr class={row.shadow_limited ? 'shadow-row' : undefined}>
                  <td class="nowrap">
                    <time datetime={row.time} title={row.time}>
                      {`${row.time.slice(0, 10)} ${row.time.slice(11, 19)}`}
                    </time>
                  </td>
                  <td>
                    {row.key_id ? (
                      <a href={`/admin/keys/${encodeURIComponent(row.key_id)}`}>{row.key_id}</a>
                    ) : (
                      <span class="tag tag-keyless" title={row.client_ip ? 'No key: limited by its client address' : 'No valid key'}>
                        no key
                      </span>
                    )}
                  </td>
                  <td>{row.tier ?? <span class="muted">—</span>}</td>
                  <td>{row.route ?? <span class="muted">no route</span>}</td>
                  <td>{row.client_ip ? <code>{row.client_ip}</code> : <span class="muted">—</span>}</td>
                  <td>
                    <code>{row.method}</code>
                  </td>
                  <td>
                    <Badge kind={statusKind(row.status)}>{row.status}</Badge>
                  </td>
                  <td>
                    <LimitedBy row={row} />
                  </td>
                  <td class="num">{`${row.duration_ms.toFixed(1)} ms`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <Pagination firstHref={props.cursor ? requestLogsHref(filters) : null} nextHref={props.nextCursor ? requestLogsHref(filters, props.nextCursor) : null} />
    </Page>
  );
}

