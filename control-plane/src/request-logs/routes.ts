// GET /v1/request-logs.
import type { Route } from '../http/router.js';
import { parseOrThrow, queryObject } from '../http/validate.js';
import { requestLogListQuerySchema, requestLogPageSchema } from './schema.js';
import type { RequestLogService } from './service.js';

export function requestLogRoutes(service: Pick<RequestLogService, 'list'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/request-logs',
      auth: true,
      doc: {
        summary: 'List requests the gateways answered, newest first',
        tag: 'request-logs',
        query: requestLogListQuerySchema,
        responses: { 200: { description: 'one page of request log entries', schema: requestLogPageSchema } },
      },
      async handler({ query }) {
        const parsed = parseOrThrow(requestLogListQuerySchema, queryObject(query));
        const page = await service.list({
          keyId: parsed.key_id,
          status: parsed.status,
          route: parsed.route,
          from: parsed.from,
          to: parsed.to,
          limited: parsed.limited,
          shadowLimited: parsed.shadow_limited,
          limit: parsed.limit,
          cursor: parsed.cursor,
        });
        return { status: 200, body: page };
      },
    },
  ];
}
