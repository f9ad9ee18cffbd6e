// /v1/tiers: parse with zod, call the service, map to HTTP.
import type { Route } from '../http/router.js';
import { parseOrThrow } from '../http/validate.js';
import { createTierSchema, tierListSchema, tierParamsSchema, tierSchema, updateTierSchema } from './schema.js';
import type { TierService } from './service.js';

export function tierRoutes(service: TierService): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/tiers',
      auth: true,
      doc: {
        summary: 'Create a tier',
        tag: 'tiers',
        body: createTierSchema,
        responses: { 201: { description: 'the tier', schema: tierSchema } },
      },
      async handler({ body }) {
        const input = parseOrThrow(createTierSchema, await body());
        return { status: 201, body: await service.create(input) };
      },
    },
    {
      method: 'GET',
      path: '/v1/tiers',
      auth: true,
      doc: {
        summary: 'List tiers',
        tag: 'tiers',
        responses: { 200: { description: 'every tier, by name', schema: tierListSchema } },
      },
      async handler() {
        return { status: 200, body: { items: await service.list() } };
      },
    },
    {
      method: 'GET',
      path: '/v1/tiers/{name}',
      auth: true,
      doc: {
        summary: 'Get a tier',
        tag: 'tiers',
        params: tierParamsSchema,
        responses: { 200: { description: 'the tier', schema: tierSchema } },
      },
      async handler({ params }) {
        return { status: 200, body: await service.get(parseOrThrow(tierParamsSchema, params).name) };
      },
    },
    {
      method: 'PATCH',
      path: '/v1/tiers/{name}',
      auth: true,
      doc: {
        summary: "Change a tier's description, limits or algorithm (applies to all its keys)",
        tag: 'tiers',
        params: tierParamsSchema,
        body: updateTierSchema,
        responses: { 200: { description: 'the changed tier', schema: tierSchema } },
      },
      async handler({ params, body }) {
        const { name } = parseOrThrow(tierParamsSchema, params);
        const changes = parseOrThrow(updateTierSchema, await body());
        return { status: 200, body: await service.update(name, changes) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/tiers/{name}',
      auth: true,
      doc: {
        summary: 'Delete a tier that no key uses',
        tag: 'tiers',
        params: tierParamsSchema,
        responses: { 204: { description: 'deleted' } },
      },
      async handler({ params }) {
        await service.remove(parseOrThrow(tierParamsSchema, params).name);
        return { status: 204 };
      },
    },
  ];
}
