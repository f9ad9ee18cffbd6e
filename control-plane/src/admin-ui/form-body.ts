// Reads an HTML form's body (application/x-www-form-urlencoded). Admin forms are small: past 64 KiB
// the request is refused with 413 before more is kept.
import type { IncomingMessage } from 'node:http';
import { readBodyBytes } from '../http/body.js';
import { ApiError } from '../http/errors.js';
import { refuseUnstorablePairs } from '../http/storable.js';

export const MAX_FORM_BYTES = 64 * 1024;

export async function readForm(request: IncomingMessage, limitBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    request.resume();
    throw new ApiError(415, 'unsupported-media-type', 'a form must be sent as application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams((await readBodyBytes(request, limitBytes)).toString('utf8'));
  refuseUnstorablePairs(form);
  return form;
}
