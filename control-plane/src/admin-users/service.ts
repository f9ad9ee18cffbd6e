// Admin users of the web UI: the first one from ADMIN_USER/ADMIN_PASSWORD, and checking a sign-in.
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { hashPassword, verifyPassword } from './passwords.js';
import * as repository from './repository.js';

export interface AdminUser {
  readonly id: string;
  readonly username: string;
}

export interface AdminUserService {
  /** Creates the user when there is no admin user at all; returns whether it did. */
  ensureFirstUser(username: string, password: string): Promise<boolean>;
  /** The user when the password is theirs, else null (unknown users take as long as wrong passwords). */
  verify(username: string, password: string): Promise<AdminUser | null>;
  /** False until a first user exists (then the sign-in page says how to make one). */
  anyExists(): Promise<boolean>;
}

/** An arbitrary lock id: control planes starting together create the first user once. */
const FIRST_USER_LOCK_ID = 7_401_523_040;

export function createAdminUserService({ db, clock }: { readonly db: Db; readonly clock: Clock }): AdminUserService {
  // Hashed once per process, verified against for unknown names so timing does not tell them apart.
  let decoy: Promise<string> | undefined;

  return {
    async ensureFirstUser(username, password) {
      const passwordHash = await hashPassword(password);
      return db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK_ID})`.execute(trx);
        if ((await repository.countAdminUsers(trx)) > 0) return false;
        return repository.insertAdminUser(trx, username, passwordHash, clock());
      });
    },

    async anyExists() {
      return (await repository.countAdminUsers(db)) > 0;
    },

    async verify(username, password) {
      const row = await repository.findAdminUser(db, username);
      if (!row) {
        decoy ??= hashPassword('not a password of anyone');
        await verifyPassword(password, await decoy);
        return null;
      }
      return (await verifyPassword(password, row.password_hash)) ? { id: String(row.id), username: row.username } : null;
    },
  };
}
