// RFC 9457 problem details, the one error shape of both services.
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemFieldError {
  readonly path: string;
  readonly message: string;
}

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly ProblemFieldError[];
  readonly [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Every problem `type` is this base plus a kebab-case kind (`…/rate-limited`): one stable URI per
 * kind, the same style in both services, so clients branch on it without parsing text. The kinds
 * are listed in docs/errors.md.
 */
export const PROBLEM_TYPE_BASE = 'https://tollgate.dev/problems/';

export function problemType(kind: string): string {
  return PROBLEM_TYPE_BASE + kind;
}

export function problem(
  status: number,
  kind: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  return { type: problemType(kind), title: TITLES[status] ?? 'Error', status, detail, ...extensions };
}

export function problemBody(value: Problem): string {
  return JSON.stringify(value);
}
