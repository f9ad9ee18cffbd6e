// Reads a JSON request body with a hard size limit. Over the limit we stop keeping bytes at once
// (a declared Content-Length is refused before reading anything) and answer 413.
import type { IncomingMessage } from 'node:http';
import { ApiError, MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';
import { refuseUnstorableJson } from './storable.js';

export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Why this request's Content-Type is not one JSON body; undefined when it is. Two Content-Type
 * fields are refused rather than guessed between (Node keeps the first and drops the others), and
 * JSON is UTF-8 only, so any other declared charset is refused rather than misread.
 */
export function jsonContentTypeProblem(request: IncomingMessage): string | undefined {
  const fields = request.headersDistinct['content-type'] ?? [];
  if (fields.length > 1) return 'the request carries more than one Content-Type field';
  const [mediaType, ...parameters] = (fields[0] ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (mediaType !== 'application/json') return 'the request body must be application/json';
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((part) => part.trim());
    if (name === 'charset' && !['utf-8', '"utf-8"', 'utf8'].includes(value ?? '')) {
      return 'a JSON body must be UTF-8 (charset=utf-8 or none)';
    }
  }
  return undefined;
}

export async function readJsonBody(request: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  const contentTypeProblem = jsonContentTypeProblem(request);
  if (contentTypeProblem !== undefined) throw new UnsupportedMediaTypeError(contentTypeProblem);
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    discard(request);
    throw new PayloadTooLargeError(limitBytes);
  }
  const text = (await readBodyBytes(request, limitBytes)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedJsonError(error);
  }
  refuseUnstorableJson(value);
  return value;
}

/**
 * The whole body, refused with 413 past `limitBytes`. A body that breaks off (the client left, its
 * chunked framing is broken, it came too slowly) is the client's failure, not ours: a 400 that
 * nobody may be left to read, and no error in our log.
 */
export async function readBodyBytes(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limitBytes) {
        discard(request);
        throw new PayloadTooLargeError(limitBytes);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    throw new ApiError(400, 'bad-request', 'the request body could not be read', { cause: error });
  }
  return Buffer.concat(chunks);
}

/**
 * Drop whatever the client still sends without keeping it; the 413 carries Connection: close so
 * the socket ends after it. Closing abruptly instead could reset the connection before the
 * client has read our answer.
 */
function discard(request: IncomingMessage): void {
  request.removeAllListeners('data');
  request.resume();
}
