// The gateway's Redis request-event sink: events queued by the hot path go to the capped stream
// `requestEventStream(prefix)` as one XADD per batch (contracts/request-event.ts packs a batch into
// one entry), never awaited by a request.
// While Redis is down they wait in the bounded queue; the 'ready' event sends them on reconnect.
// Once sent, a copy is kept until the writers have read the entry (unread-entries.ts), so a Redis
// that comes back without its data gets them again.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  DEFAULT_REQUEST_EVENT_STREAM_MAX_EVENTS,
  requestEventEntryFields,
  type RequestEvent,
} from '../../../contracts/request-event.js';
import { REQUEST_EVENT_GROUP, requestEventStream } from '../../../contracts/redis-keys.js';
import { createBatchingSink, NO_EVENTS, type BatchingSink } from './batching-sink.js';
import { watchUnreadEntries } from './unread-entries.js';

export interface RequestLogBatcherOptions {
  readonly redis: Redis | Cluster;
  readonly prefix: string;
  readonly logger: Logger;
  /** Events per stream entry (default 500). */
  readonly maxBatch?: number;
  /** How often the queue is sent when no batch fills up (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Events kept while Redis is away (default 100 000); the oldest beyond it are dropped. */
  readonly maxBuffered?: number;
  /** Approximate cap of the stream in events (default 1 000 000). */
  readonly streamMaxEvents?: number;
  readonly sendTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  /** Count of dropped events, for tollgate_gateway_request_log_dropped_total. */
  readonly onDrop?: (count: number) => void;
  /** How often the writers' progress is checked, to let go of the copies they have read (default 1000 ms). */
  readonly unreadCheckIntervalMs?: number;
}

export type RequestLogBatcher = BatchingSink;

export function createRequestLogBatcher(options: RequestLogBatcherOptions): RequestLogBatcher {
  const { redis, logger } = options;
  const stream = requestEventStream(options.prefix);
  const maxEvents = options.streamMaxEvents ?? DEFAULT_REQUEST_EVENT_STREAM_MAX_EVENTS;
  const unread = watchUnreadEntries({
    redis,
    stream,
    group: REQUEST_EVENT_GROUP,
    logger,
    maxEvents: options.maxBuffered,
    intervalMs: options.unreadCheckIntervalMs,
  });

  async function send(batch: RequestEvent[]): Promise<readonly RequestEvent[]> {
    // MAXLEN counts entries; sized from this batch, the stream holds about `maxEvents` events.
    const maxEntries = Math.max(1, Math.ceil(maxEvents / batch.length));
    const fields = requestEventEntryFields(batch);
    const id = await redis.xadd(stream, 'MAXLEN', '~', maxEntries, '*', ...fields);
    if (id !== null) unread.keep(id, fields, batch.length, maxEntries);
    return NO_EVENTS;
  }

  const sink = createBatchingSink({
    send,
    // 'wait' is a lazyConnect client that connects on its first command.
    isReady: () => redis.status === 'ready' || redis.status === 'wait',
    logger,
    maxBatch: options.maxBatch,
    flushIntervalMs: options.flushIntervalMs,
    maxBuffered: options.maxBuffered,
    sendTimeoutMs: options.sendTimeoutMs,
    closeTimeoutMs: options.closeTimeoutMs,
    onDrop: options.onDrop,
  });

  const onReady = (): void => {
    void sink.flush();
  };
  redis.on('ready', onReady);

  return {
    record: sink.record,
    flush: sink.flush,
    get buffered() {
      return sink.buffered;
    },
    async close() {
      await sink.close();
      unread.close();
      redis.off('ready', onReady);
    },
  };
}
