// zod at the edge: a failed parse becomes a 400 listing every problem with its path
// (`limits.0.window`), so clients can point at the field.
import type { z } from 'zod';
import { ValidationError } from './errors.js';
import { humanMessage } from './validation-messages.js';

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, pathPrefix?: string): z.output<S> {
  const result = schema.safeParse(input, { error: humanMessage });
  if (result.success) return result.data;
  const errors = result.error.issues.map((issue) => {
    const segments = [...(pathPrefix ? [pathPrefix] : []), ...issue.path.map(String)];
    // zod reports unknown keys on the object, naming them in `keys`; point at each one instead.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...segments, key].join('.'), message: 'unknown field' }));
    }
    return [{ path: segments.join('.'), message: issue.message }];
  });
  throw new ValidationError(errors.flat());
}

/** Query strings arrive as text; a repeated parameter keeps its first value. */
export function queryObject(params: URLSearchParams): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of params) if (!(key in result)) result[key] = value;
  return result;
}
