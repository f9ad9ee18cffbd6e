// admin_users rows (migration 0001): plain rows in and out.
import type { Selectable } from 'kysely';
import type { AdminUsersTable, Db } from '../db.js';

export type AdminUserRow = Selectable<AdminUsersTable>;

export async function findAdminUser(db: Db, username: string): Promise<AdminUserRow | undefined> {
  return db.selectFrom('admin_users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function countAdminUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('admin_users')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}

/** Inserts the user unless the name is taken; returns whether a row was added. */
export async function insertAdminUser(db: Db, username: string, passwordHash: string, now: Date): Promise<boolean> {
  const result = await db
    .insertInto('admin_users')
    .values({ username, password_hash: passwordHash, created_at: now })
    .onConflict((conflict) => conflict.column('username').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}
