// A batch of request events survives the trip through one stream entry field for field.
import t from 'tap';
import { parseRequestEventEntry, requestEventEntryFields, type RequestEvent } from '../request-event.js';

function event(id: string, extra: Partial<RequestEvent> = {}): RequestEvent {
  return { id, timeMs: 1_764_000_000_000, keyId: 'key_a', tier: 'free', route: 'api', method: 'GET', status: 200, durationMs: 1.25, limited: false, clientIp: '203.0.113.7', limitedBy: null, shadowLimited: false, ...extra };
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

t.test('an entry in the first format (before client addresses) is still read', async (t) => {
  const line = 'g.9\t1764000000000\tkey_a\tfree\tapi\tGET\t429\t0.5\t1';
  const parsed = parseRequestEventEntry(['v', '1', 'e', `${line}\n`]);
  t.equal(parsed.invalid, 0);
  t.same(parsed.events, [event('g.9', { status: 429, durationMs: 0.5, limited: true, clientIp: null })]);
});

t.test('a line with a field too many or too few for its format is skipped, not misread', async (t) => {
  const good = requestEventEntryFields([event('g.10')])[3] as string;
  const parsed = parseRequestEventEntry(['v', '2', 'e', `${good}${good.trim()}\textra\n`]);
  t.equal(parsed.events.length, 1);
  t.equal(parsed.invalid, 1);
});
