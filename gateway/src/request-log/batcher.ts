// The gateway's Redis request-event sink: events queued by the hot path go to the capped stream
// `requestEventStream(prefix)` as one pipeline of XADD per batch, never awaited by a request.
// While Redis is down they wait in the bounded queue; the 'ready' event sends them on reconnect.
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  DEFAULT_REQUEST_EVENT_STREAM_MAX_LENGTH,
  encodeRequestEventFields,
  type RequestEvent,
} from '../../../contracts/request-event.js';
import { requestEventStream } from '../../../contracts/redis-keys.js';
import { createBatchingSink, NO_EVENTS, type BatchingSink } from './batching-sink.js';

export interface RequestLogBatcherOptions {
  readonly redis: Redis | Cluster;
  readonly prefix: string;
  readonly logger: Logger;
  /** Events per pipeline (default 500). */
  readonly maxBatch?: number;
  /** How often the queue is sent when no batch fills up (default 100 ms). */
  readonly flushIntervalMs?: number;
  /** Events kept while Redis is away (default 100 000); the oldest beyond it are dropped. */
  readonly maxBuffered?: number;
  /** Approximate cap of the stream (default 1 000 000 entries). */
  readonly streamMaxLength?: number;
  readonly sendTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  /** Count of dropped events, for tollgate_gateway_request_log_dropped_total. */
  readonly onDrop?: (count: number) => void;
}

export type RequestLogBatcher = BatchingSink;

export function createRequestLogBatcher(options: RequestLogBatcherOptions): RequestLogBatcher {
  const { redis, logger } = options;
  const stream = requestEventStream(options.prefix);
  const maxLength = String(options.streamMaxLength ?? DEFAULT_REQUEST_EVENT_STREAM_MAX_LENGTH);

  async function send(batch: RequestEvent[]): Promise<readonly RequestEvent[]> {
    const pipeline = redis.pipeline();
    const args: (string | number)[] = [];
    for (const event of batch) {
      args.length = 0;
      args.push('MAXLEN', '~', maxLength, '*');
      encodeRequestEventFields(event, args);
      pipeline.xadd(stream, ...args);
    }
    const results = await pipeline.exec();
    if (!results) return batch;
    let failed: RequestEvent[] | null = null;
    for (let i = 0; i < results.length; i += 1) {
      if (results[i]?.[0]) (failed ??= []).push(batch[i] as RequestEvent);
    }
    if (failed) logger.warn({ err: results.find((entry) => entry[0])?.[0], events: failed.length }, 'xadd failed');
    return failed ?? NO_EVENTS;
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
      redis.off('ready', onReady);
    },
  };
}
