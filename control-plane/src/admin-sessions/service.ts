// Server-side sessions of the admin UI. The browser holds a 256-bit random token; PostgreSQL holds
// its SHA-256, the user, and when it was created, last seen and must end. A session ends after
// `idleMs` without a request or `maxAgeMs` after sign-in, whichever comes first. Times come from
// the clock parameter, so tests can move past both.
//
// Two things derive from the token instead of being stored, so a copy of the table gives neither:
// the CSRF token of the session's forms (an HMAC of the token), and the key that encrypts the
// session's flash (a new secret shown once after a redirect).
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import * as repository from './repository.js';

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly username: string;
  /** The token every form of this session must carry. */
  readonly csrfToken: string;
}

export interface SessionSettings {
  readonly idleMs: number;
  readonly maxAgeMs: number;
}

export interface SessionService {
  readonly settings: SessionSettings;
  /** Signs the user in: returns the new session's token (for the cookie). */
  start(userId: string): Promise<string>;
  /** The live session of this token, now marked as seen; null when unknown, idle too long or expired. */
  resume(token: string): Promise<Session | null>;
  end(token: string): Promise<void>;
  /** True when `given` is the CSRF token of the session. */
  checkCsrf(session: Session, given: string | undefined): boolean;
  /** Keeps `value` for the session's next `takeFlash`, encrypted. */
  putFlash(session: Session, value: unknown): Promise<void>;
  takeFlash(session: Session): Promise<unknown>;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const FLASH_KEY_INFO = 'tollgate admin session flash';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function csrfTokenOf(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('csrf').digest('base64url');
}

function flashKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', token, Buffer.alloc(0), FLASH_KEY_INFO, 32));
}

export function encryptFlash(token: string, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', flashKey(token), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

export function decryptFlash(token: string, sealed: string): unknown {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', flashKey(token), bytes.subarray(0, IV_BYTES));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const text = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  return JSON.parse(text) as unknown;
}

export function createSessionService(deps: { readonly db: Db; readonly clock: Clock; readonly settings: SessionSettings }): SessionService {
  const { db, clock, settings } = deps;
  const idleSince = (now: Date) => new Date(now.getTime() - settings.idleMs);

  return {
    settings,

    async start(userId) {
      const now = clock();
      // Sign-in is rare: a good moment to drop sessions nobody can use any more.
      await repository.deleteDeadSessions(db, now, idleSince(now));
      const token = randomBytes(32).toString('base64url');
      await repository.insertSession(db, {
        tokenHash: tokenHash(token),
        userId,
        now,
        expiresAt: new Date(now.getTime() + settings.maxAgeMs),
      });
      return token;
    },

    async resume(token) {
      if (!TOKEN_PATTERN.test(token)) return null;
      const now = clock();
      const row = await repository.touchSession(db, tokenHash(token), now, idleSince(now));
      if (!row) return null;
      return { token, userId: row.user_id, username: row.username, csrfToken: csrfTokenOf(token) };
    },

    async end(token) {
      if (TOKEN_PATTERN.test(token)) await repository.deleteSession(db, tokenHash(token));
    },

    checkCsrf(session, given) {
      if (given === undefined) return false;
      const expected = Buffer.from(session.csrfToken);
      const actual = Buffer.from(given);
      return actual.length === expected.length && timingSafeEqual(actual, expected);
    },

    async putFlash(session, value) {
      await repository.setFlash(db, tokenHash(session.token), encryptFlash(session.token, value));
    },

    async takeFlash(session) {
      const sealed = await repository.takeFlash(db, tokenHash(session.token));
      if (sealed === null) return null;
      try {
        return decryptFlash(session.token, sealed);
      } catch {
        return null;
      }
    },
  };
}
