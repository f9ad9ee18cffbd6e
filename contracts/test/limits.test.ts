import t from 'tap';
import { limitsSchema, parseDurationSeconds, tierNameSchema, tierPolicyIssues, timezoneSchema, toWindowLimits } from '../limits.js';

t.test('durations are read in seconds, minutes, hours and days', async (t) => {
  t.equal(parseDurationSeconds('30s'), 30);
  t.equal(parseDurationSeconds('1m'), 60);
  t.equal(parseDurationSeconds('1h'), 3600);
  t.equal(parseDurationSeconds('30d'), 30 * 86400);
  t.equal(parseDurationSeconds('1w'), null);
  t.equal(parseDurationSeconds('0s'), null);
});

t.test('windows from 1s to 31d are accepted and others refused', async (t) => {
  t.ok(limitsSchema.safeParse([{ window: '1s', limit: 1 }]).success);
  t.ok(limitsSchema.safeParse([{ window: '31d', limit: 1 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: '32d', limit: 1 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: '745h', limit: 1 }]).success);
});

t.test('a limit below 1, a fraction or an unknown field is refused', async (t) => {
  t.notOk(limitsSchema.safeParse([{ window: '1m', limit: 0 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: '1m', limit: 1.5 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: '1m', limit: 5, shape: 2 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: '1m', limit: 5, burst: 0 }]).success, 'a burst below 1');
  t.notOk(limitsSchema.safeParse([]).success);
});

t.test('two limits on the same window are refused even when written differently', async (t) => {
  const result = limitsSchema.safeParse([{ window: '60s', limit: 5 }, { window: '1m', limit: 9 }]);
  t.notOk(result.success);
  t.same(result.error?.issues[0]?.path, [1, 'window']);
});

t.test('tier names follow the documented pattern', async (t) => {
  t.ok(tierNameSchema.safeParse('free').success);
  t.ok(tierNameSchema.safeParse('pro_2-eu').success);
  t.notOk(tierNameSchema.safeParse('Free').success);
  t.notOk(tierNameSchema.safeParse('-free').success);
  t.notOk(tierNameSchema.safeParse('a'.repeat(64)).success);
});

t.test('window limits come sorted by window length', async (t) => {
  const sorted = toWindowLimits([{ window: '1h', limit: 100 }, { window: '1s', limit: 2 }]);
  t.same(sorted.map((item) => item.windowSeconds), [1, 3600]);
});

t.test('day and month are calendar windows, one limit each, sorted after the durations they outlast', async (t) => {
  t.ok(limitsSchema.safeParse([{ window: 'day', limit: 1000 }, { window: 'month', limit: 20000 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: 'week', limit: 1 }]).success);
  t.notOk(limitsSchema.safeParse([{ window: 'day', limit: 1 }, { window: 'day', limit: 2 }]).success);
  const sorted = toWindowLimits([{ window: 'month', limit: 3 }, { window: '1h', limit: 2 }, { window: 'day', limit: 1 }]);
  t.same(
    sorted.map((item) => [item.name, item.calendar, item.windowSeconds]),
    [
      ['1h', null, 3600],
      ['day', 'day', 0],
      ['month', 'month', 0],
    ],
  );
});

t.test("a route's limits are named <route>:<window> and counted apart from the key's", async (t) => {
  const [limit] = toWindowLimits([{ window: '1m', limit: 10 }], '/reports');
  t.has(limit, { name: '/reports:1m', window: '1m', scope: 'r:/reports' });
  t.equal(toWindowLimits([{ window: '1m', limit: 10 }])[0]?.scope, '');
});

t.test('a burst belongs to GCRA limits over a duration, and nowhere else', async (t) => {
  t.same(tierPolicyIssues({ limits: [{ window: '1m', limit: 60, burst: 10 }], algorithm: 'gcra' }), []);
  t.same(tierPolicyIssues({ limits: [{ window: '1m', limit: 60, burst: 10 }], algorithm: 'sliding_window' }), [
    { path: ['limits', 0, 'burst'], message: 'burst applies only to gcra tiers' },
  ]);
  t.same(tierPolicyIssues({ limits: [{ window: 'month', limit: 60, burst: 10 }], algorithm: 'gcra' }), [
    { path: ['limits', 0, 'burst'], message: 'burst applies only to duration windows, not day or month' },
  ]);
  t.same(tierPolicyIssues({ limits: [{ window: '1m', limit: 1 }], algorithm: 'sliding_log', route_limits: { reports: [{ window: '1m', limit: 1, burst: 1 }] } }), [
    { path: ['route_limits', 'reports', 0, 'burst'], message: 'burst applies only to gcra tiers' },
  ]);
});

t.test('time zones are IANA names this runtime knows', async (t) => {
  t.ok(timezoneSchema.safeParse('Europe/Paris').success);
  t.ok(timezoneSchema.safeParse('UTC').success);
  t.notOk(timezoneSchema.safeParse('Mars/Olympus').success);
  t.notOk(timezoneSchema.safeParse('').success);
});
