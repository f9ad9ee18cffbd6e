// A small route table: method + path template (`/v1/keys/{id}`) → handler. The template, never the
// raw path, labels metrics and logs. Each route also carries the zod schemas it validates with, so
// openapi.ts documents exactly what is enforced.
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { MethodNotAllowedError, NotFoundError } from './errors.js';

export interface RequestContext {
  readonly request: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** Reads and parses the JSON body (415, 413 and 400 on the way). */
  readonly body: () => Promise<unknown>;
}

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  /** Defaults to application/json when there is a body. */
  readonly contentType?: string;
  /** Sent as is (already serialised), e.g. /metrics, HTML or a static file's bytes. */
  readonly raw?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ResponseDoc {
  readonly description: string;
  readonly schema?: z.ZodType;
}

export interface RouteDoc {
  readonly summary: string;
  readonly tag: string;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Success responses; the error responses every route shares are added by openapi.ts. */
  readonly responses: Readonly<Record<number, ResponseDoc>>;
}

export interface Route {
  readonly method: string;
  readonly path: string;
  /** Requires `Authorization: Bearer ADMIN_TOKEN`. */
  readonly auth: boolean;
  readonly handler: (context: RequestContext) => Promise<Reply>;
  readonly doc?: RouteDoc;
}

interface CompiledRoute {
  readonly route: Route;
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Record<string, string>;
}

export class Router {
  readonly #compiled: CompiledRoute[];

  constructor(readonly routes: readonly Route[]) {
    this.#compiled = routes.map((route) => compile(route));
  }

  /** Throws NotFoundError (no template matches) or MethodNotAllowedError (template does, method not). */
  match(method: string, path: string): RouteMatch {
    const allowed: string[] = [];
    for (const { route, pattern, names } of this.#compiled) {
      const found = pattern.exec(path);
      if (!found) continue;
      if (route.method !== method) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      names.forEach((name, index) => {
        params[name] = decodeSegment(found[index + 1] ?? '');
      });
      return { route, params };
    }
    if (allowed.length > 0) throw new MethodNotAllowedError(allowed);
    throw new NotFoundError('no such resource');
  }
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([a-z_]+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(param[1] ?? '');
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** A malformed escape cannot name any resource. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new NotFoundError('no such resource');
  }
}
