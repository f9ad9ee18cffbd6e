// /healthz, /readyz, /metrics and /openapi.json: unauthenticated, for probes and tooling.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { ApiError } from './http/errors.js';
import type { Route } from './http/router.js';
import { registry } from './metrics.js';

export class NotReadyError extends ApiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, 'not-ready', message, options);
  }
}

export const DEFAULT_READY_TIMEOUT_MS = 1000;

export async function checkDatabase(db: Db, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([sql`select 1`.execute(db), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutes(db: Db, readyTimeoutMs: number, openApi: () => unknown): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      auth: false,
      doc: { summary: 'The process is alive', tag: 'operations', responses: { 200: { description: 'alive' } } },
      async handler() {
        return { status: 200, body: { status: 'ok' } };
      },
    },
    {
      method: 'GET',
      path: '/readyz',
      auth: false,
      doc: {
        summary: 'PostgreSQL answers',
        tag: 'operations',
        responses: { 200: { description: 'ready' } },
      },
      async handler() {
        try {
          await checkDatabase(db, readyTimeoutMs);
        } catch (error) {
          throw new NotReadyError('the database does not answer', { cause: error });
        }
        return { status: 200, body: { status: 'ok' } };
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      auth: false,
      doc: { summary: 'Prometheus metrics', tag: 'operations', responses: { 200: { description: 'text format' } } },
      async handler() {
        return { status: 200, raw: await registry.metrics(), contentType: registry.contentType };
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      auth: false,
      doc: { summary: 'This document', tag: 'operations', responses: { 200: { description: 'OpenAPI 3.1' } } },
      async handler() {
        return { status: 200, body: openApi() };
      },
    },
  ];
}
