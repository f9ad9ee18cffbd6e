// Responses the gateway writes itself (errors as problem+json). Bodies of the fixed cases are
// serialised once at start, so a 401 or 429 costs no JSON work per request.
import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { PROBLEM_CONTENT_TYPE, problem, problemBody, problemType } from '../../../contracts/problem.js';
import { wholeSeconds, type WindowLimit } from '../../../contracts/limits.js';
import type { StoreReply } from '../limiter/store.js';

export interface PreparedProblem {
  readonly status: number;
  readonly body: Buffer;
  readonly length: string;
  /** Fields every answer with this problem carries (Retry-After of a 503), as [name, value, …]. */
  readonly headers: readonly string[];
}

export function prepareProblem(status: number, kind: string, detail: string, headers: readonly string[] = []): PreparedProblem {
  const body = Buffer.from(problemBody(problem(status, kind, detail)));
  return { status, body, length: String(body.length), headers };
}

/** A 503 is worth retrying after a second: Redis is probed twice a second, queues drain faster. */
const RETRY_SOON = ['retry-after', '1'];

export const PROBLEMS = {
  missingKey: prepareProblem(401, 'missing-api-key', 'Send an API key in X-API-Key or Authorization: Bearer.'),
  invalidKey: prepareProblem(401, 'invalid-api-key', 'The API key is unknown, revoked, inactive or expired.'),
  noRoute: prepareProblem(404, 'no-route', 'No route matches this path.'),
  storeUnavailable: prepareProblem(503, 'limiter-unavailable', 'The rate limiter cannot answer; try again shortly.', RETRY_SOON),
  overloaded: prepareProblem(503, 'gateway-overloaded', 'The gateway has too many requests waiting for the rate limiter; try again shortly.', RETRY_SOON),
  upstreamUnavailable: prepareProblem(502, 'upstream-unavailable', 'The upstream refused or dropped the connection.'),
  upstreamTimeout: prepareProblem(504, 'upstream-timeout', 'The upstream did not answer in time.'),
  methodNotAllowed: prepareProblem(405, 'method-not-allowed', 'Only GET and HEAD are allowed here.'),
  badRequest: prepareProblem(400, 'bad-request', 'The request is not valid HTTP/1.1.'),
  headersTooLarge: prepareProblem(431, 'headers-too-large', 'Request headers exceed 16 KiB.'),
  tooManyHeaders: prepareProblem(431, 'too-many-headers', 'The request has more than 100 header fields.'),
  unsupportedUpgrade: prepareProblem(400, 'unsupported-upgrade', 'Only WebSocket upgrades are supported; send the request without Upgrade.'),
  invalidPath: prepareProblem(400, 'invalid-path', 'The path climbs above its root or holds an encoded slash or backslash.'),
  missingHost: prepareProblem(400, 'missing-host', 'An HTTP/1.1 request must carry a Host header.'),
  conflictingKeys: prepareProblem(400, 'conflicting-api-keys', 'The request carries two different API keys, in X-API-Key and in Authorization.'),
  unforwardable: prepareProblem(400, 'unforwardable-request', 'The request cannot be forwarded as it is: a header value or path the upstream connection refuses.'),
  connectNotSupported: prepareProblem(405, 'method-not-allowed', 'CONNECT is not supported: this gateway is not a forward proxy.', ['allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']),
  requestTimeout: prepareProblem(408, 'request-timeout', 'The request was not received in time.'),
  bodyTooLarge: prepareProblem(413, 'payload-too-large', 'The request body is larger than this gateway accepts.'),
  expectationFailed: prepareProblem(417, 'expectation-failed', 'Only Expect: 100-continue is supported.'),
  unsupportedTransferCoding: prepareProblem(501, 'unsupported-transfer-coding', 'Only the chunked transfer coding is supported in requests.'),
} as const;

/** The problem alone (responses with no rate-limit fields: no valid key yet). */
export function sendProblem(res: ServerResponse, prepared: PreparedProblem): void {
  sendProblemWithHeaders(res, prepared, []);
}

/** The problem with extra fields (rate-limit headers) written in one writeHead, no setHeader. */
export function sendProblemWithHeaders(res: ServerResponse, prepared: PreparedProblem, headers: string[]): void {
  for (const field of prepared.headers) headers.push(field);
  headers.push('content-type', PROBLEM_CONTENT_TYPE, 'content-length', prepared.length);
  res.writeHead(prepared.status, headers);
  res.end(prepared.body);
}

/**
 * For a socket without a ServerResponse (an upgrade request, a parse error): a complete HTTP/1.1
 * response, then the connection is closed.
 */
export function writeRawProblem(socket: Duplex, prepared: PreparedProblem, extraHeaders: readonly string[] = []): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  let head = `HTTP/1.1 ${prepared.status} ${STATUS_CODES[prepared.status] ?? 'Error'}\r\n`;
  head += `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${prepared.length}\r\nconnection: close\r\n`;
  const fields = [...extraHeaders, ...prepared.headers];
  for (let i = 0; i + 1 < fields.length; i += 2) head += `${fields[i]}: ${fields[i + 1]}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), prepared.body]));
}

const RATE_LIMITED_TYPE = problemType('rate-limited');
const CONCURRENCY_LIMITED_HEAD = `{"type":"${problemType('concurrency-limited')}","title":"Too Many Requests","status":429,"detail":"This key already has as many requests in flight as its tier allows; retry when one has finished.","limit":`;

/**
 * The 429 for a refused request, naming the limit that refused it: its item name (as in the
 * RateLimit fields), window, limit, what remains and when its quota is back. Names and windows
 * come from configuration whose characters need no JSON escaping, so the body is concatenated.
 */
export function limitedProblem(limits: readonly WindowLimit[], reply: StoreReply, concurrency: number | null): PreparedProblem {
  let text: string;
  if (reply.refused >= 0 && reply.refused < limits.length) {
    const limit = limits[reply.refused] as WindowLimit;
    const detail = `The limit ${limit.name} (${limit.limit} per ${limit.window}) is exhausted; retry after Retry-After seconds.`;
    text = `{"type":"${RATE_LIMITED_TYPE}","title":"Too Many Requests","status":429,"detail":"${detail}","limit":{"name":"${limit.name}","window":"${limit.window}","limit":${limit.limit},"remaining":${reply.remaining[reply.refused] ?? 0},"reset_seconds":${wholeSeconds(reply.resetMs[reply.refused] ?? 0)}}}`;
  } else {
    const inFlight = reply.inFlight ?? concurrency ?? 0;
    text = `${CONCURRENCY_LIMITED_HEAD}{"name":"concurrency","window":null,"limit":${concurrency ?? 0},"remaining":${Math.max(0, (concurrency ?? 0) - inFlight)},"reset_seconds":0,"in_flight":${inFlight}}}`;
  }
  const body = Buffer.from(text);
  return { status: 429, body, length: String(body.length), headers: [] };
}
