import t from 'tap';
import { limitsSchema, parseDurationSeconds, tierNameSchema, toWindowLimits } from '../limits.js';

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
  t.notOk(limitsSchema.safeParse([{ window: '1m', limit: 5, burst: 2 }]).success);
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
