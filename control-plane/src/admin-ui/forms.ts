// Reading admin forms into the shapes the services take, and the services' validation errors back
// into messages beside the fields. The services' own zod schemas do the validating; this module
// only does what a form needs first (text to numbers and dates, skipping empty limit rows).
import type { Limit } from '../../../contracts/limits.js';
import type { ValidationError } from '../http/errors.js';
import { isStorableInstant } from '../http/storable.js';
import { VALIDATION_MESSAGES } from '../http/validation-messages.js';
import type { FieldErrors } from './views/components.js';
import type { LimitRow } from './views/limits-editor.js';

const MAX_LIMIT_ROWS = 16;

export class FormError extends Error {
  constructor(readonly errors: FieldErrors) {
    super('the form has errors');
  }
}

export function text(form: URLSearchParams, name: string): string {
  return (form.get(name) ?? '').trim();
}

/** Every limit row the form sent, as typed (for showing the form again). */
export function limitRowsOf(form: URLSearchParams): LimitRow[] {
  const rows: LimitRow[] = [];
  for (let index = 0; index < MAX_LIMIT_ROWS && form.has(`window_${index}`); index += 1) {
    rows.push({ window: text(form, `window_${index}`), limit: text(form, `limit_${index}`) });
  }
  return rows;
}

export function limitRowsFrom(limits: readonly Limit[] | null, extra: number): LimitRow[] {
  const rows = (limits ?? []).map((limit) => ({ window: limit.window, limit: String(limit.limit) }));
  for (let index = 0; index < extra; index += 1) rows.push({ window: '', limit: '' });
  return rows;
}

export interface ParsedLimits {
  readonly limits: { window: string; limit: number }[];
  /** Position in `limits` → row number in the form, to put an error on the right row. */
  readonly rowOf: readonly number[];
}

/** The filled rows as limits; a half-filled row or a limit that is not a whole number is a FormError. */
export function parseLimitRows(rows: readonly LimitRow[]): ParsedLimits {
  const errors: Record<string, string> = {};
  const limits: { window: string; limit: number }[] = [];
  const rowOf: number[] = [];
  rows.forEach((row, index) => {
    if (row.window === '' && row.limit === '') return;
    if (row.window === '') errors[`limits.${index}.window`] = 'is required when a number of requests is given';
    if (!/^\d{1,10}$/.test(row.limit)) errors[`limits.${index}.limit`] = 'must be a whole number of requests';
    limits.push({ window: row.window, limit: Number(row.limit) });
    rowOf.push(index);
  });
  if (Object.keys(errors).length > 0) throw new FormError(errors);
  return { limits, rowOf };
}

const LOCAL_DATE_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/;

/** A datetime-local value, read as UTC, to ISO 8601; '' → null. */
export function utcDateTime(value: string, field: string): string | null {
  if (value === '') return null;
  const match = LOCAL_DATE_TIME.exec(value);
  const iso = match ? `${match[1]}T${match[2]}${match[3] ?? ':00'}.000Z` : '';
  if (!match || Number.isNaN(Date.parse(iso))) throw new FormError({ [field]: 'must be a date and time (UTC)' });
  if (!isStorableInstant(Date.parse(iso))) throw new FormError({ [field]: VALIDATION_MESSAGES.dateTimeRange });
  return iso;
}

/** ISO 8601 → the value of a datetime-local input, in UTC. */
export function dateTimeInput(iso: string | null): string {
  return iso === null ? '' : new Date(iso).toISOString().slice(0, 16);
}

/**
 * The service's validation errors by form field. `limits.N…` paths point at the Nth filled row,
 * which `rowOf` turns back into the row the person typed in.
 */
export function fieldErrorsOf(error: ValidationError, rowOf: readonly number[] = []): FieldErrors {
  const errors: Record<string, string> = {};
  for (const { path, message } of error.errors) {
    const segments = path.split('.');
    if (segments[0] === 'limits' && segments.length > 1) {
      segments[1] = String(rowOf[Number(segments[1])] ?? segments[1]);
    }
    const key = segments.join('.') === '' ? 'form' : segments.join('.');
    errors[key] ??= message;
  }
  return errors;
}
