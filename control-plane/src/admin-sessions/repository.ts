// admin_sessions rows (migration 0040). The table is typed here rather than in db.ts: nothing but
// the session service reads it.
import { sql, type Kysely } from 'kysely';
import type { Database, Db } from '../db.js';

interface AdminSessionsTable {
  token_hash: string;
  user_id: string;
  created_at: Date | string;
  last_seen_at: Date | string;
  expires_at: Date | string;
  flash: string | null;
}

function withSessions(db: Db): Kysely<Database & { admin_sessions: AdminSessionsTable }> {
  return db.withTables<{ admin_sessions: AdminSessionsTable }>();
}

export interface NewSessionRow {
  readonly tokenHash: string;
  readonly userId: string;
  readonly now: Date;
  readonly expiresAt: Date;
}

export async function insertSession(db: Db, row: NewSessionRow): Promise<void> {
  await withSessions(db)
    .insertInto('admin_sessions')
    .values({
      token_hash: row.tokenHash,
      user_id: row.userId,
      created_at: row.now,
      last_seen_at: row.now,
      expires_at: row.expiresAt,
      flash: null,
    })
    .execute();
}

export interface LiveSessionRow {
  readonly user_id: string;
  readonly username: string;
}

/**
 * Marks the session as seen now and returns its user, in one statement, only while it is live:
 * seen since `idleSince` and not past its absolute expiry.
 */
export async function touchSession(db: Db, tokenHash: string, now: Date, idleSince: Date): Promise<LiveSessionRow | undefined> {
  const result = await sql<LiveSessionRow>`
    update admin_sessions as s set last_seen_at = ${now.toISOString()}::timestamptz
    from admin_users as u
    where s.token_hash = ${tokenHash} and u.id = s.user_id
      and s.last_seen_at > ${idleSince.toISOString()}::timestamptz
      and s.expires_at > ${now.toISOString()}::timestamptz
    returning u.id::text as user_id, u.username
  `.execute(db);
  return result.rows[0];
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await withSessions(db).deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).execute();
}

/** Removes sessions that can no longer be used; returns how many. */
export async function deleteDeadSessions(db: Db, now: Date, idleSince: Date): Promise<number> {
  const result = await withSessions(db)
    .deleteFrom('admin_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function setFlash(db: Db, tokenHash: string, flash: string): Promise<void> {
  await withSessions(db).updateTable('admin_sessions').set({ flash }).where('token_hash', '=', tokenHash).execute();
}

/** Reads and clears the flash in one statement, so two pages loading at once never both get it. */
export async function takeFlash(db: Db, tokenHash: string): Promise<string | null> {
  const result = await sql<{ flash: string }>`
    update admin_sessions as s set flash = null
    from (select token_hash, flash from admin_sessions where token_hash = ${tokenHash} for update) as old
    where s.token_hash = old.token_hash and old.flash is not null
    returning old.flash
  `.execute(db);
  return result.rows[0]?.flash ?? null;
}
