// Bearer-token check for /v1. Both sides are hashed first so timingSafeEqual compares equal
// lengths and the comparison time says nothing about the token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UnauthorizedError } from './errors.js';

export type BearerCheck = (request: IncomingMessage) => void;

export function createBearerCheck(adminToken: string): BearerCheck {
  const expected = createHash('sha256').update(adminToken).digest();
  return (request) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest();
    if (!match || !timingSafeEqual(given, expected)) throw new UnauthorizedError();
  };
}
