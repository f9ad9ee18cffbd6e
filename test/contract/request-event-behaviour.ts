// One behaviour suite for the request-event transport: whatever carries events
// from the gateway's RequestEventSink to request_log — the Redis Stream and the control plane's log
// writer, or the embedded mode's in-process delivery — each answered request becomes exactly one row
// with its fields. Each implementation supplies a factory for the sink; rows are read from PostgreSQL.
import { sql } from 'kysely';
import t from 'tap';
import { createRequestEventIds, type RequestEvent, type RequestEventSink } from '../../contracts/request-event.js';
import type { Db } from '../../control-plane/src/db.js';

export interface TransportUnderTest {
  readonly sink: RequestEventSink;
  /** Stops what carries the events (after the sink was closed). */
  close(): Promise<void>;
}

export type TransportFactory = () => Promise<TransportUnderTest>;

interface Row {
  event_id: string;
  time: Date;
  key_id: string | null;
  tier: string | null;
  route: string | null;
  method: string;
  status: number;
  duration_ms: number | string;
  limited: boolean;
}

/** Events with every field varied, including the nulls of a refused request. */
function makeEvents(count: number): RequestEvent[] {
  const nextId = createRequestEventIds();
  const now = Date.now();
  return Array.from({ length: count }, (_, index) => ({
    id: nextId(),
    timeMs: now - index,
    keyId: index % 5 === 0 ? null : `key_${index % 3}`,
    tier: index % 5 === 0 ? null : 'free',
    route: index % 4 === 0 ? null : 'orders',
    method: index % 2 === 0 ? 'GET' : 'POST',
    status: index % 5 === 0 ? 401 : index % 7 === 0 ? 429 : 200,
    // Multiples of 1/8 survive the three-decimal encoding exactly.
    durationMs: index / 8,
    limited: index % 5 !== 0 && index % 7 === 0,
    clientIp: index % 3 === 0 ? null : `10.0.0.${index % 250}`,
    limitedBy: index % 5 !== 0 && index % 7 === 0 ? '1m' : null,
    shadowLimited: index % 11 === 0,
  }));
}

async function rowsOf(db: Db, events: readonly RequestEvent[]): Promise<Row[]> {
  const ids = events.map((event) => event.id);
  const result = await sql<Row>`select * from request_log where event_id = any(${ids})`.execute(db);
  return result.rows;
}

async function waitForRows(db: Db, events: readonly RequestEvent[], deadlineMs: number): Promise<Row[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const rows = await rowsOf(db, events);
    if (rows.length >= events.length || Date.now() > deadline) return rows;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function sameFields(row: Row | undefined, event: RequestEvent): boolean {
  return (
    row !== undefined &&
    new Date(row.time).getTime() === event.timeMs &&
    row.key_id === event.keyId &&
    row.tier === event.tier &&
    row.route === event.route &&
    row.method === event.method &&
    Number(row.status) === event.status &&
    Number(row.duration_ms) === event.durationMs &&
    row.limited === event.limited
  );
}

export function requestEventBehaviour(label: string, db: Db, factory: TransportFactory): void {
  t.test(`${label}: every recorded event becomes exactly one row with its fields`, async (t) => {
    const transport = await factory();
    const events = makeEvents(300);
    for (const event of events) transport.sink.record(event);
    const rows = await waitForRows(db, events, 20_000);
    await transport.sink.close();
    await transport.close();
    t.equal(rows.length, events.length);
    const byId = new Map(rows.map((row) => [row.event_id, row]));
    t.equal(events.filter((event) => !sameFields(byId.get(event.id), event)).length, 0, "every row holds its event's fields");
  });

  t.test(`${label}: close delivers what is still buffered`, async (t) => {
    const transport = await factory();
    const events = makeEvents(20);
    for (const event of events) transport.sink.record(event);
    await transport.sink.close();
    const rows = await waitForRows(db, events, 20_000);
    await transport.close();
    t.equal(rows.length, events.length);
  });

  t.test(`${label}: an event recorded twice (a retried send) is one row`, async (t) => {
    const transport = await factory();
    const events = makeEvents(50);
    for (const event of events) transport.sink.record(event);
    for (const event of events) transport.sink.record(event);
    await transport.sink.close();
    const rows = await waitForRows(db, events, 20_000);
    // Give a doubled insert the time to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await rowsOf(db, events);
    await transport.close();
    t.equal(rows.length, events.length);
    t.equal(again.length, events.length);
  });
}
