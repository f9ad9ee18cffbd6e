// /admin/audit-log: the audit log through the same service as GET /v1/audit-log.
import type { AppServices } from '../../app.js';
import { auditListQuerySchema } from '../../audit/schema.js';
import type { Route } from '../../http/router.js';
import { parseOrThrow } from '../../http/validate.js';
import type { PageKit } from '../page-route.js';
import { html } from '../responses.js';
import { AuditView } from '../views/audit-view.js';

export const AUDIT_PAGE_SIZE = 50;

export function auditRoutes({ kit, services }: { readonly kit: PageKit; readonly services: AppServices }): Route[] {
  return [
    kit.signedInPage('GET', '/admin/audit-log', async (context) => {
      const raw: Record<string, string> = {};
      for (const name of ['resource_type', 'resource_id', 'cursor']) {
        const value = context.query.get(name)?.trim();
        if (value) raw[name] = value;
      }
      const query = parseOrThrow(auditListQuerySchema, raw);
      const page = await services.audit.list({
        resourceType: query.resource_type,
        resourceId: query.resource_id,
        cursor: query.cursor,
        limit: AUDIT_PAGE_SIZE,
      });
      return html(
        200,
        AuditView({
          viewer: context.viewer,
          filters: { resource_type: query.resource_type ?? '', resource_id: query.resource_id ?? '' },
          entries: page.items,
          nextCursor: page.next_cursor,
          cursor: query.cursor ?? null,
        }),
      );
    }),
  ];
}
