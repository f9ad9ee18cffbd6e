// The request-event sink of the embedded mode: no Redis between gateway and control plane,
// so batches go straight to a function the composition root provides (the control plane's
// request-log insert). Same queueing, batching and drop accounting as the Redis batcher.
import type { Logger } from 'pino';
import type { RequestEvent } from '../../../contracts/request-event.js';
import { createBatchingSink, NO_EVENTS, type BatchingSink } from './batching-sink.js';

export interface InProcessSinkOptions {
  /** Stores one batch; rejects to have it retried. Must be idempotent on event id. */
  readonly deliver: (batch: readonly RequestEvent[]) => Promise<void>;
  readonly logger: Logger;
  readonly maxBatch?: number;
  readonly flushIntervalMs?: number;
  readonly maxBuffered?: number;
  readonly sendTimeoutMs?: number;
  readonly closeTimeoutMs?: number;
  readonly onDrop?: (count: number) => void;
}

export function createInProcessRequestEventSink(options: InProcessSinkOptions): BatchingSink {
  const { deliver, ...rest } = options;
  return createBatchingSink({
    ...rest,
    async send(batch) {
      await deliver(batch);
      return NO_EVENTS;
    },
  });
}
