// Failures the REST API reports, each with a stable `code`; http/problem.ts maps them to
// problem+json. Services and routes throw these; anything else becomes a bare 500.
import type { ProblemFieldError } from '../../../contracts/problem.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class ValidationError extends ApiError {
  constructor(
    readonly errors: readonly ProblemFieldError[],
    message = 'the request is invalid',
    status = 400,
    code = 'validation-failed',
  ) {
    super(status, code, message);
  }
}

/** A well-formed change that does not fit what it changes (a burst for a key whose tier is not
 * GCRA): 422, with the fields at fault. */
export class PolicyConflictError extends ValidationError {
  constructor(issues: readonly { readonly path: readonly (string | number)[]; readonly message: string }[], message: string) {
    super(
      issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
      message,
      422,
      'invalid-policy',
    );
  }
}

export class MalformedJsonError extends ApiError {
  constructor(cause?: unknown) {
    super(400, 'malformed-json', 'the request body is not valid JSON', { cause });
  }
}

export class UnauthorizedError extends ApiError {
  constructor() {
    super(401, 'unauthorized', 'a valid bearer token is required');
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string) {
    super(404, 'not-found', message);
  }
}

export class MethodNotAllowedError extends ApiError {
  constructor(readonly allowed: readonly string[]) {
    super(405, 'method-not-allowed', `this resource allows ${allowed.join(', ')}`);
  }
}

export class ConflictError extends ApiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(409, code, message, options);
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, 'payload-too-large', `the request body exceeds ${limitBytes} bytes`);
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  constructor(message = 'the request body must be application/json') {
    super(415, 'unsupported-media-type', message);
  }
}

export class UnprocessableError extends ApiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(422, code, message, options);
  }
}

/** PostgreSQL SQLSTATE of a driver error (postgres.js and PGlite both expose `code`). */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
