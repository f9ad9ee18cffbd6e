// The control plane with its admin UI on port 0: a database of the test file's own, the limiter
// scripts and the gateways' registry on the machine's Redis under a key prefix of the file's own, a
// clock tests can move forward (session expiry), and a first admin user.
import { Redis } from 'ioredis';
import { createLimiterScripts } from '../../../../contracts/lua/scripts.js';
import { uniquePrefix } from '../../../../test-support/redis-server.js';
import { createAdminUi, type AdminUi } from '../../../src/admin-ui/admin-ui.js';
import { TrustedProxies } from '../../../../contracts/trusted-proxies.js';
import type { AppDeps } from '../../../src/app.js';
import { redisFleetSource } from '../../../src/gateways/redis-fleet-source.js';
import { gatewayRoutes } from '../../../src/gateways/routes.js';
import { createGatewayService } from '../../../src/gateways/service.js';
import { requestLogRoutes } from '../../../src/request-logs/routes.js';
import { createRequestLogService } from '../../../src/request-logs/service.js';
import { usageRoutes } from '../../../src/usage/routes.js';
import { createUsageService } from '../../../src/usage/service.js';
import { cleanPrefix, REDIS_URL } from '../../log-writer/support.js';
import { startTestApp, type TestApp } from '../../helpers/test-app.js';

export const ADMIN_USER = 'operator';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** Real time plus an offset the test can raise. */
export class MovableClock {
  offsetMs = 0;
  readonly now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface AdminTestApp extends TestApp {
  readonly clock: MovableClock;
  readonly adminUi: AdminUi;
  readonly redis: Redis;
  /** The file's Redis key prefix: gateways' heartbeats written under it are listed. */
  readonly prefix: string;
}

export interface AdminTestAppOptions {
  readonly trustedProxies?: string;
  readonly idleMs?: number;
  readonly maxAgeMs?: number;
  /** Create ADMIN_USER (default true). */
  readonly firstUser?: boolean;
  /** Also serve GET /v1/request-logs, GET /v1/keys/{id}/usage and /v1/gateways, as the real control plane does. */
  readonly restRoutes?: boolean;
  readonly httpTimeouts?: AppDeps['httpTimeouts'];
}

export async function startAdminTestApp(label: string, options: AdminTestAppOptions = {}): Promise<AdminTestApp> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = uniquePrefix(label);
  const scripts = createLimiterScripts(redis, prefix);
  const clock = new MovableClock();
  let adminUi: AdminUi | undefined;
  const ctx = await startTestApp(label, {
    clock: clock.now,
    withDb: (db, logger) => {
      const usage = createUsageService({ db, scripts, clock: clock.now });
      const requestLogs = createRequestLogService(db);
      const gateways = createGatewayService(redisFleetSource(redis, prefix), () => clock.now().getTime());
      adminUi = createAdminUi({
        db,
        clock: clock.now,
        logger,
        usage,
        requestLogs,
        gateways,
        signInLimiter: scripts,
        trustedProxies: TrustedProxies.parse(options.trustedProxies ?? ''),
        session: { idleMs: options.idleMs ?? 30 * 60_000, maxAgeMs: options.maxAgeMs ?? 12 * 3_600_000 },
      });
      return {
        pages: adminUi.pages,
        errorPage: adminUi.errorPage,
        ...(options.restRoutes ? { extraRoutes: () => [...requestLogRoutes(requestLogs), ...usageRoutes(usage), ...gatewayRoutes(gateways)] } : {}),
      };
    },
    ...(options.httpTimeouts ? { httpTimeouts: options.httpTimeouts } : {}),
  });
  const ui = adminUi as AdminUi;
  if (options.firstUser !== false) await ui.ensureFirstUser({ username: ADMIN_USER, password: ADMIN_PASSWORD });
  return {
    ...ctx,
    clock,
    adminUi: ui,
    redis,
    prefix,
    async close() {
      await ctx.close();
      await cleanPrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
