// The part of every request-event sink that runs beside the hot path: `record` only queues; a timer
// (or a full batch) sends the queue in batches, one send at a time. Failed events go back to the
// front of the bounded queue and are retried; beyond `maxBuffered` the oldest are dropped and counted.
// Delivery is at least once: a send that timed out may still land, so the writer dedupes on event id.
import type { Logger } from 'pino';
import type { RequestEvent, RequestEventSink } from '../../../contracts/request-event.js';
import { EventQueue } from './event-queue.js';

/** Sends one batch; resolves to the events that were not delivered (empty when all were). */
export type SendBatch = (batch: RequestEvent[]) => Promise<readonly RequestEvent[]>;

export interface BatchingSinkOptions {
  readonly send: SendBatch;
  /** False while the transport is known to be down: events wait in the queue. */
  readonly isReady?: () => boolean;
  readonly logger: Logger;
  readonly maxBatch?: number;
  readonly flushIntervalMs?: number;
  readonly maxBuffered?: number;
  /** A send that has not settled by then counts as failed (its events are sent again later). */
  readonly sendTimeoutMs?: number;
  /** How long close() keeps trying to deliver what is left. */
  readonly closeTimeoutMs?: number;
  /** Called with the number of events dropped (queue full, or close gave up). */
  readonly onDrop?: (count: number) => void;
}

export interface BatchingSink extends RequestEventSink {
  /** Sends what is queued now (a no-op while a send is in flight or the transport is down). */
  flush(): Promise<void>;
  readonly buffered: number;
}

const NO_EVENTS: readonly RequestEvent[] = [];

export function createBatchingSink(options: BatchingSinkOptions): BatchingSink {
  const maxBatch = options.maxBatch ?? 500;
  const flushIntervalMs = options.flushIntervalMs ?? 100;
  const sendTimeoutMs = options.sendTimeoutMs ?? 5000;
  const closeTimeoutMs = options.closeTimeoutMs ?? 5000;
  const isReady = options.isReady ?? (() => true);
  const onDrop = options.onDrop ?? (() => {});
  const { send, logger } = options;
  const queue = new EventQueue(Math.max(options.maxBuffered ?? 100_000, maxBatch));

  let inFlight: Promise<void> | null = null;
  let scheduled = false;
  let closed = false;
  let failing = false;

  async function sendWithTimeout(batch: RequestEvent[]): Promise<readonly RequestEvent[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<readonly RequestEvent[]>((resolve) => {
      timer = setTimeout(() => resolve(batch), sendTimeoutMs);
    });
    try {
      return await Promise.race([send(batch).catch((error: unknown) => failed(batch, error)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  function failed(batch: RequestEvent[], error: unknown): readonly RequestEvent[] {
    if (!failing) logger.warn({ err: error, events: batch.length }, 'request log send failed');
    return batch;
  }

  // One batch per flush, then more only while full ones wait: what arrives during a send waits for
  // the next tick, so a steady load costs one XADD per interval, not one per round trip.
  async function drain(): Promise<void> {
    let first = true;
    while ((first ? queue.size > 0 : queue.size >= maxBatch) && isReady()) {
      first = false;
      const batch = queue.take(maxBatch);
      const left = await sendWithTimeout(batch);
      if (left.length > 0) {
        if (!failing) logger.warn({ events: left.length, buffered: queue.size }, 'request log delivery delayed');
        failing = true;
        const dropped = queue.unshiftAll(left);
        if (dropped > 0) onDrop(dropped);
        return;
      }
      if (failing) logger.info({ buffered: queue.size }, 'request log delivery resumed');
      failing = false;
    }
  }

  function flush(): Promise<void> {
    scheduled = false;
    if (inFlight) return inFlight;
    if (queue.size === 0) return Promise.resolve();
    inFlight = drain().finally(() => {
      inFlight = null;
    });
    return inFlight;
  }

  function flushSoon(): void {
    void flush();
  }

  const timer = setInterval(flushSoon, flushIntervalMs);
  timer.unref();

  return {
    record(event: RequestEvent): void {
      if (closed) {
        onDrop(1);
        return;
      }
      if (queue.push(event) !== 0) onDrop(1);
      if (!scheduled && inFlight === null && queue.size >= maxBatch) {
        scheduled = true;
        setImmediate(flushSoon);
      }
    },
    flush,
    get buffered() {
      return queue.size;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const deadline = Date.now() + closeTimeoutMs;
      while (queue.size > 0 || inFlight) {
        await flush();
        if (queue.size === 0 || Date.now() >= deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (queue.size > 0) {
        const lost = queue.take(queue.size).length;
        logger.warn({ events: lost }, 'request log events dropped at close');
        onDrop(lost);
      }
    },
  };
}

export { NO_EVENTS };
