// API key rules: create, change, rotate, revoke. Each change writes its audit row in the same
// transaction and is published to gateways after commit. The secret exists only in memory here
// and in the create/rotate response; PostgreSQL, the audit log and the feed see its hash at most.
import type { KeyView } from '../../../contracts/feed.js';
import { burstIssues, type Algorithm, type Limit, type Mode } from '../../../contracts/limits.js';
import { insertAuditEntries, insertAuditEntry } from '../audit/repository.js';
import type { Clock } from '../clock.js';
import { revisionOf, type Db } from '../db.js';
import { keyRevisionField, type ChangePublisher } from '../feed/publisher.js';
import { retireProjectionEntry } from '../feed/tombstones.js';
import {
  ConflictError,
  FOREIGN_KEY_VIOLATION,
  NotFoundError,
  PolicyConflictError,
  UnprocessableError,
  ValidationError,
  sqlState,
} from '../http/errors.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '../http/pagination.js';
import { storableDateTimeSchema } from '../http/storable.js';
import type { Publish } from '../publish-after-commit.js';
import { findTier, findTiers } from '../tiers/repository.js';
import { ADMIN_ACTOR, ordered } from '../tiers/service.js';
import { z } from 'zod';
import * as repository from './repository.js';
import { checkBatch } from './batch-checks.js';
import type { ApiKey, ApiKeyWithSecret, CreateKey, UpdateKey } from './schema.js';
import { type NewSecret, generateKeyId, generateSecret } from './secret.js';

const cursorPosition = z.tuple([storableDateTimeSchema, z.string().min(1).max(200)]);

export interface KeyListOptions {
  readonly tier?: string;
  readonly active?: boolean;
  readonly q?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

/** `actor` is who the audit row names: ADMIN_ACTOR for the REST token, the user for the admin UI. */
export interface KeyService {
  create(input: CreateKey, actor?: string): Promise<ApiKeyWithSecret>;
  /** All of them or none, in one transaction; each key is published and audited as by create. */
  createMany(inputs: readonly CreateKey[], actor?: string): Promise<ApiKeyWithSecret[]>;
  list(options: KeyListOptions): Promise<{ items: ApiKey[]; next_cursor: string | null }>;
  get(id: string): Promise<ApiKey>;
  update(id: string, changes: UpdateKey, actor?: string): Promise<ApiKey>;
  rotate(id: string, actor?: string): Promise<ApiKeyWithSecret>;
  revoke(id: string, actor?: string): Promise<void>;
}

export interface KeyServiceDeps {
  readonly db: Db;
  readonly publisher: ChangePublisher;
  readonly publish: Publish;
  readonly clock: Clock;
}

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

export function toApiKey(row: repository.KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    limits: row.limits && ordered(row.limits),
    mode: row.mode as Mode | null,
    active: row.active,
    expires_at: iso(row.expires_at),
    created_at: new Date(row.created_at).toISOString(),
    last_used_at: iso(row.last_used_at),
    revoked_at: iso(row.revoked_at),
    prefix: row.prefix,
  };
}

export function toKeyView(row: repository.KeyRow): KeyView {
  return {
    id: row.id,
    tier: row.tier,
    limits: row.limits && ordered(row.limits),
    active: row.active,
    expires_at: iso(row.expires_at),
    mode: row.mode as Mode | null,
  };
}

export function createKeyService({ db, publisher, publish, clock }: KeyServiceDeps): KeyService {
  const notFound = (id: string) => new NotFoundError(`key ${id} does not exist`);
  const unknownTier = (tier: string, cause?: unknown) =>
    new UnprocessableError('unknown-tier', `tier ${tier} does not exist`, { cause });

  const mapForeignKey = (tier: string | undefined) => (error: unknown) => {
    // The tier was deleted between our check and the write.
    if (tier !== undefined && sqlState(error) === FOREIGN_KEY_VIOLATION) throw unknownTier(tier, error);
    throw error;
  };

  const assertFuture = (expiresAt: string | null | undefined, now: Date) => {
    if (expiresAt && new Date(expiresAt).getTime() <= now.getTime()) {
      throw new ValidationError([{ path: 'expires_at', message: 'must be in the future' }]);
    }
  };

  /** A key's own limits are read with its tier's algorithm: a burst needs a GCRA tier. */
  const assertFitsTier = (limits: readonly Limit[] | null | undefined, tier: { readonly name: string; readonly algorithm: string }) => {
    const issues = burstIssues(limits, tier.algorithm as Algorithm, ['limits']);
    if (issues.length > 0) throw new PolicyConflictError(issues, `the limits do not fit tier ${tier.name} (${tier.algorithm})`);
  };

  return {
    async create(input, actor = ADMIN_ACTOR) {
      const now = clock();
      assertFuture(input.expires_at, now);
      const secret = generateSecret();
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const tier = await findTier(trx, input.tier);
          if (!tier) throw unknownTier(input.tier);
          assertFitsTier(input.limits, tier);
          const created = await repository.insertKey(trx, newKeyRow(input, secret, now));
          await insertAuditEntry(trx, audit(actor, 'key.create', created.id, null, toApiKey(created), now));
          return created;
        })
        .catch(mapForeignKey(input.tier));
      await publish(`key ${row.id}`, () => publisher.publishKey(row.secret_hash, toKeyView(row), revisionOf(row)));
      return { ...toApiKey(row), secret: secret.secret };
    },

    async createMany(inputs, actor = ADMIN_ACTOR) {
      const now = clock();
      const secrets = inputs.map(() => generateSecret());
      const rows = await db
        .transaction()
        .execute(async (trx) => {
          const tiers = await findTiers(trx, [...new Set(inputs.map((input) => input.tier))]);
          checkBatch(inputs, new Map(tiers.map((tier) => [tier.name, tier])), now);
          const created = await repository.insertKeys(
            trx,
            inputs.map((input, index) => newKeyRow(input, secrets[index] as NewSecret, now)),
          );
          await insertAuditEntries(
            trx,
            created.map((row) => audit(actor, 'key.create', row.id, null, toApiKey(row), now)),
          );
          return created;
        })
        .catch((error: unknown) => {
          // A tier deleted between the check and the insert.
          if (sqlState(error) === FOREIGN_KEY_VIOLATION) throw new UnprocessableError('unknown-tier', 'a tier of these keys was just deleted', { cause: error });
          throw error;
        });
      // Concurrently: one pipeline of publishes, not a round trip each.
      await Promise.all(
        rows.map((row) => publish(`key ${row.id}`, () => publisher.publishKey(row.secret_hash, toKeyView(row), revisionOf(row)))),
      );
      const byHash = new Map(rows.map((row) => [row.secret_hash, row]));
      // In the order asked for (RETURNING promises no order).
      return secrets.map((secret) => ({ ...toApiKey(byHash.get(secret.hash) as repository.KeyRow), secret: secret.secret }));
    },

    async list(options) {
      const limit = options.limit ?? DEFAULT_PAGE_SIZE;
      const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, cursorPosition);
      // One extra row tells whether another page exists.
      const rows = await repository.listKeys(db, {
        tier: options.tier,
        active: options.active,
        search: options.q,
        after: after && { createdAt: after[0], id: after[1] },
        limit: limit + 1,
      });
      const page = rows.slice(0, limit).map(toApiKey);
      const last = page.at(-1);
      return {
        items: page,
        next_cursor: rows.length > limit && last ? encodeCursor([last.created_at, last.id]) : null,
      };
    },

    async get(id) {
      const row = await repository.findKey(db, id);
      if (!row) throw notFound(id);
      return toApiKey(row);
    },

    async update(id, changes, actor = ADMIN_ACTOR) {
      const now = clock();
      assertFuture(changes.expires_at, now);
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const before = await repository.findKey(trx, id, true);
          if (!before) throw notFound(id);
          // Re-activating a revoked key would bring a revoked secret back to life.
          if (before.revoked_at !== null) throw revoked(id);
          if (changes.tier !== undefined || changes.limits !== undefined) {
            const tier = await findTier(trx, changes.tier ?? before.tier);
            if (!tier) throw unknownTier(changes.tier ?? before.tier);
            assertFitsTier(changes.limits === undefined ? before.limits : changes.limits, tier);
          }
          const after = await repository.updateKey(
            trx,
            id,
            {
              name: changes.name,
              tier: changes.tier,
              limits: changes.limits,
              mode: changes.mode,
              active: changes.active,
              expiresAt: changes.expires_at,
            },
            now,
          );
          await insertAuditEntry(trx, audit(actor, 'key.update', id, toApiKey(before), toApiKey(after), now));
          return after;
        })
        .catch(mapForeignKey(changes.tier));
      await publish(`key ${id}`, () => publisher.publishKey(row.secret_hash, toKeyView(row), revisionOf(row)));
      return toApiKey(row);
    },

    async rotate(id, actor = ADMIN_ACTOR) {
      const now = clock();
      const secret = generateSecret();
      const { oldHash, row } = await db.transaction().execute(async (trx) => {
        const before = await repository.findKey(trx, id, true);
        if (!before) throw notFound(id);
        if (before.revoked_at !== null) throw revoked(id);
        const after = await repository.replaceSecret(trx, id, secret, now);
        // The old hash leaves the projection at the new one's revision; a rebuild after Redis lost
        // its data must still know that (migration 0030).
        await retireProjectionEntry(trx, keyRevisionField(before.secret_hash), revisionOf(after));
        await insertAuditEntry(trx, audit(actor, 'key.rotate', id, toApiKey(before), toApiKey(after), now));
        return { oldHash: before.secret_hash, row: after };
      });
      // Remove the old secret first: for a moment neither works, never both.
      await publish(`key ${id}`, () => publisher.publishKey(oldHash, null, revisionOf(row)));
      await publish(`key ${id}`, () => publisher.publishKey(row.secret_hash, toKeyView(row), revisionOf(row)));
      return { ...toApiKey(row), secret: secret.secret };
    },

    async revoke(id, actor = ADMIN_ACTOR) {
      const now = clock();
      const row = await db.transaction().execute(async (trx) => {
        const before = await repository.findKey(trx, id, true);
        if (!before) throw notFound(id);
        // Revoking twice changes nothing and is not an error (DELETE is idempotent).
        if (before.revoked_at !== null) return null;
        const after = await repository.revokeKey(trx, id, now);
        await insertAuditEntry(trx, audit(actor, 'key.revoke', id, toApiKey(before), toApiKey(after), now));
        return after;
      });
      if (row) await publish(`key ${id}`, () => publisher.publishKey(row.secret_hash, null, revisionOf(row)));
    },
  };
}

function newKeyRow(input: CreateKey, secret: NewSecret, now: Date): repository.NewKeyRow {
  return {
    id: generateKeyId(),
    name: input.name,
    tier: input.tier,
    limits: input.limits ?? null,
    mode: input.mode ?? null,
    expiresAt: input.expires_at ?? null,
    secretHash: secret.hash,
    prefix: secret.prefix,
    now,
  };
}

function revoked(id: string): ConflictError {
  return new ConflictError('key-revoked', `key ${id} is revoked`);
}

function audit(actor: string, action: string, id: string, before: ApiKey | null, after: ApiKey | null, at: Date) {
  return { at, actor, action, resourceType: 'key', resourceId: id, before, after };
}
