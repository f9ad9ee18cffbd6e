// /admin/request-logs: the request log through the same service as GET /v1/request-logs, plus
// counts per day (the drill-down, like a date hierarchy) and per hour or day (the chart).
import type { Clock } from '../../clock.js';
import { ValidationError } from '../../http/errors.js';
import type { Route } from '../../http/router.js';
import { isStorableInstant } from '../../http/storable.js';
import type { RequestCountBucket } from '../../request-logs/repository.js';
import type { RequestLogService } from '../../request-logs/service.js';
import { dateTimeInput, fieldErrorsOf, FormError, utcDateTime } from '../forms.js';
import type { PageKit } from '../page-route.js';
import { html } from '../responses.js';
import type { FieldErrors } from '../views/components.js';
import { RequestLogsView, type RequestLogFilters } from '../views/request-logs-view.js';

export const REQUEST_LOG_PAGE_SIZE = 50;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The day list covers the default retention; older rows are normally gone. */
const DAY_LIST_DAYS = 31;
const DEFAULT_CHART_DAYS = 14;
const MAX_CHART_BUCKETS = 62;

interface Criteria {
  readonly keyId?: string;
  readonly status?: number;
  readonly route?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limited?: boolean;
  readonly shadowLimited?: boolean;
}

/** `true`/`false` as GET /v1/request-logs takes them; '' is no filter. */
function readBoolean(value: string, field: string, errors: Record<string, string>): boolean | undefined {
  if (value === 'true' || value === 'false') return value === 'true';
  if (value !== '') errors[field] = 'must be true or false';
  return undefined;
}

/** The filters as typed, and what they mean; a bad one becomes an error beside its field. */
function readFilters(query: URLSearchParams): { filters: RequestLogFilters; criteria: Criteria; errors: FieldErrors } {
  const get = (name: string) => (query.get(name) ?? '').trim().slice(0, 200);
  const filters: RequestLogFilters = {
    key_id: get('key_id'),
    status: get('status'),
    route: get('route'),
    from: get('from'),
    to: get('to'),
    day: get('day'),
    limited: get('limited'),
    shadow_limited: get('shadow_limited'),
  };
  const errors: Record<string, string> = {};
  const criteria: { -readonly [K in keyof Criteria]: Criteria[K] } = {};
  if (filters.key_id) criteria.keyId = filters.key_id;
  if (filters.route) criteria.route = filters.route;
  const limited = readBoolean(filters.limited, 'limited', errors);
  if (limited !== undefined) criteria.limited = limited;
  const shadowLimited = readBoolean(filters.shadow_limited, 'shadow_limited', errors);
  if (shadowLimited !== undefined) criteria.shadowLimited = shadowLimited;
  if (filters.status) {
    if (/^[1-5]\d\d$/.test(filters.status)) criteria.status = Number(filters.status);
    else errors.status = 'must be an HTTP status code from 100 to 599';
  }
  if (filters.day) {
    const start = Date.parse(`${filters.day}T00:00:00.000Z`);
    // The whole day must be storable: 9999-12-31 ends in a year PostgreSQL cannot read.
    if (/^\d{4}-\d{2}-\d{2}$/.test(filters.day) && isStorableInstant(start) && isStorableInstant(start + DAY_MS)) {
      criteria.from = new Date(start).toISOString();
      criteria.to = new Date(start + DAY_MS).toISOString();
    } else errors.day = 'must be a date such as 2026-12-01';
  } else {
    for (const name of ['from', 'to'] as const) {
      try {
        const value = utcDateTime(filters[name], name);
        if (value !== null) criteria[name] = value;
      } catch (error) {
        if (!(error instanceof FormError)) throw error;
        Object.assign(errors, error.errors);
      }
    }
  }
  return { filters, criteria, errors };
}

/** Zero-filled buckets from `start` to `end`, so quiet hours show as gaps, not as nothing. */
function fill(buckets: readonly RequestCountBucket[], startMs: number, endMs: number, unitMs: number): RequestCountBucket[] {
  const counts = new Map(buckets.map((bucket) => [Date.parse(bucket.start), bucket]));
  const out: RequestCountBucket[] = [];
  for (let time = Math.floor(startMs / unitMs) * unitMs; time < endMs; time += unitMs) {
    const start = new Date(time).toISOString().replace('.000Z', 'Z');
    out.push(counts.get(time) ?? { start, total: 0, limited: 0 });
  }
  return out;
}

export function requestLogRoutes({ kit, requestLogs, clock }: { readonly kit: PageKit; readonly requestLogs: RequestLogService; readonly clock: Clock }): Route[] {
  return [
    kit.signedInPage('GET', '/admin/request-logs', async (context) => {
      const { filters, criteria, errors } = readFilters(context.query);
      const cursor = context.query.get('cursor') || null;
      const nowMs = clock().getTime();
      const sameRows = { keyId: criteria.keyId, status: criteria.status, route: criteria.route, limited: criteria.limited, shadowLimited: criteria.shadowLimited };
      const empty = { items: [], next_cursor: null };
      const valid = Object.keys(errors).length === 0;
      const chartEndMs = criteria.to !== undefined ? Date.parse(criteria.to) : nowMs;
      let chartStartMs = criteria.from !== undefined ? Date.parse(criteria.from) : chartEndMs - DEFAULT_CHART_DAYS * DAY_MS;
      const unit = chartEndMs - chartStartMs <= 2 * DAY_MS ? 'hour' : 'day';
      const unitMs = unit === 'hour' ? HOUR_MS : DAY_MS;
      chartStartMs = Math.max(chartStartMs, chartEndMs - MAX_CHART_BUCKETS * unitMs);
      let page: Awaited<ReturnType<RequestLogService['list']>> = empty;
      let chart: RequestCountBucket[] = [];
      let days: RequestCountBucket[] = [];
      try {
        [page, chart, days] = await Promise.all([
          valid ? requestLogs.list({ ...criteria, limit: REQUEST_LOG_PAGE_SIZE, ...(cursor ? { cursor } : {}) }) : Promise.resolve(empty),
          valid && chartEndMs > chartStartMs
            ? requestLogs.histogram({ ...sameRows, from: new Date(chartStartMs).toISOString(), to: new Date(chartEndMs).toISOString() }, unit)
            : Promise.resolve([]),
          requestLogs.histogram({ ...sameRows, from: new Date(nowMs - DAY_LIST_DAYS * DAY_MS).toISOString() }, 'day'),
        ]);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        Object.assign(errors, fieldErrorsOf(error));
      }
      const status = Object.keys(errors).length === 0 ? 200 : 400;
      return html(
        status,
        RequestLogsView({
          viewer: context.viewer,
          filters: { ...filters, from: filters.from && dateTimeInputOrRaw(filters.from), to: filters.to && dateTimeInputOrRaw(filters.to) },
          errors,
          days: [...days].reverse(),
          chart: chart.length === 0 && !valid ? null : { buckets: fill(chart, chartStartMs, chartEndMs, unitMs), unit },
          rows: page.items,
          nextCursor: page.next_cursor,
          cursor,
        }),
      );
    }),
  ];
}

/** Keeps a datetime-local value as the browser sent it; anything else is shown as typed. */
function dateTimeInputOrRaw(value: string): string {
  try {
    return dateTimeInput(utcDateTime(value, 'value'));
  } catch {
    return value;
  }
}
