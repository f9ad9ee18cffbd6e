// Reading the audit log. Writing happens in the tier and key services, inside their transactions.
import type { Db } from '../db.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '../http/pagination.js';
import { z } from 'zod';
import { listAuditEntries, type AuditRow } from './repository.js';
import type { AuditEntry, ResourceType } from './schema.js';

// Entry ids are PostgreSQL bigints: a forged cursor past the largest one is no cursor of ours.
const MAX_BIGINT = 9_223_372_036_854_775_807n;
const cursorPosition = z.tuple([z.string().regex(/^\d{1,19}$/).refine((id) => BigInt(id) <= MAX_BIGINT)]);

export interface AuditListOptions {
  readonly resourceType?: ResourceType;
  readonly resourceId?: string;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface AuditService {
  list(options: AuditListOptions): Promise<{ items: AuditEntry[]; next_cursor: string | null }>;
}

export function createAuditService(db: Db): AuditService {
  return {
    async list(options) {
      const limit = options.limit ?? DEFAULT_PAGE_SIZE;
      const beforeId = options.cursor === undefined ? undefined : decodeCursor(options.cursor, cursorPosition)[0];
      // One extra row tells whether another page exists.
      const rows = await listAuditEntries(db, {
        resourceType: options.resourceType,
        resourceId: options.resourceId,
        beforeId,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toAuditEntry),
        next_cursor: rows.length > limit && last ? encodeCursor([last.id]) : null,
      };
    },
  };
}

function toAuditEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    action: row.action,
    resource_type: row.resource_type as ResourceType,
    resource_id: row.resource_id,
    before: row.before ?? null,
    after: row.after ?? null,
  };
}
