// The rate-limit fields of one response: draft-ietf-httpapi-ratelimit-headers-10
// `RateLimit-Policy: "1m";q=5;w=60` and `RateLimit: "1m";r=4;t=60` (r remaining, t whole seconds
// until the window's full quota is back), the de-facto X-RateLimit-* for the tightest limit, and
// Retry-After on a 429. The tightest limit and Retry-After are worked out here and nowhere else.
// Strings are built by concatenation, with no intermediate arrays or objects per request.
import { wholeSeconds, type WindowLimit } from '../../../contracts/limits.js';
import type { StoreReply } from './store.js';

/** The limits a response reports on, and their RateLimit-Policy value (built once, not per request). */
export interface HeaderPolicy {
  readonly limits: readonly WindowLimit[];
  readonly policyHeader: string;
}

/**
 * The limit with the fewest units remaining; on a tie the first (a key's limits come before a
 * route's, each sorted by window, so the shortest window of the key). X-RateLimit-* report it.
 */
export function tightestLimit(reply: StoreReply): number {
  const remaining = reply.remaining;
  let best = 0;
  for (let i = 1; i < remaining.length; i += 1) {
    if ((remaining[i] as number) < (remaining[best] as number)) best = i;
  }
  return best;
}

/** Retry-After: whole seconds, rounded up from the precise ms and at least 1; 0 when admitted. */
export function retryAfterSeconds(reply: StoreReply): number {
  return reply.allowed ? 0 : Math.max(1, wholeSeconds(reply.retryAfterMs));
}

/** `RateLimit` value: one item per limit, in the policy's (window) order. */
export function rateLimitHeaderValue(limits: readonly WindowLimit[], reply: StoreReply): string {
  let value = '';
  for (let i = 0; i < limits.length; i += 1) {
    if (i > 0) value += ', ';
    value += `"${(limits[i] as WindowLimit).name}";r=${reply.remaining[i] ?? 0};t=${wholeSeconds(reply.resetMs[i] ?? 0)}`;
  }
  return value;
}

/**
 * RateLimit-Policy, RateLimit, X-RateLimit-Limit/-Remaining/-Reset and, when the request was
 * rejected, Retry-After, as a flat [name, value, …] list for `res.writeHead(status, list)`: with no
 * setHeader before it, Node writes the list as is instead of merging it into a header object.
 */
export function rateLimitHeaderList(policy: HeaderPolicy, reply: StoreReply, retryAfter = true): string[] {
  const tightest = tightestLimit(reply);
  const list = [
    'ratelimit-policy',
    policy.policyHeader,
    'ratelimit',
    rateLimitHeaderValue(policy.limits, reply),
    'x-ratelimit-limit',
    String(policy.limits[tightest]?.limit ?? 0),
    'x-ratelimit-remaining',
    String(reply.remaining[tightest] ?? 0),
    'x-ratelimit-reset',
    String(wholeSeconds(reply.resetMs[tightest] ?? 0)),
  ];
  if (!reply.allowed && retryAfter) list.push('retry-after', String(retryAfterSeconds(reply)));
  return list;
}

/**
 * The fields that need no limiter decision, for a response made without one (the store failed:
 * fail-open forwards, closed answers 503): the policy and its first limit (the shortest window, the
 * tie rule of tightestLimit). Remaining and reset are unknown then, so `RateLimit` and
 * X-RateLimit-Remaining/-Reset are left out rather than guessed.
 */
export function undecidedHeaderList(policy: HeaderPolicy): string[] {
  return ['ratelimit-policy', policy.policyHeader, 'x-ratelimit-limit', String(policy.limits[0]?.limit ?? 0)];
}
