// Where a client's API key comes from: `X-API-Key`, or `Authorization: Bearer tg_…`.
// Only `tg_` bearer tokens are ours, so other Authorization schemes pass through to the upstream.
import type { IncomingHttpHeaders } from 'node:http';

const BEARER = /^bearer\s+/i;

/** True when an Authorization value carries one of our keys (and so must not reach the upstream). */
export function isTollgateAuthorization(value: string): boolean {
  return BEARER.test(value) && value.replace(BEARER, '').startsWith('tg_');
}

export function findApiKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header.trim();
  const authorization = headers.authorization;
  if (authorization !== undefined && isTollgateAuthorization(authorization)) {
    return authorization.replace(BEARER, '').trim();
  }
  return undefined;
}
