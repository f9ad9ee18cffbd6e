// Cursor pagination shared by the list endpoints. A cursor is the base64url JSON of the last row's
// sort position: opaque to clients, stable while rows are added.
import { z } from 'zod';
import { ValidationError } from './errors.js';
import { findUnstorableText } from './storable.js';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export const pageLimitSchema = z
  .string()
  .regex(/^\d+$/, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
  .transform(Number)
  .refine((value) => value >= 1 && value <= MAX_PAGE_SIZE, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`)
  .optional()
  .describe(`page size, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`);

export const cursorSchema = z.string().min(1).max(512).optional().describe('next_cursor of the previous page');

export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/** The position inside a cursor, checked against the shape the list expects. */
export function decodeCursor<S extends z.ZodType>(cursor: string, shape: S): z.output<S> {
  try {
    const position: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // A forged cursor is text like any other: it must not carry what the database refuses.
    const parsed = findUnstorableText(position) === undefined ? shape.safeParse(position) : undefined;
    if (parsed?.success) return parsed.data;
  } catch {
    // fall through: not base64url JSON
  }
  throw new ValidationError([{ path: 'cursor', message: 'is not a cursor returned by this list' }]);
}
