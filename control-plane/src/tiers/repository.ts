// tiers rows. Plain rows in, plain rows out; the service decides what they mean.
import type { Kysely, Selectable } from 'kysely';
import type { Limit } from '../../../contracts/limits.js';

type RouteLimits = Readonly<Record<string, readonly Limit[]>>;
import { jsonb, nextRevision, revisionOf, type Database, type TiersTable } from '../db.js';

export type TierRow = Selectable<TiersTable>;

export interface NewTierRow {
  readonly name: string;
  readonly description: string | null;
  readonly limits: readonly Limit[];
  readonly algorithm: string;
  readonly timezone: string;
  readonly mode: string;
  readonly concurrency: number | null;
  readonly routeLimits: RouteLimits | null;
  readonly now: Date;
}

export interface TierChanges {
  readonly description?: string | null;
  readonly limits?: readonly Limit[];
  readonly algorithm?: string;
  readonly timezone?: string;
  readonly mode?: string;
  readonly concurrency?: number | null;
  readonly route_limits?: RouteLimits | null;
  readonly now: Date;
}

export async function insertTier(db: Kysely<Database>, tier: NewTierRow): Promise<TierRow> {
  await db
    .insertInto('tiers')
    .values({
      name: tier.name,
      description: tier.description,
      limits: jsonb(tier.limits),
      algorithm: tier.algorithm,
      timezone: tier.timezone,
      mode: tier.mode,
      concurrency: tier.concurrency,
      route_limits: tier.routeLimits === null ? null : jsonb(tier.routeLimits),
      created_at: tier.now,
      updated_at: tier.now,
    })
    .execute();
  // The insert's default revision was drawn before it could wait for a concurrent deletion of the
  // same name to commit; drawn again now that the name is ours, it is above that deletion's.
  return db
    .updateTable('tiers')
    .set({ revision: nextRevision() })
    .where('name', '=', tier.name)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findTier(db: Kysely<Database>, name: string, forUpdate = false): Promise<TierRow | undefined> {
  const query = db.selectFrom('tiers').selectAll().where('name', '=', name);
  return (forUpdate ? query.forUpdate() : query).executeTakeFirst();
}

/** The tiers of these names that exist. */
export async function findTiers(db: Kysely<Database>, names: readonly string[]): Promise<TierRow[]> {
  if (names.length === 0) return [];
  return db.selectFrom('tiers').selectAll().where('name', 'in', names).execute();
}

export async function listTiers(db: Kysely<Database>): Promise<TierRow[]> {
  return db.selectFrom('tiers').selectAll().orderBy('name').execute();
}

export async function updateTier(db: Kysely<Database>, name: string, changes: TierChanges): Promise<TierRow> {
  return db
    .updateTable('tiers')
    .set({
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.limits !== undefined ? { limits: jsonb(changes.limits) } : {}),
      ...(changes.algorithm !== undefined ? { algorithm: changes.algorithm } : {}),
      ...(changes.timezone !== undefined ? { timezone: changes.timezone } : {}),
      ...(changes.mode !== undefined ? { mode: changes.mode } : {}),
      ...(changes.concurrency !== undefined ? { concurrency: changes.concurrency } : {}),
      ...(changes.route_limits !== undefined ? { route_limits: changes.route_limits === null ? null : jsonb(changes.route_limits) } : {}),
      updated_at: changes.now,
      revision: nextRevision(),
    })
    .where('name', '=', name)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Deletes the tier; returns the deletion's revision (drawn while the deleted row is held). */
export async function deleteTier(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db
    .deleteFrom('tiers')
    .where('name', '=', name)
    .returning(nextRevision().as('revision'))
    .executeTakeFirstOrThrow();
  return revisionOf(row);
}

export async function countKeysOfTier(db: Kysely<Database>, name: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('tier', '=', name)
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}
