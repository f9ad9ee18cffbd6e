// zod at the edge: a failed parse becomes a 400 listing every problem with its path
// (`limits.0.window`), so clients can point at the field.
import type { z } from 'zod';
import { ValidationError } from './errors.js';
import { humanMessage } from './validation-messages.js';

/**
 * A body of 100 000 unknown fields (or a list of 500 000 wrong items) would otherwise get one
 * error each: a response many times the size of the request. The first ones say what is wrong.
 */
export const MAX_REPORTED_ERRORS = 20;

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, pathPrefix?: string): z.output<S> {
  const result = schema.safeParse(input, { error: humanMessage });
  if (result.success) return result.data;
  const errors = withoutImplicitBounds(result.error.issues).map((issue) => {
    const segments = [...(pathPrefix ? [pathPrefix] : []), ...issue.path.map(String)];
    // zod reports unknown keys on the object, naming them in `keys`; point at each one instead.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...segments, key].join('.'), message: 'unknown field' }));
    }
    return [{ path: segments.join('.'), message: issue.message }];
  });
  const all = errors.flat();
  if (all.length <= MAX_REPORTED_ERRORS) throw new ValidationError(all);
  throw new ValidationError(
    all.slice(0, MAX_REPORTED_ERRORS),
    `the request is invalid (the first ${MAX_REPORTED_ERRORS} of ${all.length} problems are listed)`,
  );
}

/** zod's int() bounds every integer to the safe range; the schema's own bound on it says more. */
function isImplicitBound(issue: z.core.$ZodIssue): boolean {
  return (
    (issue.code === 'too_big' && issue.maximum === Number.MAX_SAFE_INTEGER) ||
    (issue.code === 'too_small' && issue.minimum === Number.MIN_SAFE_INTEGER)
  );
}

function withoutImplicitBounds(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const key = (issue: z.core.$ZodIssue) => issue.path.map(String).join('.');
  const explicit = new Set(issues.filter((issue) => !isImplicitBound(issue)).map(key));
  return issues.filter((issue) => !isImplicitBound(issue) || !explicit.has(key(issue)));
}

/** Query strings arrive as text; a repeated parameter keeps its first value. */
export function queryObject(params: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of params) if (!(key in result)) result[key] = value;
  return result;
}
