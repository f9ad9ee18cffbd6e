// A batch of request events survives the trip through one stream entry field for field.
import t from 'tap';
import { parseRequestEventEntry, requestEventEntryFields, type RequestEvent } from '../request-event.js';

function event(id: string, extra: Partial<RequestEvent> = {}): RequestEvent {
  return { id, timeMs: 1_764_000_000_000, keyId: 'key_a', tier: 'free', route: 'api', method: 'GET', status: 200, durationMs: 1.25, limited: false, ...extra };
}

t.test('events of several keys, routes, statuses and times come back as they were sent', async (t) => {
  const events = [
    event('g.1'),
    event('g.2', { status: 429, limited: true, durationMs: 0.004 }),
    event('g.3', { keyId: 'key_b', tier: 'pro', timeMs: 1_764_000_000_001 }),
    event('g.4', { keyId: 'key_b', tier: 'pro', route: null, status: 404, timeMs: 1_764_000_000_001 }),
    event('g.5', { keyId: null, tier: null, route: null, method: 'POST', status: 401, timeMs: 1_764_000_000_007 }),
    event('g.6'),
  ];
  const parsed = parseRequestEventEntry(requestEventEntryFields(events));
  t.equal(parsed.invalid, 0);
  t.same(parsed.events, events);
});

t.test('a tab or newline in a configured name cannot split an event', async (t) => {
  const events = [event('g.1', { tier: 'odd\ttier', route: 'odd\nroute' }), event('g.2')];
  const parsed = parseRequestEventEntry(requestEventEntryFields(events));
  t.equal(parsed.invalid, 0);
  t.same(parsed.events.map((e) => [e.id, e.tier, e.route]), [['g.1', 'odd tier', 'odd route'], ['g.2', 'free', 'api']]);
});

t.test('durations keep three decimals', async (t) => {
  const parsed = parseRequestEventEntry(requestEventEntryFields([event('g.1', { durationMs: 12.345678 })]));
  t.equal(parsed.events[0]?.durationMs, 12.346);
});
