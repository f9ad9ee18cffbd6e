// One request event per answered gateway request: the gateway appends
// events to the Redis Stream `requestEventStream(prefix)` and the control plane's log writer turns
// each into a `request_log` row.
//
// One stream entry carries a whole batch: fields `v` (format) and `e` (the events, one per line,
// tab-separated; empty text for null). Format "2": id, time ms, key id, tier, route, method, status,
// duration ms, limited 0|1, client address, the limit that refused it, shadow-limited 0|1. Format
// "1" (the first nine fields) is still read, so gateways can be upgraded after the control plane. One XADD per batch instead of one per event: on the development machine
// an ioredis pipeline of per-event XADDs moved about 9 000 events/s, packed entries about 100 000.
//
// The event id is made by the gateway (instance id + counter), not by Redis, so a batch that is sent
// twice (a retried XADD, a redelivered stream entry) still becomes one row per event: the writer
// inserts with ON CONFLICT (time, event_id) DO NOTHING.

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
  /** The client's address as the gateway derived it (see GATEWAY_TRUSTED_PROXIES); null if unknown. */
  readonly clientIp: string | null;
  /** Name of the limit that refused the request (its RateLimit item name); null when none did. */
  readonly limitedBy: string | null;
  /** True when a shadow-mode limit would have refused it (it was forwarded anyway). */
  readonly shadowLimited: boolean;
}

export const REQUEST_EVENT_FORMAT = '2';
/** The first format, without the last three fields; still accepted. */
const FORMAT_WITHOUT_CLIENT = '1';

/**
 * Default cap of the stream, in events (about a day at 10 req/s, minutes for a busy fleet): the
 * batcher turns it into `XADD … MAXLEN ~ <events / batch size>` entries.
 */
export const DEFAULT_REQUEST_EVENT_STREAM_MAX_EVENTS = 1_000_000;

/** Tabs and newlines are the separators; names from configuration must not smuggle them in. */
function text(value: string | null): string {
  if (value === null) return '';
  return value.indexOf('\t') === -1 && value.indexOf('\n') === -1 ? value : value.replace(/[\t\n]/g, ' ');
}

/**
 * The key id, tier, route and method of an event as one tab-separated run, checked once for a run of
 * events that share them (a batch is mostly a few keys' traffic): the strings are the key table's
 * and the route table's own objects, so comparing them is cheap.
 */
class SharedFields {
  private keyId: string | null = null;
  private tier: string | null = null;
  private route: string | null = null;
  private method = '';
  private text = '\t\t\t';

  of(event: RequestEvent): string {
    if (event.keyId !== this.keyId || event.tier !== this.tier || event.route !== this.route || event.method !== this.method) {
      this.keyId = event.keyId;
      this.tier = event.tier;
      this.route = event.route;
      this.method = event.method;
      this.text = `${text(event.keyId)}\t${text(event.tier)}\t${text(event.route)}\t${text(event.method)}`;
    }
    return this.text;
  }
}

/** The `e` field of one stream entry. */
export function encodeRequestEventBatch(events: readonly RequestEvent[]): string {
  const shared = new SharedFields();
  let out = '';
  // Epoch ms are beyond V8's small integers, so each is printed like a double: a batch's events
  // mostly share their millisecond with the one before, and its text.
  let timeMs = Number.NaN;
  let time = '';
  for (const event of events) {
    if (event.timeMs !== timeMs) {
      timeMs = event.timeMs;
      time = String(timeMs);
    }
    // Sub-millisecond precision is noise for a log; three decimals keep entries short.
    const duration = Math.round(event.durationMs * 1000) / 1000;
    out += `${text(event.id)}\t${time}\t${shared.of(event)}\t${event.status}\t${duration}\t${event.limited ? '1' : '0'}\t${text(event.clientIp)}\t${text(event.limitedBy)}\t${event.shadowLimited ? '1' : '0'}\n`;
  }
  return out;
}

/** The XADD field list for one batch (after the stream name, MAXLEN and id). */
export function requestEventEntryFields(events: readonly RequestEvent[]): string[] {
  return ['v', REQUEST_EVENT_FORMAT, 'e', encodeRequestEventBatch(events)];
}

const METHOD_PATTERN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,32}$/;

/** Characters an IPv4 or IPv6 address (with zone or mapped IPv4) can hold. */
const ADDRESS_PATTERN = /^[0-9A-Fa-f:.%a-zA-Z_-]{1,64}$/;

/** One line of a batch (`fields`: 9 in format 1, 12 in format 2); null when it is not a well-formed event. */
export function parseRequestEventLine(line: string, fields = 12): RequestEvent | null {
  const parts = line.split('\t');
  if (parts.length !== fields) return null;
  const [id = '', time = '', keyId = '', tier = '', route = '', method = '', status = '', duration = '', limited = ''] = parts;
  const [clientIp = '', limitedBy = '', shadow = '0'] = parts.slice(9);
  const timeMs = Number(time);
  const statusCode = Number(status);
  const durationMs = Number(duration);
  if (id === '' || id.length > 128) return null;
  if (time === '' || !Number.isSafeInteger(timeMs) || timeMs <= 0) return null;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) return null;
  if (duration === '' || !Number.isFinite(durationMs) || durationMs < 0) return null;
  if (!METHOD_PATTERN.test(method)) return null;
  if (limited !== '0' && limited !== '1') return null;
  if (clientIp !== '' && !ADDRESS_PATTERN.test(clientIp)) return null;
  if (limitedBy.length > 128 || (shadow !== '0' && shadow !== '1')) return null;
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
    clientIp: clientIp === '' ? null : clientIp,
    limitedBy: limitedBy === '' ? null : limitedBy,
    shadowLimited: shadow === '1',
  };
}

export interface ParsedEntry {
  readonly events: RequestEvent[];
  /** Lines (or a whole entry) that were not events: skipped, so they cannot block the stream. */
  readonly invalid: number;
}

/**
 * Parses the flat field list of one stream entry (as XREADGROUP returns it). A cheap hand-written
 * shape check, not zod, because the writer parses every event.
 */
export function parseRequestEventEntry(fields: readonly string[] | null | undefined): ParsedEntry {
  if (!fields || fields.length % 2 !== 0) return { events: [], invalid: 1 };
  let format: string | undefined;
  let batch: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 'v') format = fields[i + 1];
    else if (fields[i] === 'e') batch = fields[i + 1];
  }
  const fieldCount = format === REQUEST_EVENT_FORMAT ? 12 : format === FORMAT_WITHOUT_CLIENT ? 9 : 0;
  if (fieldCount === 0 || batch === undefined) return { events: [], invalid: 1 };
  const events: RequestEvent[] = [];
  let invalid = 0;
  for (const line of batch.split('\n')) {
    if (line === '') continue;
    const event = parseRequestEventLine(line, fieldCount);
    if (event) events.push(event);
    else invalid += 1;
  }
  return { events, invalid };
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
