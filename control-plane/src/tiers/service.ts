// Tier rules: create, change, delete, each with its audit row in the same transaction and the
// change published to gateways after commit.
import type { TierView } from '../../../contracts/feed.js';
import { tierPolicyIssues, type Algorithm, type Limit, type Mode } from '../../../contracts/limits.js';
import { insertAuditEntry } from '../audit/repository.js';
import type { Clock } from '../clock.js';
import { revisionOf, type Db } from '../db.js';
import { tierRevisionField, type ChangePublisher } from '../feed/publisher.js';
import { retireProjectionEntry } from '../feed/tombstones.js';
import { ConflictError, FOREIGN_KEY_VIOLATION, NotFoundError, PolicyConflictError, UNIQUE_VIOLATION, sqlState } from '../http/errors.js';
import type { Publish } from '../publish-after-commit.js';
import * as repository from './repository.js';
import type { CreateTier, Tier, UpdateTier } from './schema.js';

/** Who the audit log names for changes made with the REST bearer token. */
export const ADMIN_ACTOR = 'admin';

/** `actor` is who the audit row names: ADMIN_ACTOR for the REST token, the user for the admin UI. */
export interface TierService {
  create(input: CreateTier, actor?: string): Promise<Tier>;
  list(): Promise<Tier[]>;
  get(name: string): Promise<Tier>;
  update(name: string, changes: UpdateTier, actor?: string): Promise<Tier>;
  remove(name: string, actor?: string): Promise<void>;
}

export interface TierServiceDeps {
  readonly db: Db;
  readonly publisher: ChangePublisher;
  readonly publish: Publish;
  readonly clock: Clock;
}

export function toTier(row: repository.TierRow): Tier {
  return {
    name: row.name,
    description: row.description,
    limits: ordered(row.limits),
    algorithm: row.algorithm as Algorithm,
    timezone: row.timezone,
    mode: row.mode as Mode,
    concurrency: row.concurrency,
    route_limits: row.route_limits && orderedRouteLimits(row.route_limits),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** jsonb sorts object keys; give clients window, limit and burst in that order, as they wrote them. */
export function ordered(limits: readonly Limit[]): Limit[] {
  return limits.map((item) => (item.burst === undefined ? { window: item.window, limit: item.limit } : { window: item.window, limit: item.limit, burst: item.burst }));
}

function orderedRouteLimits(routes: Readonly<Record<string, readonly Limit[]>>): Record<string, Limit[]> {
  const result: Record<string, Limit[]> = {};
  for (const [route, limits] of Object.entries(routes)) result[route] = ordered(limits);
  return result;
}

export function toTierView(tier: Pick<Tier, 'name' | 'limits' | 'algorithm' | 'timezone' | 'mode' | 'concurrency' | 'route_limits'>): TierView {
  return {
    name: tier.name,
    limits: tier.limits,
    algorithm: tier.algorithm,
    timezone: tier.timezone,
    mode: tier.mode,
    concurrency: tier.concurrency,
    route_limits: tier.route_limits,
  };
}

export function createTierService({ db, publisher, publish, clock }: TierServiceDeps): TierService {
  const notFound = (name: string) => new NotFoundError(`tier ${name} does not exist`);

  return {
    async create(input, actor = ADMIN_ACTOR) {
      const now = clock();
      let row: repository.TierRow;
      try {
        row = await db.transaction().execute(async (trx) => {
          const created = await repository.insertTier(trx, {
            name: input.name,
            description: input.description ?? null,
            limits: input.limits,
            algorithm: input.algorithm ?? 'sliding_window',
            timezone: input.timezone ?? 'UTC',
            mode: input.mode ?? 'enforce',
            concurrency: input.concurrency ?? null,
            routeLimits: input.route_limits ?? null,
            now,
          });
          await insertAuditEntry(trx, audit(actor, 'tier.create', created.name, null, toTier(created), now));
          return created;
        });
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new ConflictError('tier-exists', `tier ${input.name} already exists`, { cause: error });
        }
        throw error;
      }
      const tier = toTier(row);
      await publish(`tier ${tier.name}`, () => publisher.publishTier(tier.name, toTierView(tier), revisionOf(row)));
      return tier;
    },

    async list() {
      return (await repository.listTiers(db)).map(toTier);
    },

    async get(name) {
      const row = await repository.findTier(db, name);
      if (!row) throw notFound(name);
      return toTier(row);
    },

    async update(name, changes, actor = ADMIN_ACTOR) {
      const now = clock();
      const row = await db.transaction().execute(async (trx) => {
        const before = await repository.findTier(trx, name, true);
        if (!before) throw notFound(name);
        const current = toTier(before);
        const issues = tierPolicyIssues({
          limits: changes.limits ?? current.limits,
          algorithm: changes.algorithm ?? current.algorithm,
          route_limits: changes.route_limits === undefined ? current.route_limits : changes.route_limits,
        });
        if (issues.length > 0) throw new PolicyConflictError(issues, `the change does not fit tier ${name}`);
        const after = await repository.updateTier(trx, name, { ...changes, now });
        await insertAuditEntry(trx, audit(actor, 'tier.update', name, toTier(before), toTier(after), now));
        return after;
      });
      const tier = toTier(row);
      await publish(`tier ${name}`, () => publisher.publishTier(name, toTierView(tier), revisionOf(row)));
      return tier;
    },

    async remove(name, actor = ADMIN_ACTOR) {
      const now = clock();
      let revision: number;
      try {
        revision = await db.transaction().execute(async (trx) => {
          const before = await repository.findTier(trx, name, true);
          if (!before) throw notFound(name);
          // Revoked keys count too: they keep their tier for the record.
          const keys = await repository.countKeysOfTier(trx, name);
          if (keys > 0) throw tierInUse(name, keys);
          const deletion = await repository.deleteTier(trx, name);
          await retireProjectionEntry(trx, tierRevisionField(name), deletion);
          await insertAuditEntry(trx, audit(actor, 'tier.delete', name, toTier(before), null, now));
          return deletion;
        });
      } catch (error) {
        // A key created between the count and the delete: the foreign key still says no.
        if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw tierInUse(name, 1, error);
        throw error;
      }
      await publish(`tier ${name}`, () => publisher.publishTier(name, null, revision));
    },
  };
}

function tierInUse(name: string, keys: number, cause?: unknown): ConflictError {
  return new ConflictError('tier-in-use', `tier ${name} is used by ${keys} key(s)`, { cause });
}

function audit(actor: string, action: string, name: string, before: Tier | null, after: Tier | null, at: Date) {
  return { at, actor, action, resourceType: 'tier', resourceId: name, before, after };
}
