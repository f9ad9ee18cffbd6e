// What every answer to hostile input must be: the expected 4xx as problem+json of the expected
// kind, with nothing of our insides in it, and no failure in the server's log.
import type { Test } from 'tap';
import { problemType } from '../../../../contracts/problem.js';
import type { TestResponse } from '../../helpers/test-app.js';

type Assert = Pick<Test, 'equal' | 'match' | 'notMatch' | 'same'>;

// A stack frame, a source path or SQL in a response says more than a client should know.
const INSIDES = /\bat \S+ \(|\.ts:\d+|node_modules|\bselect\b.+\bfrom\b|\binsert into\b|\bPostgresError\b|\bSQLSTATE\b/i;

/** `echoed`: the client's own input, which a detail may quote back ("key … does not exist"). */
export function expectProblem(t: Assert, response: TestResponse, status: number, kind: string, label = `${status} ${kind}`, echoed?: string): void {
  t.equal(response.status, status, `${label}: status`);
  t.equal(response.headers.get('content-type'), 'application/problem+json', `${label}: problem+json`);
  t.equal(response.body?.type, problemType(kind), `${label}: type`);
  t.equal(response.body?.status, status, `${label}: status in the body`);
  const ours = echoed === undefined ? response.text : response.text.replaceAll(JSON.stringify(echoed).slice(1, -1), '');
  t.notMatch(ours, INSIDES, `${label}: no stack, path or SQL`);
}

/** A 400 validation-failed whose only error names `path`, with `message` when given. */
export function expectFieldError(t: Assert, response: TestResponse, path: string, message?: RegExp | string, label = path): void {
  expectProblem(t, response, 400, 'validation-failed', label);
  const errors = (response.body?.errors ?? []) as { path: string; message: string }[];
  t.same(
    errors.map((error) => error.path),
    [path],
    `${label}: names the field`,
  );
  if (message !== undefined) t.match(errors[0]?.message, message, `${label}: message`);
}

/** Log lines at error level or worse (pino: 50 and up): a request that failed instead of being refused. */
export function failuresLogged(lines: readonly string[]): string[] {
  return lines.filter((line) => {
    try {
      return ((JSON.parse(line) as { level?: number }).level ?? 0) >= 50;
    } catch {
      return true;
    }
  });
}
