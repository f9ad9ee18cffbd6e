// Reads a JSON request body with a hard size limit. Over the limit we stop keeping bytes at once
// (a declared Content-Length is refused before reading anything) and answer 413.
import type { IncomingMessage } from 'node:http';
import { MalformedJsonError, PayloadTooLargeError, UnsupportedMediaTypeError } from './errors.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const mediaType = header.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json';
}

export async function readJsonBody(request: IncomingMessage, limitBytes = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonContentType(request.headers['content-type'])) throw new UnsupportedMediaTypeError();
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) {
    discard(request);
    throw new PayloadTooLargeError(limitBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limitBytes) {
      discard(request);
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new MalformedJsonError(error);
  }
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
