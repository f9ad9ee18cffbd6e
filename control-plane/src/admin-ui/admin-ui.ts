// The admin web UI (/admin) and the API reference (/docs), as routes for the control plane's route
// table. Built from the same services as the REST API, plus what only people need: admin users,
// sessions, the sign-in limit.
import type { AppServices } from '../app.js';
import { createSessionService, type SessionSettings } from '../admin-sessions/service.js';
import { createAdminUserService, type AdminUserService } from '../admin-users/service.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { MethodNotAllowedError, NotFoundError } from '../http/errors.js';
import type { Reply, Route } from '../http/router.js';
import type { TrustedProxies } from '../../../contracts/trusted-proxies.js';
import type { GatewayService } from '../gateways/service.js';
import type { Logger } from '../log.js';
import type { RequestLogService } from '../request-logs/service.js';
import type { UsageService } from '../usage/service.js';
import { createPageKit } from './page-route.js';
import { auditRoutes } from './pages/audit-log.js';
import { gatewayRoutes } from './pages/gateways.js';
import { keyRoutes } from './pages/keys.js';
import { publicFileRoutes } from './pages/public-files.js';
import { requestLogRoutes } from './pages/request-logs.js';
import { signInRoutes } from './pages/sign-in.js';
import { tierRoutes } from './pages/tiers.js';
import { errorPage } from './responses.js';
import { createSignInLimit, type SignInLimiterStore } from './sign-in-limit.js';

const RECOMMENDED_PASSWORD_LENGTH = 12;

export interface AdminUiDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly usage: UsageService;
  readonly requestLogs: RequestLogService;
  /** The gateways' heartbeats, as GET /v1/gateways lists them. */
  readonly gateways: GatewayService;
  /** The limiter that counts failed sign-ins: Redis scripts, or the embedded store's adapter. */
  readonly signInLimiter: SignInLimiterStore;
  readonly trustedProxies: TrustedProxies;
  readonly session: SessionSettings;
}

export interface AdminUi {
  readonly users: AdminUserService;
  /** Creates ADMIN_USER with ADMIN_PASSWORD when there is no admin user yet (call at start). */
  ensureFirstUser(first: { readonly username: string; readonly password: string } | null): Promise<void>;
  /** Pass as createApp's `pages`. */
  pages(services: AppServices): Route[];
  /** Pass as createApp's `errorPage`: HTML for paths under /admin and /docs. */
  errorPage(pathname: string, error: unknown): Reply | undefined;
}

export function createAdminUi(deps: AdminUiDeps): AdminUi {
  const logger = deps.logger.child({ component: 'admin-ui' });
  const users = createAdminUserService({ db: deps.db, clock: deps.clock });
  const sessions = createSessionService({ db: deps.db, clock: deps.clock, settings: deps.session });
  const kit = createPageKit({ sessions, trust: deps.trustedProxies, logger });
  const limit = createSignInLimit(deps.signInLimiter);

  return {
    users,
    async ensureFirstUser(first) {
      if (first === null) return;
      if (first.password.length < RECOMMENDED_PASSWORD_LENGTH) {
        logger.warn({ user: first.username }, `ADMIN_PASSWORD is shorter than ${RECOMMENDED_PASSWORD_LENGTH} characters`);
      }
      if (await users.ensureFirstUser(first.username, first.password)) logger.info({ user: first.username }, 'first admin user created');
    },
    pages(services) {
      return [
        ...publicFileRoutes({ kit }),
        ...signInRoutes({ kit, users, sessions, limit, trust: deps.trustedProxies, logger }),
        ...keyRoutes({ kit, services, sessions, usage: deps.usage, clock: deps.clock }),
        ...tierRoutes({ kit, services }),
        ...requestLogRoutes({ kit, requestLogs: deps.requestLogs, clock: deps.clock }),
        ...auditRoutes({ kit, services }),
        ...gatewayRoutes({ kit, gateways: deps.gateways, clock: deps.clock }),
      ];
    },
    errorPage(pathname, error) {
      if (!/^\/(admin|docs)(\/|$)/.test(pathname)) return undefined;
      if (error instanceof NotFoundError) {
        return errorPage(404, 'Not found', 'There is no such page. Check the address, or start again from the keys.', null);
      }
      if (error instanceof MethodNotAllowedError) {
        return errorPage(405, 'Not allowed', 'This page cannot be used that way.', null, { allow: error.allowed.join(', ') });
      }
      return kit.failure(error, null);
    },
  };
}
