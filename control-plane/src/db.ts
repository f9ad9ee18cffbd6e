// The control plane's database handle. The kysely Dialect is a parameter so the same code runs on
// PostgreSQL (postgres.js) in production and on PGlite in the embedded mode.
import { Kysely, sql, type RawBuilder, type ColumnType, type Dialect, type Generated } from 'kysely';
import { PostgresJSDialect } from 'kysely-postgres-js';
import postgres, { type ReservedSql, type Sql } from 'postgres';
import type { Limit } from '../../contracts/limits.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type TimestampDefault = ColumnType<Date, Date | string | undefined, Date | string>;
/**
 * bigint from the projection_revision sequence (migration 0020): read as text by postgres.js (a
 * number in PGlite), so use revisionOf; written only as nextval, by the repositories.
 */
type Revision = ColumnType<string | number, RawBuilder<unknown> | undefined, RawBuilder<unknown>>;
/** jsonb is written as JSON text (`::jsonb`) and read back parsed. */
type Json<T> = ColumnType<T, string, string>;

export interface TiersTable {
  name: string;
  description: ColumnType<string | null, string | null | undefined, string | null>;
  limits: Json<Limit[]>;
  algorithm: string;
  timezone: ColumnType<string, string | undefined, string>;
  mode: ColumnType<string, string | undefined, string>;
  concurrency: ColumnType<number | null, number | null | undefined, number | null>;
  route_limits: ColumnType<Record<string, Limit[]> | null, string | null | undefined, string | null>;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
  revision: Revision;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  tier: string;
  limits: ColumnType<Limit[] | null, string | null, string | null>;
  mode: ColumnType<string | null, string | null | undefined, string | null>;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: TimestampDefault;
  updated_at: TimestampDefault;
  last_used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  secret_hash: string;
  prefix: string;
  revision: Revision;
}

export interface AuditLogTable {
  /** bigint; postgres.js returns it as text, so it never loses precision. */
  id: Generated<string>;
  at: Timestamp;
  actor: string;
  action: string;
  resource_type: string;
  resource_id: string;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
}

export interface AdminUsersTable {
  id: Generated<string>;
  username: string;
  password_hash: string;
  created_at: TimestampDefault;
}

export interface ProjectionTombstonesTable {
  field: string;
  revision: ColumnType<string | number, number, number>;
  retired_at: TimestampDefault;
}

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: TimestampDefault;
}

export interface Database {
  tiers: TiersTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  admin_users: AdminUsersTable;
  projection_tombstones: ProjectionTombstonesTable;
  schema_migrations: SchemaMigrationsTable;
}

export type Db = Kysely<Database>;

/** The next revision (migration 0020), for the write that changes a tier or a key. */
export function nextRevision(): RawBuilder<string> {
  return sql<string>`nextval('projection_revision')`;
}

/** A row's revision as a number: sequence values stay far below 2^53. */
export function revisionOf(row: { readonly revision: string | number }): number {
  return Number(row.revision);
}

export function createDb(dialect: Dialect): Db {
  return new Kysely<Database>({ dialect });
}

export interface PostgresDialectOptions {
  /** Pool size. */
  readonly max?: number;
  /** Seconds to wait for a connection before failing. */
  readonly connectTimeoutSeconds?: number;
  /** Longest wait for a connection of the pool, in milliseconds (default 10 000). */
  readonly reserveTimeoutMs?: number;
}

/** No connection of the pool was handed out in time. */
export class ConnectionWaitError extends Error {
  readonly code = 'CONNECTION_WAIT_TIMEOUT';
  constructor(timeoutMs: number) {
    super(`no database connection within ${timeoutMs} ms`);
    this.name = 'ConnectionWaitError';
  }
}

/**
 * The kysely dialect reserves a pool connection for every query, and postgres.js (3.4.9) may never
 * settle a reserve() that was waiting while the server was away: when a connection closes, the
 * waiting reserve becomes the first job of its reconnect, which drops it once connected. After a
 * PostgreSQL restart the request-log writer then waited forever and no row arrived again. So a
 * reserve not served within `timeoutMs` is refused (callers retry or answer an error), and
 * released should it be served after all.
 */
function boundReserve(client: Sql, timeoutMs: number): Sql {
  const reserve = client.reserve.bind(client);
  client.reserve = () =>
    new Promise<ReservedSql>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(new ConnectionWaitError(timeoutMs));
      }, timeoutMs);
      reserve().then(
        (reserved) => {
          clearTimeout(timer);
          if (late) reserved.release();
          else resolve(reserved);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!late) reject(error);
        },
      );
    });
  return client;
}

export function postgresDialect(url: string, options: PostgresDialectOptions = {}): Dialect {
  const client = postgres(url, {
    max: options.max ?? 10,
    connect_timeout: options.connectTimeoutSeconds ?? 5,
    onnotice: () => {},
  });
  return new PostgresJSDialect({ postgres: boundReserve(client, options.reserveTimeoutMs ?? 10_000) });
}

/**
 * A value for a jsonb column. The text cast pins the parameter's type to text on every driver
 * (postgres.js would otherwise serialise strings again and send arrays as PostgreSQL arrays).
 */
export function jsonb(value: unknown): RawBuilder<string> {
  return sql<string>`cast(${JSON.stringify(value)}::text as jsonb)`;
}
