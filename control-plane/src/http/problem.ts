// The one error handler: ApiError → its problem+json; anything else → a 500 that says nothing
// about the cause (no stack, no SQL), logged in full on our side.
import type { ServerResponse } from 'node:http';
import { PROBLEM_CONTENT_TYPE, problem, problemBody, type Problem } from '../../../contracts/problem.js';
import type { Logger } from '../log.js';
import { ApiError, MethodNotAllowedError, ValidationError } from './errors.js';

export function toProblem(error: unknown): Problem {
  if (error instanceof ValidationError) {
    return problem(error.status, error.code, error.message, { errors: error.errors });
  }
  if (error instanceof ApiError) return problem(error.status, error.code, error.message);
  return problem(500, 'internal-error', 'an unexpected error occurred');
}

export function sendProblem(response: ServerResponse, error: unknown, logger: Logger): void {
  const body = toProblem(error);
  if (body.status >= 500) logger.error({ err: error }, 'request failed');
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ');
  if (body.status === 413) headers.connection = 'close';
  response.writeHead(body.status, headers);
  response.end(problemBody(body));
}
