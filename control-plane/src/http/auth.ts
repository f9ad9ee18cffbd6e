// Bearer-token check for /v1. Both sides are hashed first so timingSafeEqual compares equal
// lengths and the comparison time says nothing about the token. Every request reaches the
// comparison, whatever its header looks like (missing, another scheme, two fields), so no early
// return tells a malformed header apart from a wrong token either.
// The module object, not named imports: the hostile tests watch the calls to timingSafeEqual on it.
import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UnauthorizedError } from './errors.js';

export type BearerCheck = (request: IncomingMessage) => void;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function digest(text: string): Buffer {
  return crypto.createHash('sha256').update(text).digest();
}

export function createBearerCheck(adminToken: string): BearerCheck {
  const expected = digest(adminToken);
  return (request) => {
    // Node keeps only the first of repeated Authorization fields; two are refused, not guessed at.
    const fields = request.headersDistinct.authorization ?? [];
    const match = fields.length === 1 ? BEARER.exec(fields[0] ?? '') : null;
    const same = crypto.timingSafeEqual(digest(match?.[1] ?? ''), expected);
    if (match === null || !same) throw new UnauthorizedError();
  };
}
