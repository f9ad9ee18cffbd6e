// Reads an HTML form's body (application/x-www-form-urlencoded). Admin forms are small: past 64 KiB
// the request is refused with 413 before more is kept.
import type { IncomingMessage } from 'node:http';
import { ApiError, PayloadTooLargeError } from '../http/errors.js';
import { refuseUnstorablePairs } from '../http/storable.js';

export const MAX_FORM_BYTES = 64 * 1024;

export async function readForm(request: IncomingMessage, limitBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    request.resume();
    throw new ApiError(415, 'unsupported-media-type', 'a form must be sent as application/x-www-form-urlencoded');
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limitBytes) {
      request.resume();
      throw new PayloadTooLargeError(limitBytes);
    }
    chunks.push(chunk);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  refuseUnstorablePairs(form);
  return form;
}
