// audit_log rows, written inside the caller's transaction and listed newest first.
import { sql, type Kysely } from 'kysely';
import { jsonb, type Database } from '../db.js';

export interface AuditRecord {
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditRow {
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly resource_type: string;
  readonly resource_id: string;
  readonly before: unknown;
  readonly after: unknown;
}

function auditValues(record: AuditRecord) {
  return {
    at: record.at,
    actor: record.actor,
    action: record.action,
    resource_type: record.resourceType,
    resource_id: record.resourceId,
    before: record.before === null ? null : jsonb(record.before),
    after: record.after === null ? null : jsonb(record.after),
  };
}

export async function insertAuditEntry(db: Kysely<Database>, record: AuditRecord): Promise<void> {
  await db.insertInto('audit_log').values(auditValues(record)).execute();
}

/** Several entries in one INSERT, in order (a batch of changes made in one transaction). */
export async function insertAuditEntries(db: Kysely<Database>, records: readonly AuditRecord[]): Promise<void> {
  if (records.length === 0) return;
  await db.insertInto('audit_log').values(records.map(auditValues)).execute();
}

export interface AuditFilter {
  readonly resourceType?: string;
  readonly resourceId?: string;
  /** Only entries with a smaller id (the cursor). */
  readonly beforeId?: string;
  readonly limit: number;
}

export async function listAuditEntries(db: Kysely<Database>, filter: AuditFilter): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_log')
    // id as text: drivers differ on bigint (string, BigInt or number).
    .select([
      sql<string>`id::text`.as('id'),
      'at',
      'actor',
      'action',
      'resource_type',
      'resource_id',
      'before',
      'after',
    ])
    .orderBy('audit_log.id', 'desc')
    .limit(filter.limit);
  if (filter.resourceType !== undefined) query = query.where('resource_type', '=', filter.resourceType);
  if (filter.resourceId !== undefined) query = query.where('resource_id', '=', filter.resourceId);
  if (filter.beforeId !== undefined) query = query.where(sql<boolean>`audit_log.id < ${filter.beforeId}::bigint`);
  return query.execute();
}
