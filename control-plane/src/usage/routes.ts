// GET /v1/keys/{id}/usage.
import type { Route } from '../http/router.js';
import { parseOrThrow } from '../http/validate.js';
import { usageParamsSchema, usageSchema } from './schema.js';
import type { UsageService } from './service.js';

export function usageRoutes(service: UsageService): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/keys/{id}/usage',
      auth: true,
      doc: {
        summary: "A key's limits with used, remaining and reset, plus request totals; consumes nothing",
        tag: 'keys',
        params: usageParamsSchema,
        responses: { 200: { description: 'usage of the key', schema: usageSchema } },
      },
      async handler({ params }) {
        return { status: 200, body: await service.get(parseOrThrow(usageParamsSchema, params).id) };
      },
    },
  ];
}
