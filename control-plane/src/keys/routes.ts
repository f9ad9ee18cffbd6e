// /v1/keys: parse with zod, call the service, map to HTTP.
import type { Route } from '../http/router.js';
import { parseOrThrow, queryObject } from '../http/validate.js';
import {
  MAX_KEYS_PER_BATCH,
  createKeySchema,
  createKeysBatchSchema,
  keyBatchSchema,
  keyPageSchema,
  keyParamsSchema,
  keySchema,
  keyWithSecretSchema,
  listKeysQuerySchema,
  updateKeySchema,
} from './schema.js';
import type { KeyService } from './service.js';

export function keyRoutes(service: KeyService): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/keys',
      auth: true,
      doc: {
        summary: 'Create a key; the secret is in this response only',
        tag: 'keys',
        body: createKeySchema,
        responses: { 201: { description: 'the key and its secret', schema: keyWithSecretSchema } },
      },
      async handler({ body }) {
        const input = parseOrThrow(createKeySchema, await body());
        return { status: 201, body: await service.create(input) };
      },
    },
    {
      // Before /v1/keys/{id}: the first template that matches answers.
      method: 'POST',
      path: '/v1/keys/batch',
      auth: true,
      doc: {
        summary: `Create up to ${MAX_KEYS_PER_BATCH} keys at once, all or none; each secret is in this response only`,
        tag: 'keys',
        body: createKeysBatchSchema,
        responses: { 201: { description: 'the keys and their secrets, in the order of the request', schema: keyBatchSchema } },
      },
      async handler({ body }) {
        const input = parseOrThrow(createKeysBatchSchema, await body());
        return { status: 201, body: { items: await service.createMany(input.items) } };
      },
    },
    {
      method: 'GET',
      path: '/v1/keys',
      auth: true,
      doc: {
        summary: 'List keys, newest first',
        tag: 'keys',
        query: listKeysQuerySchema,
        responses: { 200: { description: 'one page of keys', schema: keyPageSchema } },
      },
      async handler({ query }) {
        const parsed = parseOrThrow(listKeysQuerySchema, queryObject(query));
        const page = await service.list({
          tier: parsed.tier,
          active: parsed.active === undefined ? undefined : parsed.active === 'true',
          q: parsed.q,
          limit: parsed.limit,
          cursor: parsed.cursor,
        });
        return { status: 200, body: page };
      },
    },
    {
      method: 'GET',
      path: '/v1/keys/{id}',
      auth: true,
      doc: {
        summary: 'Get a key (revoked keys included)',
        tag: 'keys',
        params: keyParamsSchema,
        responses: { 200: { description: 'the key', schema: keySchema } },
      },
      async handler({ params }) {
        return { status: 200, body: await service.get(parseOrThrow(keyParamsSchema, params).id) };
      },
    },
    {
      method: 'PATCH',
      path: '/v1/keys/{id}',
      auth: true,
      doc: {
        summary: "Change a key's name, tier, limits, active flag or expiry",
        tag: 'keys',
        params: keyParamsSchema,
        body: updateKeySchema,
        responses: { 200: { description: 'the changed key', schema: keySchema } },
      },
      async handler({ params, body }) {
        const { id } = parseOrThrow(keyParamsSchema, params);
        const changes = parseOrThrow(updateKeySchema, await body());
        return { status: 200, body: await service.update(id, changes) };
      },
    },
    {
      method: 'POST',
      path: '/v1/keys/{id}/rotate',
      auth: true,
      doc: {
        summary: 'Replace the secret; the old one stops working',
        tag: 'keys',
        params: keyParamsSchema,
        responses: { 200: { description: 'the key and its new secret', schema: keyWithSecretSchema } },
      },
      async handler({ params }) {
        return { status: 200, body: await service.rotate(parseOrThrow(keyParamsSchema, params).id) };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/keys/{id}',
      auth: true,
      doc: {
        summary: 'Revoke a key: its secret stops working at once; the record stays readable',
        tag: 'keys',
        params: keyParamsSchema,
        responses: { 204: { description: 'revoked' } },
      },
      async handler({ params }) {
        await service.revoke(parseOrThrow(keyParamsSchema, params).id);
        return { status: 204 };
      },
    },
  ];
}
