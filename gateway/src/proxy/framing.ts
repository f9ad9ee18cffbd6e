// Requests refused for their framing before anything else is looked at: what could smuggle a second
// request past the gateway, hide fields from the upstream, or be read differently by the upstream.
import type { IncomingMessage } from 'node:http';
import { MAX_REQUEST_HEADER_FIELDS } from './headers.js';
import { PROBLEMS, type PreparedProblem } from './respond.js';

/** The problem of a badly framed request (the connection is then closed), or null. */
export function framingProblem(req: IncomingMessage): PreparedProblem | null {
  const headers = req.headers;
  const transferEncoding = headers['transfer-encoding'];
  if (transferEncoding !== undefined) {
    // Both framings at once is the request-smuggling pattern (RFC 9112 §6.3).
    if (headers['content-length'] !== undefined) return PROBLEMS.badRequest;
    // Any other coding would be dropped on the way (Node decodes only chunked): RFC 9112 §6.1.
    if (transferEncoding.toLowerCase() !== 'chunked') return PROBLEMS.unsupportedTransferCoding;
  }
  // Past this many fields a client could push the gateway's own headers out of what an upstream
  // reads (Node's keeps 2000), and pad 16 KiB of names and values with framing bytes.
  if (req.rawHeaders.length > 2 * MAX_REQUEST_HEADER_FIELDS) return PROBLEMS.tooManyHeaders;
  if (headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 1) return PROBLEMS.missingHost;
  return null;
}
