// Answers Node's HTTP server would otherwise write itself, with an empty body: what its parser
// refuses before any handler runs (headers too large, not HTTP, a timeout), an `Expect` it does not
// know, and CONNECT. Each becomes problem+json like every other error, and the connection closes.
import { STATUS_CODES, maxHeaderSize, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROBLEM_CONTENT_TYPE, problem, problemBody, type Problem } from '../../../contracts/problem.js';
import type { Logger } from '../log.js';

/** contracts/problem.ts names the statuses the services answer with by design; these add 408, 417. */
function httpProblem(status: number, kind: string, detail: string): Problem {
  const body = problem(status, kind, detail);
  return body.title === 'Error' ? { ...body, title: STATUS_CODES[status] ?? 'Error' } : body;
}

const BAD_REQUEST = httpProblem(400, 'bad-request', 'the request is not valid HTTP/1.1');

/** Node's error codes for what it refuses → the problem we answer with. */
const BY_CODE: Readonly<Record<string, Problem>> = {
  HPE_HEADER_OVERFLOW: httpProblem(431, 'headers-too-large', `the request line and headers exceed ${Math.floor(maxHeaderSize / 1024)} KiB`),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: httpProblem(413, 'payload-too-large', 'the chunk extensions of the request body are too large'),
  ERR_HTTP_REQUEST_TIMEOUT: httpProblem(408, 'request-timeout', 'the request was not received in time'),
};

function rawResponse(body: Problem, headers: Readonly<Record<string, string>>): Buffer {
  const payload = problemBody(body);
  let head =
    `HTTP/1.1 ${body.status} ${STATUS_CODES[body.status] ?? 'Error'}\r\n` +
    `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n${payload}`, 'utf8');
}

/** The response being written on this socket, if any (Node's own clientError fallback reads the same field). */
function responseInFlight(socket: Duplex): ServerResponse | undefined {
  return (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
}

/**
 * Writes the problem as a whole HTTP/1.1 response, then closes the connection. When the error
 * belongs to a request pipelined behind one whose answer is still being made, that answer is let
 * finish first; when it belongs to the request in flight (its body broke or came too slowly) and
 * nothing of its answer was sent, the problem is its answer. Bytes into a started answer would
 * corrupt it: then the connection is only closed.
 */
export function endWithProblem(socket: Duplex, body: Problem, headers: Readonly<Record<string, string>> = {}): void {
  const inFlight = responseInFlight(socket);
  if (inFlight !== undefined && inFlight.req.complete && !inFlight.writableFinished) {
    inFlight.once('finish', () => endWithProblem(socket, body, headers));
    return;
  }
  if (!socket.writable || (inFlight !== undefined && inFlight.headersSent && !inFlight.writableFinished)) {
    socket.destroy();
    return;
  }
  socket.end(rawResponse(body, headers), () => socket.destroy());
}

/** The server's 'clientError' listener. */
export function createClientErrorHandler(logger: Logger): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    // The client left or reset the connection: nobody is there to read an answer.
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    const body = BY_CODE[error.code ?? ''] ?? BAD_REQUEST;
    logger.debug({ code: error.code, status: body.status }, 'request refused by the http parser');
    endWithProblem(socket, body);
  };
}

/** The server's 'checkExpectation' listener: an Expect other than 100-continue. */
export function answerUnknownExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const body = httpProblem(417, 'expectation-failed', 'the only expectation this server meets is Expect: 100-continue');
  response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, connection: 'close' });
  response.end(problemBody(body));
}

/** The server's 'connect' listener: this is no forward proxy (405, as the gateway answers it). */
export function refuseConnect(_request: IncomingMessage, socket: Duplex): void {
  endWithProblem(socket, httpProblem(405, 'method-not-allowed', 'CONNECT is not supported: the control plane is not a forward proxy'), {
    allow: 'GET, HEAD, POST, PATCH, DELETE',
  });
}

/** A request that cannot name its host (none in HTTP/1.1, or more than one); undefined when it can. */
export function hostProblem(request: IncomingMessage): { readonly kind: string; readonly detail: string } | undefined {
  const hosts = request.headersDistinct.host ?? [];
  if (hosts.length > 1) return { kind: 'bad-request', detail: 'the request carries more than one Host field' };
  if (hosts.length === 0 && request.httpVersion === '1.1') return { kind: 'missing-host', detail: 'an HTTP/1.1 request must carry a Host field' };
  return undefined;
}
