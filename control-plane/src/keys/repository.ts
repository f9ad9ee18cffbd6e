// api_keys rows. The secret never reaches this module: only its SHA-256 hash and prefix.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Limit } from '../../../contracts/limits.js';
import { jsonb, nextRevision, revisionOf, type ApiKeysTable, type Database } from '../db.js';

export type KeyRow = Selectable<ApiKeysTable>;

export interface NewKeyRow {
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly limits: readonly Limit[] | null;
  readonly mode: string | null;
  readonly expiresAt: string | null;
  readonly secretHash: string;
  readonly prefix: string;
  readonly now: Date;
}

export interface KeyChanges {
  readonly name?: string;
  readonly tier?: string;
  readonly limits?: readonly Limit[] | null;
  readonly mode?: string | null;
  readonly active?: boolean;
  readonly expiresAt?: string | null;
}

export interface KeyFilter {
  readonly tier?: string;
  readonly active?: boolean;
  readonly search?: string;
  /** Rows strictly after this (created_at, id) position in the descending order. */
  readonly after?: { readonly createdAt: string; readonly id: string };
  readonly limit: number;
}

function keyValues(key: NewKeyRow) {
  return {
    id: key.id,
    name: key.name,
    tier: key.tier,
    limits: key.limits === null ? null : jsonb(key.limits),
    mode: key.mode,
    expires_at: key.expiresAt,
    secret_hash: key.secretHash,
    prefix: key.prefix,
    created_at: key.now,
    updated_at: key.now,
  };
}

export async function insertKey(db: Kysely<Database>, key: NewKeyRow): Promise<KeyRow> {
  return db.insertInto('api_keys').values(keyValues(key)).returningAll().executeTakeFirstOrThrow();
}

/** One INSERT for all of them (ten parameters a row: far below PostgreSQL's limit at 1000 rows). */
export async function insertKeys(db: Kysely<Database>, keys: readonly NewKeyRow[]): Promise<KeyRow[]> {
  if (keys.length === 0) return [];
  return db.insertInto('api_keys').values(keys.map(keyValues)).returningAll().execute();
}

export async function findKey(db: Kysely<Database>, id: string, forUpdate = false): Promise<KeyRow | undefined> {
  const query = db.selectFrom('api_keys').selectAll().where('id', '=', id);
  return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

export async function listKeys(db: Kysely<Database>, filter: KeyFilter): Promise<KeyRow[]> {
  let query = db
    .selectFrom('api_keys')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit);
  if (filter.tier !== undefined) query = query.where('tier', '=', filter.tier);
  if (filter.active !== undefined) query = query.where('active', '=', filter.active);
  if (filter.search !== undefined) {
    const pattern = escapeLike(filter.search);
    query = query.where((eb) =>
      eb.or([eb('name', 'ilike', `%${pattern}%`), eb('prefix', 'like', `${pattern}%`)]),
    );
  }
  if (filter.after !== undefined) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(created_at, id) < (cast(${createdAt} as timestamptz), ${id})`);
  }
  return query.execute();
}

export async function updateKey(db: Kysely<Database>, id: string, changes: KeyChanges, now: Date): Promise<KeyRow> {
  return db
    .updateTable('api_keys')
    .set({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.tier !== undefined ? { tier: changes.tier } : {}),
      ...(changes.limits !== undefined ? { limits: changes.limits === null ? null : jsonb(changes.limits) } : {}),
      ...(changes.mode !== undefined ? { mode: changes.mode } : {}),
      ...(changes.active !== undefined ? { active: changes.active } : {}),
      ...(changes.expiresAt !== undefined ? { expires_at: changes.expiresAt } : {}),
      updated_at: now,
      revision: nextRevision(),
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function replaceSecret(
  db: Kysely<Database>,
  id: string,
  secret: { hash: string; prefix: string },
  now: Date,
): Promise<KeyRow> {
  return db
    .updateTable('api_keys')
    .set({ secret_hash: secret.hash, prefix: secret.prefix, updated_at: now, revision: nextRevision() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function revokeKey(db: Kysely<Database>, id: string, now: Date): Promise<KeyRow> {
  return db
    .updateTable('api_keys')
    .set({ active: false, revoked_at: now, updated_at: now, revision: nextRevision() })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Every key gateways should know: all that are not revoked (inactive ones say so in their view). */
export async function listLiveKeys(db: Kysely<Database>): Promise<KeyRow[]> {
  return db.selectFrom('api_keys').selectAll().where('revoked_at', 'is', null).execute();
}

/** Revoked keys' hashes and revisions: out of the projection for good, their revisions still count. */
export async function listRevokedKeyRevisions(db: Kysely<Database>): Promise<{ hash: string; revision: number }[]> {
  const rows = await db.selectFrom('api_keys').select(['secret_hash', 'revision']).where('revoked_at', 'is not', null).execute();
  return rows.map((row) => ({ hash: row.secret_hash, revision: revisionOf(row) }));
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
