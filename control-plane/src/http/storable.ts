// What PostgreSQL (and PGlite) can store, checked where input enters so no value reaches a query
// that the database would refuse with an error of its own (a 500 and a stack in the log):
// - text: PostgreSQL refuses the NUL character in text and in jsonb (SQLSTATE 22021/22P05), and a
//   lone UTF-16 surrogate cannot be encoded as UTF-8 (the driver would silently store U+FFFD);
// - instants: timestamptz reads years 1 to 9999 as ISO text; a JavaScript Date beyond them prints
//   as `+010000-…` or `0000-…`, which PostgreSQL refuses.
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { VALIDATION_MESSAGES } from './validation-messages.js';

export interface TextProblem {
  readonly path: string;
  readonly message: string;
}

// An unpaired high surrogate, or a low surrogate without its high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why PostgreSQL could not store this text as given; undefined when it can. */
export function unstorableTextReason(text: string): string | undefined {
  if (text.includes('\u0000')) return VALIDATION_MESSAGES.nulCharacter;
  if (LONE_SURROGATE.test(text)) return VALIDATION_MESSAGES.loneSurrogate;
  return undefined;
}

/** A field name as a client can read it back: control characters and surrogates escaped. */
export function printableName(name: string): string {
  return JSON.stringify(name).slice(1, -1);
}

/**
 * Refuses (400, naming the parameter) a name or value PostgreSQL could not store: for query
 * parameters, path parameters and form fields, which all arrive as name/value text pairs.
 */
export function refuseUnstorablePairs(pairs: Iterable<readonly [string, string]>): void {
  for (const [name, value] of pairs) {
    const reason = unstorableTextReason(name) ?? unstorableTextReason(value);
    if (reason !== undefined) throw new ValidationError([{ path: printableName(name), message: reason }]);
  }
}

/** Refuses (400, naming the field) a parsed JSON body holding text PostgreSQL could not store. */
export function refuseUnstorableJson(value: unknown): void {
  const problem = findUnstorableText(value);
  if (problem !== undefined) throw new ValidationError([problem]);
}

interface Visit {
  readonly value: unknown;
  readonly name: string | undefined;
  readonly parent: Visit | undefined;
}

function pathOf(visit: Visit, last?: string): string {
  const names: string[] = last === undefined ? [] : [last];
  for (let at: Visit | undefined = visit; at !== undefined; at = at.parent) {
    if (at.name !== undefined) names.push(at.name);
  }
  return names.reverse().join('.');
}

/**
 * The first string or object key anywhere in a parsed JSON value that PostgreSQL could not store,
 * with its path (`limits.0.window`). Iterative: a body nested 500 000 levels deep is walked
 * without growing the call stack, and parents are linked rather than copied so memory stays linear.
 */
export function findUnstorableText(value: unknown, pathPrefix?: string): TextProblem | undefined {
  const stack: Visit[] = [{ value, name: pathPrefix, parent: undefined }];
  for (let visit = stack.pop(); visit !== undefined; visit = stack.pop()) {
    const current = visit.value;
    if (typeof current === 'string') {
      const reason = unstorableTextReason(current);
      if (reason !== undefined) return { path: pathOf(visit), message: reason };
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) {
        stack.push({ value: current[index], name: String(index), parent: visit });
      }
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, child] = entries[index] as [string, unknown];
        const reason = unstorableTextReason(key);
        if (reason !== undefined) return { path: pathOf(visit, printableName(key)), message: reason };
        stack.push({ value: child, name: key, parent: visit });
      }
    }
  }
  return undefined;
}

const FIRST_STORABLE_MS = Date.parse('0001-01-01T00:00:00.000Z');
const LAST_STORABLE_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** True for an instant PostgreSQL reads back from its ISO 8601 text (years 1 to 9999, UTC). */
export function isStorableInstant(ms: number): boolean {
  return Number.isFinite(ms) && ms >= FIRST_STORABLE_MS && ms <= LAST_STORABLE_MS;
}

/** An ISO 8601 date-time with its offset, for a timestamp the request filters by or stores. */
export const storableDateTimeSchema = z.iso
  .datetime({ offset: true, message: VALIDATION_MESSAGES.dateTime, abort: true })
  .refine((text) => isStorableInstant(Date.parse(text)), VALIDATION_MESSAGES.dateTimeRange);
