// The admin UI's two cookies: the session (its token) and the sign-in form's CSRF token. Both are
// HttpOnly (no script reads them) and SameSite=Strict (no other site's page sends them), and Secure
// when the request came over TLS, so a browser never sends them over plain HTTP afterwards.
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'tollgate_session';
export const SIGN_IN_CSRF_COOKIE = 'tollgate_sign_in';

export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  readonly path: string;
  readonly maxAgeSeconds: number;
  readonly secure: boolean;
}

/** Values are base64url tokens, which need no encoding; an empty value with Max-Age=0 deletes. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, `Path=${options.path}`, `Max-Age=${options.maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict'];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
