import t from 'tap';
import pino from 'pino';
import { createRequestEventIds, type RequestEvent } from '../../../contracts/request-event.js';
import { EventQueue } from '../../src/request-log/event-queue.js';
import { createInProcessRequestEventSink } from '../../src/request-log/in-process-sink.js';

const logger = pino({ level: 'silent' });
const nextId = createRequestEventIds();

function event(): RequestEvent {
  return {
    id: nextId(),
    timeMs: Date.now(),
    keyId: 'key_abc',
    tier: 'free',
    route: null,
    method: 'GET',
    status: 200,
    durationMs: 1,
    limited: false,
    clientIp: '127.0.0.1',
    limitedBy: null,
    shadowLimited: false,
  };
}

t.test('the event queue keeps the newest events in order when full', async (t) => {
  const queue = new EventQueue(3);
  const events = Array.from({ length: 5 }, () => event());
  const dropped = events.reduce((sum, item) => sum + queue.push(item), 0);
  t.equal(dropped, 2);
  t.same(queue.take(10), events.slice(2));
  t.equal(queue.size, 0);
});

t.test('events put back after a failed send go before newer ones, oldest dropped first', async (t) => {
  const queue = new EventQueue(4);
  const events = Array.from({ length: 6 }, () => event());
  for (const item of events.slice(0, 3)) queue.push(item);
  const batch = queue.take(3);
  for (const item of events.slice(3, 5)) queue.push(item);
  t.equal(queue.unshiftAll(batch), 1, 'one of the failed batch does not fit');
  t.same(queue.take(10), [events[1], events[2], events[3], events[4]]);
});

t.test('the in-process sink delivers every event once, retrying a failed delivery', async (t) => {
  const delivered: RequestEvent[] = [];
  let failures = 1;
  const sink = createInProcessRequestEventSink({
    logger,
    maxBatch: 7,
    flushIntervalMs: 10,
    async deliver(batch) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('database away');
      }
      delivered.push(...batch);
    },
  });
  const events = Array.from({ length: 40 }, () => event());
  for (const item of events) sink.record(item);
  await sink.close();
  t.same(delivered, events);
});
