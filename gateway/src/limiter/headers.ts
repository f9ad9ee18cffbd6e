// The rate-limit fields of one response (SPEC §3): draft-ietf-httpapi-ratelimit-headers-10
// `RateLimit: "1m";r=4;t=60, "1h";r=99;t=3600` (r remaining, t whole seconds until the window's full
// quota is back), the de-facto X-RateLimit-* for the tightest limit, and Retry-After on a 429.
// RateLimit-Policy is precomputed per key (policy-header.ts). Strings are built by concatenation,
// with no intermediate arrays or objects per request.
import type { KeyRecord } from '../keys/key-record.js';
import type { WindowLimit } from '../../../contracts/limits.js';
import { retryAfterSeconds, tightestLimitIndex } from './decision.js';
import type { StoreReply } from './store.js';

/** `RateLimit` value: one item per limit, in the key's (window) order. */
export function rateLimitHeaderValue(limits: readonly WindowLimit[], reply: StoreReply): string {
  let value = '';
  for (let i = 0; i < limits.length; i += 1) {
    if (i > 0) value += ', ';
    value += `"${(limits[i] as WindowLimit).window}";r=${reply.remaining[i] ?? 0};t=${reply.resetSeconds[i] ?? 0}`;
  }
  return value;
}

/** Anything with setHeader: http.ServerResponse, or a plain collector in tests. */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/**
 * Sets RateLimit-Policy, RateLimit, X-RateLimit-Limit/-Remaining/-Reset and, when the request was
 * rejected, Retry-After.
 */
export function setRateLimitHeaders(sink: HeaderSink, record: KeyRecord, reply: StoreReply): void {
  setHeaderList(sink, rateLimitHeaderList(record, reply));
}

/** undecidedHeaderList set one by one (responses that are not written with one writeHead). */
export function setUndecidedHeaders(sink: HeaderSink, record: KeyRecord, refused: boolean): void {
  setHeaderList(sink, undecidedHeaderList(record, refused));
}

function setHeaderList(sink: HeaderSink, list: readonly string[]): void {
  for (let i = 0; i < list.length; i += 2) sink.setHeader(list[i] as string, list[i + 1] as string);
}

/**
 * The same fields as a flat [name, value, …] list, for `res.writeHead(status, list)`: with no
 * setHeader before it, Node writes the list as is instead of merging it into a header object.
 */
export function rateLimitHeaderList(record: KeyRecord, reply: StoreReply): string[] {
  const tightest = tightestLimitIndex(reply);
  const list = [
    'ratelimit-policy',
    record.policyHeader,
    'ratelimit',
    rateLimitHeaderValue(record.limits, reply),
    'x-ratelimit-limit',
    String(record.limits[tightest]?.limit ?? 0),
    'x-ratelimit-remaining',
    String(reply.remaining[tightest] ?? 0),
    'x-ratelimit-reset',
    String(reply.resetSeconds[tightest] ?? 0),
  ];
  if (!reply.allowed) list.push('retry-after', String(retryAfterSeconds(reply)));
  return list;
}

/** Retry-After on a 503 from a store that cannot answer: the breaker probes Redis twice a second. */
const STORE_UNAVAILABLE_RETRY_AFTER = '1';

/**
 * The fields that need no limiter decision, for a response made without one (the store failed:
 * fail-open forwards, closed answers 503): the key's policy and its first limit (the shortest
 * window, the tie rule of decision.ts). Remaining and reset are unknown then, so `RateLimit` and
 * X-RateLimit-Remaining/-Reset are left out rather than guessed. `refused` (the 503 of closed mode)
 * adds Retry-After.
 */
export function undecidedHeaderList(record: KeyRecord, refused: boolean): string[] {
  const list = ['ratelimit-policy', record.policyHeader, 'x-ratelimit-limit', String(record.limits[0]?.limit ?? 0)];
  if (refused) list.push('retry-after', STORE_UNAVAILABLE_RETRY_AFTER);
  return list;
}

/** True for the names of rate-limit fields (lower case), which an upstream may also send. */
export function isRateLimitField(lowerName: string): boolean {
  return lowerName.startsWith('ratelimit') || lowerName.startsWith('x-ratelimit-') || lowerName === 'retry-after';
}
