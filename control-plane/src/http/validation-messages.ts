// Validation messages a person understands ("must be a whole number"), for the checks whose schema
// does not already say it in its own words. zod's defaults ("Invalid input: expected int, received
// number") name its own types; these name what the client should send instead.
import type { z } from 'zod';

/** Messages of the checks written by hand rather than by a zod schema. */
export const VALIDATION_MESSAGES = {
  nulCharacter: 'must not contain the NUL character (\\u0000)',
  loneSurrogate: 'must be valid Unicode text (it holds an unpaired surrogate)',
  dateTime: 'must be an ISO 8601 date-time with a time zone',
  dateTimeRange: 'must be a date-time between the years 0001 and 9999 (UTC)',
  finiteNumber: 'must be a finite number',
} as const;

const KINDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a JSON object',
  null: 'null',
};

function plural(count: number | bigint, noun: string): string {
  return `${count} ${noun}${Number(count) === 1 ? '' : 's'}`;
}

function bound(issue: z.core.$ZodRawIssue & { code: 'too_small' | 'too_big' }, atLeast: boolean): string {
  const limit = atLeast ? (issue as { minimum: number | bigint }).minimum : (issue as { maximum: number | bigint }).maximum;
  const word = atLeast ? (issue.inclusive === false ? 'more than' : 'at least') : issue.inclusive === false ? 'less than' : 'at most';
  switch (issue.origin) {
    case 'string':
      return atLeast && Number(limit) === 1 ? 'must not be empty' : `must be ${word} ${plural(limit, 'character')} long`;
    case 'array':
    case 'set':
      return atLeast && Number(limit) === 1 ? 'must list at least one item' : `must list ${word} ${plural(limit, 'item')}`;
    default:
      return `must be ${word} ${String(limit)}`;
  }
}

/** zod's per-parse error map: a message for the generic checks; undefined keeps the schema's own. */
export function humanMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      // JSON.parse reads 1e999 (or 400 digits) as Infinity: a number, but not one we can store.
      if (typeof issue.input === 'number' && !Number.isFinite(issue.input)) return VALIDATION_MESSAGES.finiteNumber;
      const expected = String(issue.expected);
      return `must be ${KINDS[expected] ?? expected}`;
    }
    case 'too_small':
      return bound(issue, true);
    case 'too_big':
      return bound(issue, false);
    case 'invalid_value':
      return `must be one of ${issue.values.map((value) => String(value)).join(', ')}`;
    case 'invalid_format':
      return issue.format === 'datetime' ? VALIDATION_MESSAGES.dateTime : `must be a valid ${issue.format}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_key': {
      // A record's key (a route name): the key's own check says what is wrong with it.
      const inner = (issue as { issues?: { message?: string }[] }).issues?.[0]?.message;
      return inner === undefined ? 'is not a valid name' : `is not a valid name: ${inner}`;
    }
    default:
      return undefined;
  }
}
