// GET /v1/audit-log.
import type { Route } from '../http/router.js';
import { parseOrThrow, queryObject } from '../http/validate.js';
import { auditListQuerySchema, auditPageSchema } from './schema.js';
import type { AuditService } from './service.js';

export function auditRoutes(service: AuditService): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/audit-log',
      auth: true,
      doc: {
        summary: 'List changes to tiers and keys, newest first',
        tag: 'audit',
        query: auditListQuerySchema,
        responses: { 200: { description: 'one page of audit entries', schema: auditPageSchema } },
      },
      async handler({ query }) {
        const parsed = parseOrThrow(auditListQuerySchema, queryObject(query));
        const page = await service.list({
          resourceType: parsed.resource_type,
          resourceId: parsed.resource_id,
          limit: parsed.limit,
          cursor: parsed.cursor,
        });
        return { status: 200, body: page };
      },
    },
  ];
}
