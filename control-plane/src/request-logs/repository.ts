// request_log rows (migrations/0010): the log writer's idempotent batch insert, the list behind
// GET /v1/request-logs, per-status totals for the usage endpoint, partition upkeep and retention.
import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { RequestEvent } from '../../../contracts/request-event.js';
import type { Database, Db } from '../db.js';

export interface RequestLogTable {
  time: Date | string;
  event_id: string;
  key_id: string | null;
  tier: string | null;
  route: string | null;
  method: string;
  status: number;
  duration_ms: number;
  limited: boolean;
  client_ip: string | null;
  limited_by: string | null;
  shadow_limited: boolean;
}

export type RequestLogDatabase = Database & { request_log: RequestLogTable };

function withRequestLog(db: Db): Kysely<RequestLogDatabase> {
  return db.withTables<{ request_log: RequestLogTable }>();
}

/**
 * One multi-row INSERT; rows already present (a redelivered event) are skipped.
 * Returns how many rows were new.
 */
export async function insertRequestEvents(db: Db, events: readonly RequestEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const result = await withRequestLog(db)
    .insertInto('request_log')
    .values(
      events.map((event) => ({
        time: new Date(event.timeMs),
        event_id: event.id,
        key_id: event.keyId,
        tier: event.tier,
        route: event.route,
        method: event.method,
        status: event.status,
        duration_ms: event.durationMs,
        limited: event.limited,
        client_ip: event.clientIp,
        limited_by: event.limitedBy,
        shadow_limited: event.shadowLimited,
      })),
    )
    .onConflict((conflict) => conflict.columns(['time', 'event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

/**
 * Moves api_keys.last_used_at forward to each key's newest event, at most once a minute per key
 * (the API lets it lag a minute), so a busy key costs one row update a minute, not one a batch.
 */
export async function touchLastUsed(db: Db, lastSeen: ReadonlyMap<string, number>): Promise<number> {
  if (lastSeen.size === 0) return 0;
  // Sorted ids: concurrent writers lock the rows in one order.
  const rows = [...lastSeen.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, timeMs]) => sql`(cast(${id} as text), cast(${new Date(timeMs).toISOString()} as timestamptz))`);
  const result = await sql`
    update api_keys as k set last_used_at = v.t
    from (values ${sql.join(rows)}) as v(id, t)
    where k.id = v.id
      and (k.last_used_at is null or (k.last_used_at < now() - interval '1 minute' and v.t > k.last_used_at))
  `.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export interface RequestLogFilter {
  readonly keyId?: string;
  readonly status?: number;
  readonly route?: string;
  /** Inclusive lower bound. */
  readonly from?: Date;
  /** Exclusive upper bound. */
  readonly to?: Date;
  /** true: only rows a limit refused; false: only the others. */
  readonly limited?: boolean;
  /** true: only rows a shadow-mode limit would have refused; false: only the others. */
  readonly shadowLimited?: boolean;
  /** Keyset position: only rows strictly older than (time, eventId). */
  readonly before?: { readonly time: Date; readonly eventId: string };
  readonly limit: number;
}

export interface RequestLogRow {
  readonly time: Date;
  readonly event_id: string;
  readonly key_id: string | null;
  readonly tier: string | null;
  readonly route: string | null;
  readonly method: string;
  readonly status: number;
  readonly duration_ms: number;
  readonly limited: boolean;
  readonly client_ip: string | null;
  readonly limited_by: string | null;
  readonly shadow_limited: boolean;
}

/** The filter's conditions (all but the keyset position and page size) added to a query of request_log. */
function whereRowsMatch<O>(
  query: SelectQueryBuilder<RequestLogDatabase, 'request_log', O>,
  filter: Omit<RequestLogFilter, 'before' | 'limit'>,
): SelectQueryBuilder<RequestLogDatabase, 'request_log', O> {
  let rows = query;
  if (filter.keyId !== undefined) rows = rows.where('key_id', '=', filter.keyId);
  if (filter.status !== undefined) rows = rows.where('status', '=', filter.status);
  if (filter.route !== undefined) rows = rows.where('route', '=', filter.route);
  if (filter.from !== undefined) rows = rows.where('time', '>=', filter.from);
  if (filter.to !== undefined) rows = rows.where('time', '<', filter.to);
  // Written out, not bound as `limited = $1`: a prepared statement's generic plan cannot tell that
  // $1 is true, so it could never use the partial indexes on limited and shadow_limited (0070).
  if (filter.limited !== undefined) rows = rows.where(filter.limited ? sql<boolean>`limited` : sql<boolean>`not limited`);
  if (filter.shadowLimited !== undefined) rows = rows.where(filter.shadowLimited ? sql<boolean>`shadow_limited` : sql<boolean>`not shadow_limited`);
  return rows;
}

/** Newest first, ordered by (time, event_id) descending so pages stay stable under inserts. */
export async function listRequestLogs(db: Db, filter: RequestLogFilter): Promise<RequestLogRow[]> {
  let query = withRequestLog(db)
    .selectFrom('request_log')
    .select(['time', 'event_id', 'key_id', 'tier', 'route', 'method', 'status', 'duration_ms', 'limited', 'limited_by', 'shadow_limited'])
    .select(sql<string | null>`host(client_ip)`.as('client_ip'))
    .orderBy('time', 'desc')
    .orderBy('event_id', 'desc')
    .limit(filter.limit)
    .$call((rows) => whereRowsMatch(rows, filter));
  if (filter.before !== undefined) {
    const { time, eventId } = filter.before;
    query = query.where(sql<boolean>`(time, event_id) < (cast(${time.toISOString()} as timestamptz), cast(${eventId} as text))`);
  }
  const rows = await query.execute();
  return rows.map((row) => ({
    time: new Date(row.time),
    event_id: row.event_id,
    key_id: row.key_id,
    tier: row.tier,
    route: row.route,
    method: row.method,
    status: Number(row.status),
    duration_ms: Number(row.duration_ms),
    limited: row.limited,
    client_ip: row.client_ip,
    limited_by: row.limited_by,
    shadow_limited: row.shadow_limited,
  }));
}

/** Requests of one key since `since`, counted by status code. */
export async function countByStatusSince(db: Db, keyId: string, since: Date): Promise<Map<number, number>> {
  const rows = await withRequestLog(db)
    .selectFrom('request_log')
    .select(['status', sql<string>`count(*)::text`.as('count')])
    .where('key_id', '=', keyId)
    .where('time', '>=', since)
    .groupBy('status')
    .execute();
  return new Map(rows.map((row) => [Number(row.status), Number(row.count)]));
}

/** Requests of one key since `since` that a limit refused (or, in shadow mode, would have), by the limit's name. */
export async function countLimitedSince(db: Db, keyId: string, since: Date): Promise<{ limitedBy: Map<string, number>; shadowLimited: number }> {
  const rows = await withRequestLog(db)
    .selectFrom('request_log')
    .select(['limited_by', 'shadow_limited', sql<string>`count(*)::text`.as('count')])
    .where('key_id', '=', keyId)
    .where('time', '>=', since)
    .where('limited_by', 'is not', null)
    .groupBy(['limited_by', 'shadow_limited'])
    .execute();
  const limitedBy = new Map<string, number>();
  let shadowLimited = 0;
  for (const row of rows) {
    if (row.shadow_limited) shadowLimited += Number(row.count);
    else limitedBy.set(row.limited_by as string, (limitedBy.get(row.limited_by as string) ?? 0) + Number(row.count));
  }
  return { limitedBy, shadowLimited };
}

/** The newest request of one key since `since` that a limit refused or would have refused. */
export async function lastLimitedSince(db: Db, keyId: string, since: Date): Promise<{ time: Date; limitedBy: string; shadow: boolean } | null> {
  const row = await withRequestLog(db)
    .selectFrom('request_log')
    .select(['time', 'limited_by', 'shadow_limited'])
    .where('key_id', '=', keyId)
    .where('time', '>=', since)
    .where('limited_by', 'is not', null)
    .orderBy('time', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { time: new Date(row.time), limitedBy: row.limited_by as string, shadow: row.shadow_limited } : null;
}

/** Creates the daily partitions for the UTC days of `from`..`to`; returns how many were new. */
export async function ensurePartitions(db: Db, from: Date, to: Date): Promise<number> {
  const result = await sql<{ created: number }>`
    select ensure_request_log_partitions(cast(${utcDay(from)} as date), cast(${utcDay(to)} as date)) as created
  `.execute(db);
  return Number(result.rows[0]?.created ?? 0);
}

/** Drops whole day partitions that end at or before `cutoff`, then deletes older leftovers. */
export async function removeRequestLogsBefore(
  db: Db,
  cutoff: Date,
): Promise<{ droppedPartitions: number; deletedRows: number }> {
  const dropped = await sql<{ dropped: number }>`
    select drop_request_log_partitions_before(cast(${cutoff.toISOString()} as timestamptz)) as dropped
  `.execute(db);
  const deleted = await withRequestLog(db).deleteFrom('request_log').where('time', '<', cutoff).executeTakeFirst();
  return { droppedPartitions: Number(dropped.rows[0]?.dropped ?? 0), deletedRows: Number(deleted.numDeletedRows) };
}

function utcDay(time: Date): string {
  return time.toISOString().slice(0, 10);
}

export interface RequestCountBucket {
  /** Start of the UTC hour or day, ISO 8601. */
  readonly start: string;
  readonly total: number;
  /** Of those, refused by a rate limit. */
  readonly limited: number;
}

/** Requests per UTC hour or day, oldest first; buckets without requests are left out. */
export async function countRequestsByBucket(
  db: Db,
  filter: Omit<RequestLogFilter, 'before' | 'limit'>,
  unit: 'hour' | 'day',
): Promise<RequestCountBucket[]> {
  const bucket = sql<string>`to_char(date_trunc(${unit}, time at time zone 'UTC'), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const query = withRequestLog(db)
    .selectFrom('request_log')
    .select([
      bucket.as('start'),
      sql<string>`count(*)::text`.as('total'),
      sql<string>`(count(*) filter (where limited))::text`.as('limited'),
    ])
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .$call((rows) => whereRowsMatch(rows, filter));
  const rows = await query.execute();
  return rows.map((row) => ({ start: row.start, total: Number(row.total), limited: Number(row.limited) }));
}
