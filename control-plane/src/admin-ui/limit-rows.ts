// The rows of a limits editor, read from a posted form into the limits the services take, and the
// services' error paths back onto the rows the person typed in. Two kinds of rows:
//   limits        window_N, limit_N, burst_N                   → [{ window, limit, burst? }]
//   route limits  route_N, route_window_N, route_limit_N, …    → { "<route>": [{ window, limit, burst? }] }
// Empty rows are skipped, so row numbers and list positions differ: each parse keeps the map back.
import type { Limit } from '../../../contracts/limits.js';
import { FormError, isWholeNumberText, text } from './forms.js';
import type { LimitRow, RouteLimitRow } from './views/limits-editor.js';

const MAX_ROWS = 64;

/** Rows of the limits editor with `prefix` (`''`, or `route_` for route limits), as typed. */
function rowsOf(form: URLSearchParams, prefix: string): LimitRow[] {
  const rows: LimitRow[] = [];
  for (let index = 0; index < MAX_ROWS && form.has(`${prefix}window_${index}`); index += 1) {
    rows.push({ window: text(form, `${prefix}window_${index}`), limit: text(form, `${prefix}limit_${index}`), burst: text(form, `${prefix}burst_${index}`) });
  }
  return rows;
}

export function limitRowsOf(form: URLSearchParams): LimitRow[] {
  return rowsOf(form, '');
}

export function routeLimitRowsOf(form: URLSearchParams): RouteLimitRow[] {
  return rowsOf(form, 'route_').map((row, index) => ({ route: text(form, `route_${index}`), ...row }));
}

function rowOfLimit(limit: Limit): LimitRow {
  return { window: limit.window, limit: String(limit.limit), burst: limit.burst === undefined ? '' : String(limit.burst) };
}

const EMPTY_ROW: LimitRow = { window: '', limit: '', burst: '' };

export function limitRowsFrom(limits: readonly Limit[] | null, extra: number): LimitRow[] {
  return [...(limits ?? []).map(rowOfLimit), ...Array.from({ length: extra }, () => EMPTY_ROW)];
}

export function routeLimitRowsFrom(routeLimits: Readonly<Record<string, readonly Limit[]>> | null, extra: number): RouteLimitRow[] {
  const rows = Object.entries(routeLimits ?? {}).flatMap(([route, limits]) => limits.map((limit) => ({ route, ...rowOfLimit(limit) })));
  return [...rows, ...Array.from({ length: extra }, () => ({ route: '', ...EMPTY_ROW }))];
}

/** One filled row as a limit; what a form alone can tell is wrong goes into `errors` at `group.N.field`. */
function limitOf(row: LimitRow, key: (field: string) => string, errors: Record<string, string>): Limit {
  if (row.window === '') errors[key('window')] = 'is required when a number of requests is given';
  if (!isWholeNumberText(row.limit)) errors[key('limit')] = 'must be a whole number of requests';
  if (row.burst !== '' && !isWholeNumberText(row.burst)) errors[key('burst')] = 'must be a whole number of requests, or empty';
  return row.burst === '' ? { window: row.window, limit: Number(row.limit) } : { window: row.window, limit: Number(row.limit), burst: Number(row.burst) };
}

const isEmpty = (row: LimitRow) => row.window === '' && row.limit === '' && row.burst === '';

export interface ParsedLimits {
  readonly limits: Limit[];
  /** Position in `limits` → row number in the form, to put an error on the right row. */
  readonly rowOf: readonly number[];
}

/** The filled rows as limits; a half-filled row or a number that is not whole is a FormError. */
export function parseLimitRows(rows: readonly LimitRow[]): ParsedLimits {
  const errors: Record<string, string> = {};
  const limits: Limit[] = [];
  const rowOf: number[] = [];
  rows.forEach((row, index) => {
    if (isEmpty(row)) return;
    limits.push(limitOf(row, (field) => `limits.${index}.${field}`, errors));
    rowOf.push(index);
  });
  if (Object.keys(errors).length > 0) throw new FormError(errors);
  return { limits, rowOf };
}

export interface ParsedRouteLimits {
  /** null when no row is filled. */
  readonly routeLimits: Record<string, Limit[]> | null;
  /** Route → the row numbers of its limits, in order. */
  readonly rowsOf: ReadonlyMap<string, readonly number[]>;
}

/** The filled route rows grouped by route, in the order the routes first appear. */
export function parseRouteLimitRows(rows: readonly RouteLimitRow[]): ParsedRouteLimits {
  const errors: Record<string, string> = {};
  const routeLimits: Record<string, Limit[]> = {};
  const rowsOf = new Map<string, number[]>();
  rows.forEach((row, index) => {
    if (row.route === '' && isEmpty(row)) return;
    const key = (field: string) => `route_limits.${index}.${field}`;
    if (row.route === '') errors[key('route')] = 'is required for a route limit';
    const limit = limitOf(row, key, errors);
    // Own properties only: a route named like `__proto__` must stay a plain entry.
    if (!Object.hasOwn(routeLimits, row.route)) Object.defineProperty(routeLimits, row.route, { value: [], enumerable: true, writable: true, configurable: true });
    (routeLimits[row.route] as Limit[]).push(limit);
    rowsOf.set(row.route, [...(rowsOf.get(row.route) ?? []), index]);
  });
  if (Object.keys(errors).length > 0) throw new FormError(errors);
  return { routeLimits: rowsOf.size === 0 ? null : routeLimits, rowsOf };
}

/**
 * A service error path → the form's error key. `limits.N.field` names the Nth filled row;
 * `route_limits.<route>.N.field` the Nth row of that route (a route name may hold dots, so the
 * known names are matched, longest first); `route_limits.<route>` alone goes on its first row.
 */
export function rowErrorPath(path: string, limits: ParsedLimits | null, routes: ParsedRouteLimits | null): string {
  const limitMatch = /^limits\.(\d+)(\..*)?$/.exec(path);
  if (limitMatch && limits) {
    const row = limits.rowOf[Number(limitMatch[1])];
    return row === undefined ? path : `limits.${row}${limitMatch[2] ?? ''}`;
  }
  if (!path.startsWith('route_limits.') || !routes) return path;
  const rest = path.slice('route_limits.'.length);
  const route = [...routes.rowsOf.keys()].sort((a, b) => b.length - a.length).find((name) => rest === name || rest.startsWith(`${name}.`));
  if (route === undefined) return 'route_limits';
  const rows = routes.rowsOf.get(route) ?? [];
  const inner = /^\.(\d+)(\..*)?$/.exec(rest.slice(route.length));
  if (!inner) return `route_limits.${rows[0]}.route`;
  const row = rows[Number(inner[1])];
  return row === undefined ? `route_limits.${rows[0]}.route` : `route_limits.${row}${inner[2] ?? '.window'}`;
}
