// Usage of one key: its effective limits (the key's override or its tier's, plus its tier's route
// limits) peeked in Redis with the limiter's read-only script — nothing is consumed — its requests
// in flight when the tier caps them, and its request totals and refusals from request_log.
import { CalendarPeriods } from '../../../contracts/calendar.js';
import { toWindowLimits, wholeSeconds, type Algorithm, type Mode, type WindowLimit } from '../../../contracts/limits.js';
import type { LimiterScripts, ScriptReply } from '../../../contracts/lua/scripts.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db.js';
import { ApiError, NotFoundError } from '../http/errors.js';
import { findKey } from '../keys/repository.js';
import { countByStatusSince, countLimitedSince, lastLimitedSince } from '../request-logs/repository.js';
import { findTier } from '../tiers/repository.js';
import type { Usage } from './schema.js';

export class UsageUnavailableError extends ApiError {
  constructor(cause: unknown) {
    super(503, 'limiter-store-unavailable', 'the limiter store cannot be read right now', { cause });
  }
}

export interface UsageServiceDeps {
  readonly db: Db;
  /** createLimiterScripts(redis, prefix): only its `peek` is used. */
  readonly scripts: Pick<LimiterScripts, 'peek'>;
  readonly clock?: Clock;
}

export interface UsageService {
  get(keyId: string): Promise<Usage>;
}

const HOUR_MS = 3_600_000;

export function createUsageService({ db, scripts, clock = systemClock }: UsageServiceDeps): UsageService {
  const periods = new CalendarPeriods();

  return {
    async get(keyId) {
      const key = await findKey(db, keyId);
      if (!key) throw new NotFoundError(`no key with id ${keyId}`);
      const tier = await findTier(db, key.tier);
      const algorithm = (tier?.algorithm ?? 'sliding_window') as Algorithm;
      const timezone = tier?.timezone ?? 'UTC';
      const limits = toWindowLimits(key.limits ?? tier?.limits ?? []);
      for (const [route, own] of Object.entries(tier?.route_limits ?? {})) limits.push(...toWindowLimits(own, route));
      const concurrency = tier?.concurrency ?? null;
      const now = clock().getTime();
      const peek = (): Promise<ScriptReply | null> =>
        limits.length === 0 && concurrency === null
          ? Promise.resolve(null)
          : scripts
              .peek([
                {
                  subject: key.id,
                  algorithm,
                  limits,
                  periods: limits.map((limit) => (limit.calendar === null ? null : periods.period(limit.calendar, timezone, now))),
                  cost: 0,
                  ...(concurrency === null ? {} : { concurrency: { limit: concurrency, leaseMs: 60_000, id: 'peek' } }),
                },
              ])
              .then(
                (replies) => replies[0] ?? null,
                (error: unknown) => {
                  throw new UsageUnavailableError(error);
                },
              );
      const hourAgo = new Date(now - HOUR_MS);
      const dayAgo = new Date(now - 24 * HOUR_MS);
      const [peeked, lastHour, lastDay, limitedHour, limitedDay, lastLimited] = await Promise.all([
        peek(),
        countByStatusSince(db, key.id, hourAgo),
        countByStatusSince(db, key.id, dayAgo),
        countLimitedSince(db, key.id, hourAgo),
        countLimitedSince(db, key.id, dayAgo),
        lastLimitedSince(db, key.id, dayAgo),
      ]);
      return {
        key_id: key.id,
        tier: key.tier,
        mode: (key.mode ?? tier?.mode ?? 'enforce') as Mode,
        limits: limits.map((limit, index) => usageOf(limit, peeked, index)),
        concurrency: concurrency === null ? null : { limit: concurrency, in_flight: peeked?.inFlight ?? 0 },
        last_limited: lastLimited && { time: lastLimited.time.toISOString(), limited_by: lastLimited.limitedBy, shadow: lastLimited.shadow },
        totals: { last_hour: totals(lastHour, limitedHour), last_day: totals(lastDay, limitedDay) },
      };
    },
  };
}

function usageOf(limit: WindowLimit, peeked: ScriptReply | null, index: number): Usage['limits'][number] {
  const remaining = peeked?.remaining[index] ?? limit.limit;
  return {
    name: limit.name,
    route: limit.scope === '' ? null : limit.scope.slice('r:'.length),
    window: limit.window,
    limit: limit.limit,
    ...(limit.burst === null ? {} : { burst: limit.burst }),
    used: Math.max(0, (limit.burst ?? limit.limit) - remaining),
    remaining,
    reset_seconds: wholeSeconds(peeked?.resetMs[index] ?? 0),
  };
}

function totals(byStatus: ReadonlyMap<number, number>, limited: { limitedBy: ReadonlyMap<string, number>; shadowLimited: number }): Usage['totals']['last_hour'] {
  let total = 0;
  const counts: Record<string, number> = {};
  for (const [status, count] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
    counts[String(status)] = count;
    total += count;
  }
  const limitedBy: Record<string, number> = {};
  for (const [name, count] of [...limited.limitedBy.entries()].sort(([a], [b]) => a.localeCompare(b))) limitedBy[name] = count;
  return { total, by_status: counts, limited_by: limitedBy, shadow_limited: limited.shadowLimited };
}
