// The audit log's shapes: what the API returns and how it is listed.
import { z } from 'zod';
import { cursorSchema, pageLimitSchema } from '../http/pagination.js';

export const RESOURCE_TYPES = ['tier', 'key'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

export const auditEntrySchema = z
  .strictObject({
    id: z.string().describe('increasing id of the entry'),
    at: z.iso.datetime({ offset: true }),
    actor: z.string(),
    action: z.string().describe('resource and verb, e.g. tier.create, key.rotate'),
    resource_type: z.enum(RESOURCE_TYPES),
    resource_id: z.string(),
    before: z.unknown().describe('the resource before the change (null on create); never a secret'),
    after: z.unknown().describe('the resource after the change (null on delete); never a secret'),
  })
  .meta({ id: 'AuditEntry' });

export const auditListQuerySchema = z.strictObject({
  resource_type: z.enum(RESOURCE_TYPES).optional(),
  resource_id: z.string().min(1).max(200).optional(),
  limit: pageLimitSchema,
  cursor: cursorSchema,
});

export const auditPageSchema = z
  .strictObject({
    items: z.array(auditEntrySchema),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'AuditPage' });

export type AuditEntry = z.infer<typeof auditEntrySchema>;
