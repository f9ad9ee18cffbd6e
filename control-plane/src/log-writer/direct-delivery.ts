// The embedded mode's log transport: the gateway's in-process sink hands batches straight
// to this function instead of a Redis Stream. Same insert and same metrics as the stream writer; a
// rejected promise makes the sink keep the batch and retry it.
import type { Logger } from 'pino';
import type { RequestEvent } from '../../../contracts/request-event.js';
import { systemClock, type Clock } from '../clock.js';
import type { Db } from '../db.js';
import { insertRequestEvents, touchLastUsed } from '../request-logs/repository.js';
import type { CounterLike, GaugeLike } from './log-writer.js';

export interface DirectDeliveryOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly rowsTotal: CounterLike;
  readonly lagSeconds: GaugeLike;
  readonly clock?: Clock;
}

export function createDirectRequestLogDelivery(
  options: DirectDeliveryOptions,
): (batch: readonly RequestEvent[]) => Promise<void> {
  const { db, logger, rowsTotal, lagSeconds, clock = systemClock } = options;
  return async (batch) => {
    const inserted = await insertRequestEvents(db, batch);
    rowsTotal.inc(inserted);
    const lastSeen = new Map<string, number>();
    let newestMs = 0;
    for (const event of batch) {
      if (event.timeMs > newestMs) newestMs = event.timeMs;
      if (event.keyId !== null && (lastSeen.get(event.keyId) ?? 0) < event.timeMs) lastSeen.set(event.keyId, event.timeMs);
    }
    if (newestMs > 0) lagSeconds.set(Math.max(0, (clock().getTime() - newestMs) / 1000));
    try {
      await touchLastUsed(db, lastSeen);
    } catch (error) {
      logger.warn({ err: error }, 'last_used_at update failed');
    }
  };
}
