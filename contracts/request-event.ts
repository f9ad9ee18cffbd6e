// One request event per answered gateway request (SPEC §6, DESIGN.md flow 3): the gateway appends it
// to the Redis Stream `requestEventStream(prefix)` and the control plane's log writer turns it into a
// `request_log` row. Field names on the stream are short because there are millions of entries.
//
// The event id is made by the gateway (instance id + counter), not by Redis, so a batch that is sent
// twice (a retried pipeline, a redelivered stream entry) still becomes one row: the writer inserts
// with ON CONFLICT (time, event_id) DO NOTHING.
//
// Stream fields: i id, t time (epoch ms), k key id, r tier, o route, m method, s status,
// d duration (ms), l limited (0/1). Unknown fields are ignored so gateways can be upgraded first.

import { randomBytes } from 'node:crypto';

export interface RequestEvent {
  /** Unique per event across gateways: `<instance id>.<counter>`. */
  readonly id: string;
  /** Epoch milliseconds when the gateway answered. */
  readonly timeMs: number;
  /** Null when the request carried no valid key (401). */
  readonly keyId: string | null;
  readonly tier: string | null;
  /** Configured route name; null when no route matched (404) or the key was refused first. */
  readonly route: string | null;
  readonly method: string;
  readonly status: number;
  readonly durationMs: number;
  /** True when a limit rejected the request (429). */
  readonly limited: boolean;
}

/** Default cap of the stream (`XADD … MAXLEN ~ n`): about a day of 10 req/s, minutes of a busy fleet. */
export const DEFAULT_REQUEST_EVENT_STREAM_MAX_LENGTH = 1_000_000;

/**
 * Appends the event's stream fields to `out` (field, value, field, value…). Null becomes an empty
 * string: key ids, tiers and route names are never empty, so the two cannot be confused.
 */
export function encodeRequestEventFields(event: RequestEvent, out: (string | number)[]): void {
  out.push(
    'i',
    event.id,
    't',
    event.timeMs,
    'k',
    event.keyId ?? '',
    'r',
    event.tier ?? '',
    'o',
    event.route ?? '',
    'm',
    event.method,
    's',
    event.status,
    'd',
    // Sub-millisecond precision is noise for a log; three decimals keep entries short.
    Math.round(event.durationMs * 1000) / 1000,
    'l',
    event.limited ? '1' : '0',
  );
}

const METHOD_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/**
 * Parses the flat field list of one stream entry (as XREADGROUP returns it). Returns null for an
 * entry that is not a request event; a cheap hand-written shape check, not zod, because the writer
 * parses every entry.
 */
export function parseRequestEventFields(fields: readonly string[] | null | undefined): RequestEvent | null {
  if (!fields || fields.length % 2 !== 0) return null;
  let id = '';
  let time = '';
  let keyId = '';
  let tier = '';
  let route = '';
  let method = '';
  let status = '';
  let duration = '';
  let limited = '';
  for (let i = 0; i < fields.length; i += 2) {
    const value = fields[i + 1] as string;
    switch (fields[i]) {
      case 'i':
        id = value;
        break;
      case 't':
        time = value;
        break;
      case 'k':
        keyId = value;
        break;
      case 'r':
        tier = value;
        break;
      case 'o':
        route = value;
        break;
      case 'm':
        method = value;
        break;
      case 's':
        status = value;
        break;
      case 'd':
        duration = value;
        break;
      case 'l':
        limited = value;
        break;
      default:
        break;
    }
  }
  const timeMs = Number(time);
  const statusCode = Number(status);
  const durationMs = Number(duration);
  if (id === '' || id.length > 128) return null;
  if (time === '' || !Number.isSafeInteger(timeMs) || timeMs <= 0) return null;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return null;
  if (duration === '' || !Number.isFinite(durationMs) || durationMs < 0) return null;
  if (!METHOD_PATTERN.test(method)) return null;
  if (limited !== '0' && limited !== '1') return null;
  return {
    id,
    timeMs,
    keyId: keyId === '' ? null : keyId,
    tier: tier === '' ? null : tier,
    route: route === '' ? null : route,
    method,
    status: statusCode,
    durationMs,
    limited: limited === '1',
  };
}

/**
 * Where the gateway hands events. `record` is called on the hot path: it must be synchronous, O(1)
 * and never throw; delivery happens later, in batches.
 */
export interface RequestEventSink {
  record(event: RequestEvent): void;
  /** Delivers what is buffered (best effort within the sink's timeout), then stops. */
  close(): Promise<void>;
}

/** Makes event ids unique across gateway processes without coordination. */
export function createRequestEventIds(instanceId: string = randomInstanceId()): () => string {
  let counter = 0;
  return () => {
    counter += 1;
    return `${instanceId}.${counter.toString(36)}`;
  };
}

function randomInstanceId(): string {
  // 72 random bits: collisions between gateway processes are negligible.
  return randomBytes(9).toString('base64url');
}
