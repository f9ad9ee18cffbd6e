// Day and month windows count per calendar period in the tier's time zone and reset at local
// midnight (on the first for a month), daylight-saving changes included. The clock is injected: the
// admission step works out the period from it, and the in-memory store counts with the same clock.
import t from 'tap';
import { pino } from 'pino';
import { toWindowLimits, type Limit } from '../../../contracts/limits.js';
import { tierView } from '../../../test-support/views.js';
import { Admission } from '../../src/admission.js';
import { buildTierRecord } from '../../src/keys/cache.js';
import type { KeyRecord } from '../../src/keys/key-record.js';
import { MemoryStore } from '../../src/limiter/memory-store.js';
import { createGatewayMetrics } from '../../src/metrics.js';
import { createRouter, type Route } from '../../src/proxy/routes.js';

const ROUTE = createRouter([{ name: 'all', prefix: '/', upstream: 'http://127.0.0.1:1', stripPrefix: false, cost: 1 }]).routes[0] as Route;

function setup(limits: Limit[], timezone: string, startIso: string) {
  let now = Date.parse(startIso);
  const store = new MemoryStore({ now: () => now });
  t.teardown(() => store.close());
  const admission = new Admission({
    store,
    failureMode: 'closed',
    metrics: createGatewayMetrics({ activeKeysByTier: () => new Map(), configVersion: () => 0, redisUp: () => true, upstreams: () => new Map() }),
    logger: pino({ level: 'silent' }),
    deniedCache: false,
    clock: () => now,
  });
  const key: KeyRecord = {
    id: `key_calendar_${Math.random().toString(36).slice(2)}`,
    tier: buildTierRecord(tierView({ name: 'calendar', limits, timezone })),
    limits: toWindowLimits(limits),
    mode: 'enforce',
    active: true,
    expiresAtMs: null,
  };
  const decide = () =>
    new Promise<{ admitted: boolean; headers: Record<string, string> }>((resolve) => {
      const collect = (list: string[]) => Object.fromEntries(list.flatMap((_, i) => (i % 2 === 0 ? [[list[i], list[i + 1]]] : [])));
      admission.decide(key, ROUTE, {
        forward: (headers) => resolve({ admitted: true, headers: collect(headers) }),
        refuse: (_problem, headers) => resolve({ admitted: false, headers: collect(headers) }),
      });
    });
  return { decide, setClock: (iso: string) => (now = Date.parse(iso)) };
}

t.test('a day limit resets at local midnight on the day clocks go forward (a 23-hour day)', async (t) => {
  // Paris moves from UTC+1 to UTC+2 at 02:00 on 29 March 2026.
  const { decide, setClock } = setup([{ window: 'day', limit: 2 }], 'Europe/Paris', '2026-03-29T00:30:00+01:00');
  t.ok((await decide()).admitted);
  t.ok((await decide()).admitted);
  const refused = await decide();
  t.notOk(refused.admitted);
  t.equal(refused.headers['ratelimit-policy'], '"day";q=2;w=82800', 'the window is the 23 hours of that day');
  t.equal(refused.headers.ratelimit, '"day";r=0;t=81000', 'reset at midnight, 22.5 hours away');
  t.equal(refused.headers['retry-after'], '81000');
  setClock('2026-03-29T23:59:59+02:00');
  t.notOk((await decide()).admitted, 'one second before local midnight');
  setClock('2026-03-30T00:00:00+02:00');
  t.ok((await decide()).admitted, 'at local midnight the day starts afresh');
});

t.test('a day limit on the day clocks go back lasts 25 hours', async (t) => {
  // Paris moves from UTC+2 to UTC+1 at 03:00 on 25 October 2026.
  const { decide } = setup([{ window: 'day', limit: 1 }], 'Europe/Paris', '2026-10-25T12:00:00+01:00');
  t.ok((await decide()).admitted);
  const refused = await decide();
  t.equal(refused.headers['ratelimit-policy'], '"day";q=1;w=90000');
  t.equal(refused.headers.ratelimit, '"day";r=0;t=43200', 'twelve hours to midnight');
});

t.test('a month limit resets on the first at local midnight, not at midnight UTC', async (t) => {
  const { decide, setClock } = setup(
    [
      { window: '1h', limit: 100 },
      { window: 'month', limit: 3 },
    ],
    'America/New_York',
    '2026-01-31T20:00:00-05:00',
  );
  for (let i = 0; i < 3; i += 1) t.ok((await decide()).admitted);
  const refused = await decide();
  t.notOk(refused.admitted);
  t.equal(refused.headers['ratelimit-policy'], '"1h";q=100;w=3600, "month";q=3;w=2678400', 'January: 31 days');
  t.match(refused.headers.ratelimit, /, "month";r=0;t=14400$/, 'four hours to February');
  setClock('2026-02-01T00:30:00Z');
  t.notOk((await decide()).admitted, 'past midnight UTC it is still January in New York');
  setClock('2026-02-01T00:00:00-05:00');
  const february = await decide();
  t.ok(february.admitted, 'the first of February, local midnight');
  t.match(february.headers['ratelimit-policy'], /"month";q=3;w=2419200$/, 'February: 28 days');
});
