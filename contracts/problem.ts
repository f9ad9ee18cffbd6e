// RFC 9457 problem details, the one error shape of both services (SPEC §4).
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
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `type` is a stable URN per problem kind, so clients can branch on it without parsing text. */
export function problem(
  status: number,
  kind: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Problem {
  return { type: `urn:tollgate:problem:${kind}`, title: TITLES[status] ?? 'Error', status, detail, ...extensions };
}

export function problemBody(value: Problem): string {
  return JSON.stringify(value);
}
