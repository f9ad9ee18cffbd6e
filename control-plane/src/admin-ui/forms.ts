// Reading admin forms into the shapes the services take, and the services' validation errors back
// into messages beside the fields. The services' own zod schemas do the validating; this module
// only does what a form needs first (text to numbers and dates). Limit rows: limit-rows.ts.
import type { ValidationError } from '../http/errors.js';
import { isStorableInstant } from '../http/storable.js';
import { VALIDATION_MESSAGES } from '../http/validation-messages.js';
import type { FieldErrors } from './views/components.js';

export class FormError extends Error {
  constructor(readonly errors: FieldErrors) {
    super('the form has errors');
  }
}

export function text(form: URLSearchParams, name: string): string {
  return (form.get(name) ?? '').trim();
}

/** Digits only, few enough to be exact as a number: the schema then checks the range. */
export function isWholeNumberText(value: string): boolean {
  return /^\d{1,10}$/.test(value);
}

/** '' → null; otherwise a whole number, else a FormError on `field`. */
export function wholeNumberOrNull(value: string, field: string): number | null {
  if (value === '') return null;
  if (!isWholeNumberText(value)) throw new FormError({ [field]: 'must be a whole number, or empty' });
  return Number(value);
}

/**
 * Runs one reading step of a form, adding its FormError's fields to `errors` instead of stopping,
 * so one post shows every field the form alone can tell is wrong.
 */
export function gather<T>(errors: Record<string, string>, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof FormError)) throw error;
    Object.assign(errors, error.errors);
    return undefined;
  }
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

/** The service's validation errors by form field; `formPath` maps a service path to the form's (limit rows). */
export function fieldErrorsOf(error: ValidationError, formPath: (path: string) => string = (path) => path): FieldErrors {
  const errors: Record<string, string> = {};
  for (const { path, message } of error.errors) {
    const key = path === '' ? 'form' : formPath(path);
    errors[key] ??= message;
  }
  return errors;
}
