import t from 'tap';
import { startTestApp } from '../helpers/test-app.js';
import type { Db } from '../../src/db.js';
import { insertRequestEvents } from '../../src/request-logs/repository.js';
import { requestLogRoutes } from '../../src/request-logs/routes.js';
import { createRequestLogService } from '../../src/request-logs/service.js';
import { makeEvent } from '../log-writer/support.js';

// The app is built before its database handle exists; the service finds it at call time.
const late: { db?: Db } = {};
const ctx = await startTestApp('request_logs', {
  extraRoutes: () =>
    requestLogRoutes({
      list: (options) => createRequestLogService(late.db as Db).list(options),
    }),
});
late.db = ctx.db;
t.teardown(() => ctx.close());

const base = Date.parse('2026-11-26T03:00:00.000Z');
const MINUTE = 60_000;
// 60 rows: 3 keys, statuses 200/429/502, routes a/b, one a minute going back from `base`.
const events = Array.from({ length: 60 }, (_, index) =>
  makeEvent({
    timeMs: base - index * MINUTE,
    keyId: ['key_one', 'key_two', 'key_three'][index % 3] ?? null,
    tier: 'free',
    route: index % 2 === 0 ? 'a' : 'b',
    status: [200, 429, 502][index % 3] ?? 200,
    limited: index % 3 === 1,
    durationMs: index / 4,
  }),
);
// Three a shadow-mode limit would have refused (forwarded: 200), on a route and key of their own.
for (const minutesAgo of [30.5, 40.5, 50.5]) {
  events.push(makeEvent({ timeMs: base - minutesAgo * MINUTE, keyId: 'key_shadow', route: 'c', status: 200, shadowLimited: true, limitedBy: '1m' }));
}
// Two events in the same millisecond: the cursor must tell them apart.
events.push(makeEvent({ timeMs: base - 7 * MINUTE, keyId: 'key_tie', route: 'a', status: 200 }));
events.push(makeEvent({ timeMs: base - 7 * MINUTE, keyId: 'key_tie', route: 'a', status: 200 }));
await insertRequestEvents(ctx.db, events);

t.test('request logs are listed newest first with ISO 8601 UTC times', async (t) => {
  const response = await ctx.call('GET', '/v1/request-logs?limit=5');
  t.equal(response.status, 200);
  t.equal(response.body.items.length, 5);
  t.same(response.body.items[0], {
    time: new Date(base).toISOString(),
    key_id: 'key_one',
    tier: 'free',
    route: 'a',
    method: 'GET',
    status: 200,
    duration_ms: 0,
    limited: false,
    client_ip: '127.0.0.1',
    limited_by: null,
    shadow_limited: false,
  });
  const times = response.body.items.map((item: { time: string }) => Date.parse(item.time));
  t.same(times, [...times].sort((a, b) => b - a));
  t.match(response.body.items[0].time, /Z$/);
  t.type(response.body.next_cursor, 'string');
});

t.test('filters by key, status, route and time range', async (t) => {
  const byKey = await ctx.call('GET', '/v1/request-logs?key_id=key_two&limit=500');
  t.equal(byKey.body.items.length, 20);
  t.ok(byKey.body.items.every((item: { key_id: string }) => item.key_id === 'key_two'));
  t.equal(byKey.body.next_cursor, null);

  const byStatus = await ctx.call('GET', '/v1/request-logs?status=429&limit=500');
  t.equal(byStatus.body.items.length, 20);
  t.ok(byStatus.body.items.every((item: { status: number; limited: boolean }) => item.status === 429 && item.limited));

  const byRoute = await ctx.call('GET', '/v1/request-logs?route=b&status=200&limit=500');
  t.ok(byRoute.body.items.every((item: { route: string; status: number }) => item.route === 'b' && item.status === 200));
  t.equal(byRoute.body.items.length, events.filter((e) => e.route === 'b' && e.status === 200).length);

  const from = new Date(base - 10 * MINUTE).toISOString();
  const to = new Date(base - 5 * MINUTE).toISOString();
  const byTime = await ctx.call('GET', `/v1/request-logs?from=${from}&to=${to}&limit=500`);
  t.equal(byTime.body.items.length, 7, 'from is inclusive, to exclusive (minutes 10..6 plus the two ties)');
  const offset = await ctx.call('GET', `/v1/request-logs?from=${encodeURIComponent('2026-11-26T04:50:00+02:00')}&limit=500`);
  t.equal(offset.body.items.length, 13, 'a time with an offset is understood (minutes 10..0 plus the two ties)');
});

/** Every row of a filtered list, following next_cursor from page to page. */
async function allPages(query: string, pageSize: number): Promise<{ time: string; limited: boolean; shadow_limited: boolean; key_id: string }[]> {
  const items = [];
  let cursor: string | null = null;
  do {
    const response = await ctx.call('GET', `/v1/request-logs?${query}&limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`);
    items.push(...response.body.items);
    cursor = response.body.next_cursor;
  } while (cursor);
  return items;
}

t.test('limited=true lists only the requests a limit refused, newest first, across pages', async (t) => {
  const items = await allPages('limited=true', 6);
  const expected = events.filter((event) => event.limited).map((event) => event.timeMs).sort((a, b) => b - a);
  t.equal(items.length, 20);
  t.ok(items.every((item) => item.limited));
  t.same(items.map((item) => Date.parse(item.time)), expected, 'each once, newest first');
});

t.test('shadow_limited=true lists only the requests a shadow-mode limit would have refused', async (t) => {
  const response = await ctx.call('GET', '/v1/request-logs?shadow_limited=true&limit=500');
  t.same(response.body.items.map((item: { key_id: string; shadow_limited: boolean; limited: boolean }) => [item.key_id, item.shadow_limited, item.limited]), [
    ['key_shadow', true, false],
    ['key_shadow', true, false],
    ['key_shadow', true, false],
  ]);
});

t.test('limited=false and shadow_limited=false together leave out every request a limit refused or would have', async (t) => {
  const response = await ctx.call('GET', '/v1/request-logs?limited=false&shadow_limited=false&limit=500');
  t.equal(response.body.items.length, events.filter((event) => !event.limited && !event.shadowLimited).length);
  t.ok(response.body.items.every((item: { limited: boolean; shadow_limited: boolean }) => !item.limited && !item.shadow_limited));
});

t.test('the limited filter combines with the others', async (t) => {
  const response = await ctx.call('GET', '/v1/request-logs?limited=true&route=b&limit=500');
  t.equal(response.body.items.length, events.filter((event) => event.limited && event.route === 'b').length);
  t.ok(response.body.items.every((item: { limited: boolean; route: string }) => item.limited && item.route === 'b'));
});

t.test('pages with a cursor neither skip nor repeat rows while new rows arrive', async (t) => {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `&cursor=${cursor}` : '';
    const response = await ctx.call('GET', `/v1/request-logs?limit=7&from=${new Date(base - 59 * MINUTE).toISOString()}${query}`);
    t.equal(response.status, 200);
    for (const item of response.body.items) seen.push(`${item.time}|${item.key_id}|${item.status}|${item.route}`);
    cursor = response.body.next_cursor;
    pages += 1;
    // A newer row lands between pages; it belongs before page one, so it changes nothing here.
    if (pages === 2) await insertRequestEvents(ctx.db, [makeEvent({ timeMs: base + MINUTE, route: 'late' })]);
  } while (cursor && pages < 20);
  t.equal(seen.length, events.length, 'every row once');
  t.equal(pages, Math.ceil(events.length / 7));
});

t.test('unknown query parameters and invalid filters answer 400 naming the field', async (t) => {
  const unknown = await ctx.call('GET', '/v1/request-logs?colour=red');
  t.equal(unknown.status, 400);
  t.equal(unknown.headers.get('content-type'), 'application/problem+json');
  t.same(unknown.body.errors, [{ path: 'colour', message: 'unknown field' }]);
  for (const [query, field] of [
    ['status=abc', 'status'],
    ['from=yesterday', 'from'],
    ['to=2026-11-26T03:00:00', 'to'],
    ['limit=501', 'limit'],
    ['cursor=nonsense', 'cursor'],
    ['limited=yes', 'limited'],
    ['shadow_limited=1', 'shadow_limited'],
    [`from=${new Date(base).toISOString()}&to=${new Date(base - MINUTE).toISOString()}`, 'from'],
  ] as const) {
    const response = await ctx.call('GET', `/v1/request-logs?${query}`);
    t.equal(response.status, 400, query);
    t.equal(response.body.errors?.[0]?.path, field, query);
  }
});

t.test('request logs need the admin token', async (t) => {
  const response = await ctx.call('GET', '/v1/request-logs', undefined, { authorization: 'Bearer wrong' });
  t.equal(response.status, 401);
});

t.test('the OpenAPI document describes the request-log filters', async (t) => {
  const response = await ctx.call('GET', '/openapi.json');
  const operation = response.body.paths['/v1/request-logs']?.get;
  t.ok(operation, 'the path is documented');
  const names = (operation.parameters ?? []).map((parameter: { name: string }) => parameter.name).sort();
  t.same(names, ['cursor', 'from', 'key_id', 'limit', 'limited', 'route', 'shadow_limited', 'status', 'to']);
});
