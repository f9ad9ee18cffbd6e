// Retired projection entries (migration 0030): written in the transaction that retires one (a key's
// rotation, a tier's deletion), read by a rebuild. Kept a week, pruned as new ones are written: a
// stale change of an entry is minutes old at most.
import { sql, type Kysely } from 'kysely';
import { revisionOf, type Database } from '../db.js';
import type { RetiredEntry } from './publisher.js';

const KEPT = sql`interval '7 days'`;

/** Records that `field` left the projection at `revision` (the highest revision wins). */
export async function retireProjectionEntry(db: Kysely<Database>, field: string, revision: number): Promise<void> {
  await db.deleteFrom('projection_tombstones').where('retired_at', '<', sql<Date>`now() - ${KEPT}`).execute();
  await db
    .insertInto('projection_tombstones')
    .values({ field, revision })
    .onConflict((conflict) =>
      conflict.column('field').doUpdateSet({
        revision: sql<number>`greatest(projection_tombstones.revision, excluded.revision)`,
        retired_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** The entries retired within the week. */
export async function listTombstones(db: Kysely<Database>): Promise<RetiredEntry[]> {
  const rows = await db
    .selectFrom('projection_tombstones')
    .select(['field', 'revision'])
    .where('retired_at', '>=', sql<Date>`now() - ${KEPT}`)
    .execute();
  return rows.map((row) => ({ field: row.field, revision: revisionOf(row) }));
}
