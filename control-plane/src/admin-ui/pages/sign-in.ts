// GET/POST /admin/login, POST /admin/logout and GET /admin.
//
// The sign-in form's CSRF token is a random value kept in a cookie of its own and repeated in the
// form (there is no session yet to bind it to). A browser always posts the form with it. A post
// without any token is let through only when it carries no sign of another site (no foreign
// Origin, no cross-site Sec-Fetch-Site), which a browser always sends on a cross-site post: so
// scripts and curl can sign in, and no other site can sign a visitor in.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { SessionService } from '../../admin-sessions/service.js';
import type { AdminUserService } from '../../admin-users/service.js';
import type { Reply, Route } from '../../http/router.js';
import { clientAddress, type TrustedProxies } from '../../../../contracts/trusted-proxies.js';
import type { Logger } from '../../log.js';
import { readCookie, SESSION_COOKIE, setCookie, SIGN_IN_CSRF_COOKIE } from '../cookies.js';
import { readForm } from '../form-body.js';
import { text } from '../forms.js';
import { safeNext, sessionCookie, type PageContext, type PageKit } from '../page-route.js';
import { errorPage, html, redirect } from '../responses.js';
import type { SignInLimit } from '../sign-in-limit.js';
import { CSRF_FIELD } from '../views/components.js';
import { SignInView, type SignInViewProps } from '../views/sign-in-view.js';

export interface SignInDeps {
  readonly kit: PageKit;
  readonly users: AdminUserService;
  readonly sessions: SessionService;
  readonly limit: SignInLimit;
  readonly trust: TrustedProxies;
  readonly logger: Logger;
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SIGN_IN_CSRF_MAX_AGE_SECONDS = 3600;

function sameBytes(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** True when a browser says this request was started by another site's page. */
function crossSite(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

export function signInRoutes({ kit, users, sessions, limit, trust, logger }: SignInDeps): Route[] {
  const audit = logger.child({ component: 'admin-sign-in' });

  /** The sign-in page with the visitor's form token (a new one, and its cookie, when they have none). */
  function signInPage(context: PageContext, status: number, props: Omit<SignInViewProps, 'csrfToken'>, headers: Record<string, string> = {}): Reply {
    const existing = readCookie(context.request, SIGN_IN_CSRF_COOKIE);
    const token = existing !== undefined && TOKEN_PATTERN.test(existing) ? existing : randomBytes(32).toString('base64url');
    const cookie = setCookie(SIGN_IN_CSRF_COOKIE, token, {
      path: '/admin/login',
      maxAgeSeconds: SIGN_IN_CSRF_MAX_AGE_SECONDS,
      secure: context.secure,
    });
    return html(status, SignInView({ ...props, csrfToken: token }), { 'set-cookie': cookie, ...headers });
  }

  return [
    kit.publicPage('GET', '/admin', async () => redirect('/admin/keys')),

    kit.publicPage('GET', '/admin/login', async (context) => {
      const next = safeNext(context.query.get('next'));
      const token = readCookie(context.request, SESSION_COOKIE);
      if (token !== undefined && (await sessions.resume(token)) !== null) return redirect(next);
      if (!(await users.anyExists())) {
        return signInPage(context, 200, {
          next,
          notice: 'No admin user exists yet. Set ADMIN_USER and ADMIN_PASSWORD and restart the control plane: it creates that user at start.',
        });
      }
      const notice =
        context.query.get('expired') === '1'
          ? 'Your session has expired. Sign in again to continue.'
          : context.query.get('signed_out') === '1'
            ? 'You have signed out.'
            : undefined;
      return signInPage(context, 200, { next, notice });
    }),

    kit.publicPage('POST', '/admin/login', async (context) => {
      const form = await readForm(context.request);
      const next = safeNext(form.get('next'));
      const username = text(form, 'username');
      const password = form.get('password') ?? '';
      const given = form.get(CSRF_FIELD);
      const expected = readCookie(context.request, SIGN_IN_CSRF_COOKIE);
      const csrfOk = given === null ? !crossSite(context.request) : expected !== undefined && sameBytes(given, expected);
      if (!csrfOk) {
        return errorPage(403, 'Form refused', 'The sign-in form had expired or came from another site. Open the sign-in page again and retry.', null);
      }
      if (username === '' || password === '') {
        const fieldErrors = {
          ...(username === '' ? { username: 'is required' } : {}),
          ...(password === '' ? { password: 'is required' } : {}),
        };
        return signInPage(context, 400, { next, username, fieldErrors });
      }

      const address = clientAddress(context.request, trust);
      let outcome: Awaited<ReturnType<typeof users.verify>> | false | { blocked: number };
      try {
        outcome = await limit.attempt(username, address, async () => (await users.verify(username, password)) ?? false);
      } catch (error) {
        audit.error({ err: error }, 'sign-in limiter unavailable');
        return signInPage(context, 503, { next, username, error: 'Sign-in is unavailable right now: the limiter store cannot be reached. Try again shortly.' });
      }
      if (outcome !== false && 'blocked' in outcome) {
        audit.warn({ client_address: address, retry_after_seconds: outcome.blocked }, 'sign-in blocked');
        return signInPage(
          context,
          429,
          { next, username, error: `Too many failed sign-ins. Wait ${outcome.blocked} s and try again.` },
          { 'retry-after': String(outcome.blocked) },
        );
      }
      if (outcome === false) {
        audit.info({ client_address: address }, 'sign-in failed');
        return signInPage(context, 401, { next, username, error: 'Wrong username or password.' });
      }
      const token = await sessions.start(outcome.id);
      audit.info({ user: outcome.username, client_address: address }, 'signed in');
      return redirect(next, { 'set-cookie': sessionCookie(token, sessions.settings.maxAgeMs, context.secure) });
    }),

    kit.signedInPage('POST', '/admin/logout', async (context) => {
      await sessions.end(context.session.token);
      return redirect('/admin/login?signed_out=1', { 'set-cookie': sessionCookie('', 0, context.secure) });
    }),
  ];
}
