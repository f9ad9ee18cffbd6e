// GET /openapi.json: OpenAPI 3.1 built from the route table and the very zod schemas the routes
// validate with, so the document cannot drift from what is enforced.
import { z } from 'zod';
import type { Route, RouteDoc } from './http/router.js';

type JsonSchema = Record<string, unknown>;

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        required: ['path', 'message'],
      },
    },
  },
  required: ['type', 'title', 'status', 'detail'],
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'malformed JSON, an unknown field or an invalid value',
  401: 'missing or wrong bearer token',
  404: 'no such resource',
  409: 'conflicts with the current state',
  413: 'body over 1 MiB',
  415: 'body is not application/json',
  422: 'refers to a tier that does not exist',
  503: 'not ready',
};

/** Which error statuses a route can answer, from what it does. */
function errorStatuses(route: Route): number[] {
  const statuses = new Set<number>();
  if (route.doc?.body || route.doc?.query || route.doc?.params) statuses.add(400);
  if (route.auth) statuses.add(401);
  if (route.doc?.params) statuses.add(404);
  if (route.doc?.body) [413, 415].forEach((status) => statuses.add(status));
  if (route.path.startsWith('/v1/tiers') && route.method !== 'GET') statuses.add(409);
  if (route.path.startsWith('/v1/keys/{id}') && route.method !== 'GET') statuses.add(409);
  if (route.path.startsWith('/v1/keys') && route.doc?.body) statuses.add(422);
  if (route.path === '/readyz') statuses.add(503);
  return [...statuses].sort();
}

function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return clean(
    z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema,
  );
}

function componentRef(schema: z.ZodType): string | undefined {
  const id = z.globalRegistry.get(schema)?.id;
  return typeof id === 'string' ? id : undefined;
}

function schemaOrRef(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const id = componentRef(schema);
  return id ? { $ref: `#/components/schemas/${id}` } : toSchema(schema, io);
}

function parameters(doc: RouteDoc): JsonSchema[] {
  const list: JsonSchema[] = [];
  for (const [location, schema] of [
    ['path', doc.params],
    ['query', doc.query],
  ] as const) {
    if (!schema) continue;
    const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      const { description, ...rest } = property;
      list.push({
        name,
        in: location,
        required: location === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return list;
}

function operation(route: Route): JsonSchema {
  const doc = route.doc;
  const responses: Record<string, JsonSchema> = {};
  for (const [status, response] of Object.entries(doc?.responses ?? { 200: { description: 'OK' } })) {
    responses[status] = {
      description: response.description,
      ...(response.schema ? { content: { 'application/json': { schema: schemaOrRef(response.schema, 'output') } } } : {}),
    };
  }
  for (const status of errorStatuses(route)) {
    responses[String(status)] = {
      description: ERROR_DESCRIPTIONS[status] ?? 'error',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    };
  }
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[{}]/g, '').replace(/[/_.-](\w)/g, (_m, c: string) => c.toUpperCase())}`,
    summary: doc?.summary ?? '',
    tags: [doc?.tag ?? 'operations'],
    ...(route.auth ? {} : { security: [] }),
    ...(doc ? { parameters: parameters(doc) } : {}),
    ...(doc?.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: schemaOrRef(doc.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** Component schemas: request bodies as clients send them, everything else as we answer. */
function components(routes: readonly Route[]): Record<string, JsonSchema> {
  const bodyIds = new Set(routes.map((route) => (route.doc?.body ? componentRef(route.doc.body) : undefined)));
  const uri = (id: string) => `#/components/schemas/${id}`;
  const build = (io: 'input' | 'output') =>
    (z.toJSONSchema(z.globalRegistry, { io, uri, unrepresentable: 'any' }) as { schemas: Record<string, JsonSchema> })
      .schemas;
  const inputs = build('input');
  const outputs = build('output');
  const result: Record<string, JsonSchema> = { Problem: problemSchema };
  for (const [id, schema] of Object.entries(outputs)) {
    result[id] = clean(bodyIds.has(id) ? (inputs[id] ?? schema) : schema);
  }
  return result;
}

export function buildOpenApiDocument(routes: readonly Route[]): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    item[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tollgate control plane',
      version: '1',
      description: 'Tiers, API keys and the audit log of the Tollgate rate-limiting gateway.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: [{ name: 'tiers' }, { name: 'keys' }, { name: 'audit' }, { name: 'gateways' }, { name: 'operations' }],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
      schemas: components(routes),
    },
  };
}
