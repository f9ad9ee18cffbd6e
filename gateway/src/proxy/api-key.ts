// Where a client's API key comes from: `X-API-Key`, or `Authorization: Bearer tg_…`.
// Only `tg_` bearer tokens are ours, so other Authorization schemes pass through to the upstream.
import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^bearer\s+/i;

/** findApiKey's answer for a request that carries two different keys: which one counts is unclear. */
export const CONFLICTING_KEYS = Symbol('conflicting API keys');

/** True when an Authorization value carries one of our keys (and so must not reach the upstream). */
export function isTollgateAuthorization(value: string): boolean {
  return BEARER.test(value) && value.replace(BEARER, '').startsWith('tg_');
}

function bearerKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  return authorization !== undefined && isTollgateAuthorization(authorization) ? authorization.replace(BEARER, '').trim() : undefined;
}

/** The key the request carries; undefined when none; CONFLICTING_KEYS when the two headers disagree. */
export function findApiKey(headers: IncomingHttpHeaders): string | typeof CONFLICTING_KEYS | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') {
    const key = header.trim();
    if (headers.authorization === undefined) return key;
    const bearer = bearerKey(headers);
    return bearer === undefined || bearer === key ? key : CONFLICTING_KEYS;
  }
  return bearerKey(headers);
}
