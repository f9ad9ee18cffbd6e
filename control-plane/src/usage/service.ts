// Usage of one key: its effective limits (the key's override or its tier's) peeked in Redis with
// the limiter's read-only script — nothing is consumed — and its request totals from request_log.
import { toWindowLimits, wholeSeconds, type Algorithm } from '../../../contracts/limits.js';
import type { LimiterScripts } from '../../../contracts/lua/scripts.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db.js';
import { ApiError, NotFoundError } from '../http/errors.js';
import { findKey } from '../keys/repository.js';
import { countByStatusSince } from '../request-logs/repository.js';
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
  return {
    async get(keyId) {
      const key = await findKey(db, keyId);
      if (!key) throw new NotFoundError(`no key with id ${keyId}`);
      const tier = await findTier(db, key.tier);
      const limits = toWindowLimits(key.limits ?? tier?.limits ?? []);
      const algorithm = (tier?.algorithm ?? 'sliding_window') as Algorithm;
      const now = clock().getTime();
      const [peeked, lastHour, lastDay] = await Promise.all([
        limits.length === 0
          ? Promise.resolve(null)
          : scripts.peek([{ keyId: key.id, algorithm, limits, cost: 0 }]).then(
              (replies) => replies[0] ?? null,
              (error: unknown) => {
                throw new UsageUnavailableError(error);
              },
            ),
        countByStatusSince(db, key.id, new Date(now - HOUR_MS)),
        countByStatusSince(db, key.id, new Date(now - 24 * HOUR_MS)),
      ]);
      return {
        key_id: key.id,
        tier: key.tier,
        limits: limits.map((limit, index) => {
          const remaining = peeked?.remaining[index] ?? limit.limit;
          return {
            window: limit.window,
            limit: limit.limit,
            used: Math.max(0, limit.limit - remaining),
            remaining,
            reset_seconds: wholeSeconds(peeked?.resetMs[index] ?? 0),
          };
        }),
        totals: { last_hour: totals(lastHour), last_day: totals(lastDay) },
      };
    },
  };
}

function totals(byStatus: ReadonlyMap<number, number>): Usage['totals']['last_hour'] {
  let total = 0;
  const counts: Record<string, number> = {};
  for (const [status, count] of [...byStatus.entries()].sort(([a], [b]) => a - b)) {
    counts[String(status)] = count;
    total += count;
  }
  return { total, by_status: counts };
}
