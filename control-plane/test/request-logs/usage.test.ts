import t from 'tap';
import { Redis } from 'ioredis';
import { toWindowLimits } from '../../../contracts/limits.js';
import { createLimiterScripts } from '../../../contracts/lua/scripts.js';
import { uniquePrefix } from '../../../test-support/redis-server.js';
import type { Db } from '../../src/db.js';
import { insertRequestEvents } from '../../src/request-logs/repository.js';
import { usageRoutes } from '../../src/usage/routes.js';
import { createUsageService } from '../../src/usage/service.js';
import { startTestApp, uniqueName } from '../helpers/test-app.js';
import { cleanPrefix, makeEvent, REDIS_URL } from '../log-writer/support.js';

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const prefix = uniquePrefix('usage');
const scripts = createLimiterScripts(redis, prefix);
// The app is built before its database handle exists; the service finds it at call time.
const late: { db?: Db } = {};
const ctx = await startTestApp('usage', {
  extraRoutes: () => usageRoutes({ get: (id) => createUsageService({ db: late.db as Db, scripts }).get(id) }),
});
late.db = ctx.db;
t.teardown(async () => {
  await ctx.close();
  await cleanPrefix(redis, prefix);
  redis.disconnect();
});

const tierLimits = [
  { window: '1h', limit: 100 },
  { window: '1m', limit: 5 },
];

async function createKey(limits?: { window: string; limit: number }[], tierFields: Record<string, unknown> = {}): Promise<string> {
  const tier = uniqueName('usage');
  const created = await ctx.call('POST', '/v1/tiers', { name: tier, limits: tierLimits, ...tierFields });
  if (created.status !== 201) throw new Error(`tier: ${created.text}`);
  const key = await ctx.call('POST', '/v1/keys', { name: 'usage', tier, ...(limits ? { limits } : {}) });
  if (key.status !== 201) throw new Error(`key: ${key.text}`);
  return key.body.id as string;
}

/** Spends units the way the gateway does, through the same script. */
async function spend(keyId: string, limits: { window: string; limit: number }[], times: number): Promise<void> {
  for (let index = 0; index < times; index += 1) {
    await scripts.consume([{ subject: keyId, algorithm: 'sliding_window', limits: toWindowLimits(limits), cost: 1 }]);
  }
}

t.test("usage shows each limit's used and remaining units and consumes nothing", async (t) => {
  const keyId = await createKey();
  await spend(keyId, tierLimits, 3);
  const first = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.equal(first.status, 200);
  t.same(
    first.body.limits.map((item: { window: string; limit: number; used: number; remaining: number }) => ({
      window: item.window,
      limit: item.limit,
      used: item.used,
      remaining: item.remaining,
    })),
    [
      { window: '1m', limit: 5, used: 3, remaining: 2 },
      { window: '1h', limit: 100, used: 3, remaining: 97 },
    ],
  );
  for (const item of first.body.limits) t.ok(item.reset_seconds >= 1, `${item.window} has a reset time`);
  const again = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.same(
    again.body.limits.map((item: { used: number }) => item.used),
    [3, 3],
    'reading usage twice consumes nothing',
  );
});

t.test("a key's own limits replace its tier's in usage", async (t) => {
  const own = [{ window: '10s', limit: 2 }];
  const keyId = await createKey(own);
  await spend(keyId, own, 2);
  const response = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.same(
    response.body.limits.map((item: { window: string; used: number; remaining: number }) => [item.window, item.used, item.remaining]),
    [['10s', 2, 0]],
  );
});

t.test('usage counts the requests of the last hour and day by status', async (t) => {
  const keyId = await createKey();
  const now = Date.now();
  await insertRequestEvents(ctx.db, [
    makeEvent({ keyId, status: 200, timeMs: now - 1000 }),
    makeEvent({ keyId, status: 200, timeMs: now - 2000 }),
    makeEvent({ keyId, status: 429, limited: true, limitedBy: '1m', timeMs: now - 3000 }),
    makeEvent({ keyId, status: 200, timeMs: now - 3 * 3_600_000 }),
    makeEvent({ keyId, status: 502, timeMs: now - 2 * 86_400_000 }),
    makeEvent({ keyId: 'key_other', status: 200, timeMs: now - 1000 }),
  ]);
  const response = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.same(response.body.totals, {
    last_hour: { total: 3, by_status: { '200': 2, '429': 1 }, limited_by: { '1m': 1 }, shadow_limited: 0 },
    last_day: { total: 4, by_status: { '200': 3, '429': 1 }, limited_by: { '1m': 1 }, shadow_limited: 0 },
  });
});

t.test('usage names the limit that refused the latest limited request, and counts refusals per limit', async (t) => {
  const keyId = await createKey();
  const now = Date.now();
  await insertRequestEvents(ctx.db, [
    makeEvent({ keyId, status: 429, limited: true, limitedBy: '1m', timeMs: now - 5000 }),
    makeEvent({ keyId, status: 429, limited: true, limitedBy: 'reports:1m', timeMs: now - 4000 }),
    makeEvent({ keyId, status: 200, limitedBy: '1h', shadowLimited: true, timeMs: now - 3000 }),
    makeEvent({ keyId, status: 200, timeMs: now - 1000 }),
  ]);
  const response = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.same(response.body.last_limited, { time: new Date(now - 3000).toISOString(), limited_by: '1h', shadow: true });
  t.same(response.body.totals.last_hour.limited_by, { '1m': 1, 'reports:1m': 1 });
  t.equal(response.body.totals.last_hour.shadow_limited, 1);
});

t.test("usage lists a tier's route limits by their item names and the requests in flight under its cap", async (t) => {
  const keyId = await createKey(undefined, { concurrency: 3, route_limits: { reports: [{ window: '1m', limit: 10 }] } });
  await scripts.consume([
    {
      subject: keyId,
      algorithm: 'sliding_window',
      limits: toWindowLimits([{ window: '1m', limit: 10 }], 'reports'),
      cost: 4,
      concurrency: { limit: 3, leaseMs: 60_000, id: 'usage-test' },
    },
  ]);
  const response = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.equal(response.status, 200);
  t.same(
    response.body.limits.map((item: { name: string; route: string | null; used: number }) => [item.name, item.route, item.used]),
    [
      ['1m', null, 0],
      ['1h', null, 0],
      ['reports:1m', 'reports', 4],
    ],
  );
  t.same(response.body.concurrency, { limit: 3, in_flight: 1 });
  t.equal(response.body.mode, 'enforce');
});

t.test("usage of a GCRA tier's key shows the burst, and of a shadow key its mode", async (t) => {
  const keyId = await createKey(undefined, { algorithm: 'gcra', limits: [{ window: '1m', limit: 60, burst: 10 }], mode: 'shadow' });
  const response = await ctx.call('GET', `/v1/keys/${keyId}/usage`);
  t.has(response.body.limits[0], { name: '1m', limit: 60, burst: 10, used: 0, remaining: 10 });
  t.equal(response.body.mode, 'shadow');
});

t.test('usage of an unknown key answers 404', async (t) => {
  const response = await ctx.call('GET', '/v1/keys/key_doesnotexist/usage');
  t.equal(response.status, 404);
  t.equal(response.headers.get('content-type'), 'application/problem+json');
});
