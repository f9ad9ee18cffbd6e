// Turns admin page handlers into routes of the control plane's route table. Every page gets the
// security headers and HTML error pages instead of problem+json; a signed-in page also gets:
//   no session (or an expired one)  → 303 to the sign-in page, which says the session expired
//   a POST                          → its form read, and refused (403) unless it carries the
//                                     session's CSRF token
import type { IncomingMessage } from 'node:http';
import type { Session, SessionService } from '../admin-sessions/service.js';
import { ApiError, NotFoundError, ValidationError } from '../http/errors.js';
import type { Reply, Route } from '../http/router.js';
import { cameOverTls, type TrustedProxies } from '../../../contracts/trusted-proxies.js';
import type { Logger } from '../log.js';
import { readCookie, SESSION_COOKIE, setCookie } from './cookies.js';
import { readForm } from './form-body.js';
import { FormError } from './forms.js';
import { errorPage, redirect } from './responses.js';
import { CSRF_FIELD } from './views/components.js';
import type { Viewer } from './views/layout.js';

export interface PageContext {
  readonly request: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The request came over TLS (directly or through a trusted proxy): cookies get `Secure`. */
  readonly secure: boolean;
}

export interface SignedInContext extends PageContext {
  readonly session: Session;
  readonly viewer: Viewer;
  /** The posted form; empty for a GET. */
  readonly form: URLSearchParams;
}

export interface PageKit {
  publicPage(method: string, path: string, handler: (context: PageContext) => Promise<Reply>): Route;
  signedInPage(method: string, path: string, handler: (context: SignedInContext) => Promise<Reply>): Route;
  /** The page for an error no handler turned into a page itself. */
  failure(error: unknown, viewer: Viewer | null): Reply;
}

export function sessionCookie(token: string, maxAgeMs: number, secure: boolean): string {
  return setCookie(SESSION_COOKIE, token, { path: '/admin', maxAgeSeconds: Math.floor(maxAgeMs / 1000), secure });
}

/**
 * A next= target we are willing to redirect to after sign-in: one of our own pages. Anything else
 * (another host, `//host`, a backslash some browsers read as a slash, a control character that
 * would split the Location header) becomes the keys page.
 */
export function safeNext(value: string | null | undefined): string {
  if (!value || !/^\/admin(\/[^\\]*)?$/.test(value) || value.startsWith('/admin/login') || value.includes('//')) return '/admin/keys';
  const controlCharacter = [...value].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  return controlCharacter ? '/admin/keys' : value;
}

export function createPageKit(deps: { readonly sessions: SessionService; readonly trust: TrustedProxies; readonly logger: Logger }): PageKit {
  const { sessions, trust, logger } = deps;

  function failure(error: unknown, viewer: Viewer | null): Reply {
    if (error instanceof NotFoundError) {
      return errorPage(404, 'Not found', 'There is no such page, or what it showed no longer exists.', viewer);
    }
    if (error instanceof ValidationError) {
      // Say which field, so a person (or a test) sees what to change.
      const fields = error.errors.map(({ path, message }) => `${path || 'the request'} ${message}`).join('; ');
      return errorPage(400, 'Invalid request', `The request could not be understood: ${fields}. Go back and try again.`, viewer);
    }
    if (error instanceof FormError) {
      return errorPage(400, 'Invalid request', 'The request could not be understood. Go back and try again.', viewer);
    }
    if (error instanceof ApiError) return errorPage(error.status, 'Request refused', error.message, viewer);
    logger.error({ err: error }, 'admin page failed');
    return errorPage(500, 'Something went wrong', 'The control plane could not complete this request. It has been logged; try again in a moment.', viewer);
  }

  function context(request: IncomingMessage, params: Readonly<Record<string, string>>, query: URLSearchParams): PageContext {
    return { request, params, query, secure: cameOverTls(request, trust) };
  }

  return {
    failure,

    publicPage(method, path, handler) {
      return {
        method,
        path,
        auth: false,
        async handler({ request, params, query }) {
          try {
            return await handler(context(request, params, query));
          } catch (error) {
            return failure(error, null);
          }
        },
      };
    },

    signedInPage(method, path, handler) {
      return {
        method,
        path,
        auth: false,
        async handler({ request, params, query }) {
          const base = context(request, params, query);
          const token = readCookie(request, SESSION_COOKIE);
          let session: Session | null;
          try {
            session = token === undefined ? null : await sessions.resume(token);
          } catch (error) {
            return failure(error, null);
          }
          if (session === null) {
            request.resume();
            const here = safeNext(method === 'GET' ? (request.url ?? '') : '');
            const target = `/admin/login?next=${encodeURIComponent(here)}${token === undefined ? '' : '&expired=1'}`;
            // A dead cookie is dropped so the sign-in page starts clean.
            return redirect(target, token === undefined ? {} : { 'set-cookie': sessionCookie('', 0, base.secure) });
          }
          const viewer: Viewer = { username: session.username, csrfToken: session.csrfToken };
          try {
            let form = new URLSearchParams();
            if (method === 'POST') {
              form = await readForm(request);
              if (!sessions.checkCsrf(session, form.get(CSRF_FIELD) ?? undefined)) {
                return errorPage(
                  403,
                  'Form refused',
                  'This form did not carry a valid security token for your session (it may come from an old page or another site). Reload the page and try again.',
                  viewer,
                );
              }
            }
            return await handler({ ...base, session, viewer, form });
          } catch (error) {
            return failure(error, viewer);
          }
        },
      };
    },
  };
}
