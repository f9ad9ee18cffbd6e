// GET /v1/gateways.
import type { Route } from '../http/router.js';
import { parseOrThrow } from '../http/validate.js';
import { gatewayListSchema, gatewayParamsSchema } from './schema.js';
import type { GatewayService } from './service.js';

export function gatewayRoutes(service: GatewayService): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/gateways',
      auth: true,
      doc: {
        summary: 'The running gateways, how far each is behind the latest change, and the ones not heard from',
        tag: 'gateways',
        responses: { 200: { description: 'every gateway with a heartbeat in the last day', schema: gatewayListSchema } },
      },
      async handler() {
        return { status: 200, body: { items: await service.list() } };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/gateways/{id}',
      auth: true,
      doc: {
        summary: 'Forget a stale gateway (one known to be gone); a live one is refused with 409',
        tag: 'gateways',
        params: gatewayParamsSchema,
        responses: { 204: { description: 'forgotten' } },
      },
      async handler({ params }) {
        await service.forget(parseOrThrow(gatewayParamsSchema, params).id);
        return { status: 204 };
      },
    },
  ];
}
