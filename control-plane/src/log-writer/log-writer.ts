// The request-log writer: reads the gateways' event stream as one consumer of the
// group `log-writer`, writes each batch to request_log in one idempotent INSERT, and acks only after
// the commit. Several control planes may run it at once (one consumer each). Events left pending by
// a consumer that died are claimed after `claimMinIdleMs`, so nothing is lost and, because the
// insert skips known (time, event_id), nothing is doubled. While PostgreSQL is down the batch is
// retried with backoff and nothing is acked. What every group has acked is trimmed from the stream
// (stream-trim.ts), at most once per `trimIntervalMs`.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import { REQUEST_EVENT_GROUP, requestEventStream } from '../../../contracts/redis-keys.js';
import type { RequestEvent } from '../../../contracts/request-event.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db.js';
import { insertRequestEvents, touchLastUsed } from '../request-logs/repository.js';
import { entriesFromAutoClaim, entriesFromReadGroup, type StreamEntry } from './stream-entries.js';
import { trimAcknowledged } from './stream-trim.js';

export const LOG_WRITER_GROUP = REQUEST_EVENT_GROUP;

export interface CounterLike {
  inc(value?: number): void;
}
export interface GaugeLike {
  set(value: number): void;
}

export interface LogWriterOptions {
  readonly redis: Redis | Cluster;
  readonly db: Db;
  readonly prefix: string;
  readonly logger: Logger;
  /** tollgate_control_plane_request_log_rows_total */
  readonly rowsTotal: CounterLike;
  /** tollgate_control_plane_request_log_lag_seconds */
  readonly lagSeconds: GaugeLike;
  readonly clock?: Clock;
  /** Unique per process; defaults to host-pid-random. */
  readonly consumerName?: string;
  /** Stream entries per read (each holds up to one gateway batch of events). */
  readonly readCount?: number;
  /** Rows per INSERT statement. */
  readonly insertChunkRows?: number;
  readonly blockMs?: number;
  /** Pending entries idle this long belong to a dead (or stuck) consumer and are taken over. */
  readonly claimMinIdleMs?: number;
  readonly claimIntervalMs?: number;
  readonly maxBackoffMs?: number;
  /** Consumers with nothing pending and idle this long are removed from the group (restarts). */
  readonly forgetConsumerIdleMs?: number;
  /** How often acknowledged entries are trimmed from the stream; 0: never. */
  readonly trimIntervalMs?: number;
  /** An insert or last_used_at update not settled by then counts as failed (default 15 000 ms). */
  readonly attemptTimeoutMs?: number;
}

/** A database call that did not settle within the writer's budget. */
export class DatabaseCallTimeoutError extends Error {
  readonly code = 'DATABASE_CALL_TIMEOUT';
  constructor(what: string, timeoutMs: number) {
    super(`${what} did not settle within ${timeoutMs} ms`);
    this.name = 'DatabaseCallTimeoutError';
  }
}

export interface LogWriter {
  readonly consumerName: string;
  /** Creates the group if needed and starts the read loop; never fails for Redis being away. */
  start(): Promise<void>;
  /** Stops reading; a batch being written is finished (or left pending for another writer). */
  close(): Promise<void>;
}

export function createLogWriter(options: LogWriterOptions): LogWriter {
  const { redis, db, logger, rowsTotal, lagSeconds } = options;
  const clock = options.clock ?? (() => new Date());
  const stream = requestEventStream(options.prefix);
  const consumerName = options.consumerName ?? `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const readCount = options.readCount ?? 10;
  const insertChunkRows = options.insertChunkRows ?? 1000;
  const blockMs = options.blockMs ?? 1000;
  const claimMinIdleMs = options.claimMinIdleMs ?? 10_000;
  const claimIntervalMs = options.claimIntervalMs ?? 5000;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const forgetConsumerIdleMs = options.forgetConsumerIdleMs ?? 3_600_000;
  const trimIntervalMs = options.trimIntervalMs ?? 1000;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 15_000;

  /**
   * `call`, or a DatabaseCallTimeoutError once it has run for `attemptTimeoutMs`. After PostgreSQL
   * restarted, postgres.js sometimes never settled a query on a connection it had handed out, and
   * the writer waited on it forever; the insert is idempotent, so giving up and retrying is safe.
   */
  function withinBudget<T>(what: string, call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseCallTimeoutError(what, attemptTimeoutMs)), attemptTimeoutMs);
    });
    // Should the abandoned call fail later, nobody is waiting for it.
    call.catch(() => {});
    return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
  }

  // XREADGROUP BLOCK holds its connection: it gets one of its own.
  const reader: Redis | Cluster = redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
  reader.on('error', () => {
    // Reconnects by itself; failures surface as rejected reads below.
  });
  let closing = false;
  let loop: Promise<void> | null = null;
  let wake: (() => void) | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  async function ensureGroup(): Promise<void> {
    try {
      // From 0: events gateways wrote before the first control plane started are logged too.
      await redis.xgroup('CREATE', stream, LOG_WRITER_GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
  }

  /** Writes until committed (or closing); acks only what is committed. */
  async function writeEntries(entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const events: RequestEvent[] = [];
    const lastSeen = new Map<string, number>();
    let newestMs = 0;
    let invalid = 0;
    for (const entry of entries) {
      invalid += entry.invalid;
      for (const event of entry.events) {
        events.push(event);
        if (event.timeMs > newestMs) newestMs = event.timeMs;
        if (event.keyId !== null && (lastSeen.get(event.keyId) ?? 0) < event.timeMs) lastSeen.set(event.keyId, event.timeMs);
      }
    }
    if (invalid > 0) logger.warn({ entries: invalid }, 'request log entries skipped: not request events');
    let backoffMs = 200;
    let inserted = 0;
    // Chunks keep each INSERT under PostgreSQL's parameter limit; a chunk that committed before a
    // failure is inserted again as a no-op.
    for (let start = 0; start < events.length; ) {
      try {
        inserted += await withinBudget('request log insert', insertRequestEvents(db, events.slice(start, start + insertChunkRows)));
        start += insertChunkRows;
        backoffMs = 200;
      } catch (error) {
        if (closing) return;
        logger.warn({ err: error, events: events.length, retry_in_ms: backoffMs }, 'request log insert failed');
        await sleep(backoffMs);
        if (closing) return;
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
    rowsTotal.inc(inserted);
    if (newestMs > 0) lagSeconds.set(Math.max(0, (clock().getTime() - newestMs) / 1000));
    try {
      await redis.xack(stream, LOG_WRITER_GROUP, ...entries.map((entry) => entry.streamId));
    } catch (error) {
      // Not acked means redelivered later; the insert skips the rows then.
      logger.warn({ err: error }, 'request log ack failed');
    }
    try {
      await withinBudget('last_used_at update', touchLastUsed(db, lastSeen));
    } catch (error) {
      logger.warn({ err: error }, 'last_used_at update failed');
    }
  }

  async function claimStale(): Promise<void> {
    let cursor = '0-0';
    do {
      const reply = await redis.xautoclaim(stream, LOG_WRITER_GROUP, consumerName, claimMinIdleMs, cursor, 'COUNT', readCount);
      const claimed = entriesFromAutoClaim(reply);
      if (claimed.entries.length > 0) {
        logger.info({ entries: claimed.entries.length }, 'claimed pending request events');
        await writeEntries(claimed.entries);
      }
      cursor = claimed.cursor;
    } while (cursor !== '0-0' && !closing);
  }

  /** Every restart adds a consumer name; drop the ones that are long gone and hold nothing. */
  async function forgetDeadConsumers(): Promise<void> {
    const consumers = (await redis.xinfo('CONSUMERS', stream, LOG_WRITER_GROUP)) as unknown[][];
    for (const fields of consumers) {
      const info = new Map<unknown, unknown>();
      for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
      const name = info.get('name');
      if (typeof name !== 'string' || name === consumerName) continue;
      if (info.get('pending') === 0 && Number(info.get('idle')) >= forgetConsumerIdleMs) {
        await redis.xgroup('DELCONSUMER', stream, LOG_WRITER_GROUP, name);
      }
    }
  }

  /** A failed trim is tried again at the next interval; it never holds up writing. */
  async function trim(): Promise<void> {
    try {
      const removed = await trimAcknowledged(redis, stream);
      if (removed > 0) logger.debug({ entries: removed }, 'acknowledged request events trimmed');
    } catch (error) {
      logger.debug({ err: error }, 'request event trim failed');
    }
  }

  async function readNew(): Promise<StreamEntry[]> {
    const reply = await reader.xreadgroup(
      'GROUP',
      LOG_WRITER_GROUP,
      consumerName,
      'COUNT',
      readCount,
      'BLOCK',
      blockMs,
      'STREAMS',
      stream,
      '>',
    );
    return entriesFromReadGroup(reply);
  }

  async function run(groupMissing: boolean): Promise<void> {
    let nextClaimAt = 0;
    let nextForgetAt = 0;
    let nextTrimAt = 0;
    let backoffMs = 200;
    let needGroup = groupMissing;
    while (!closing) {
      try {
        if (needGroup) {
          await ensureGroup();
          needGroup = false;
        }
        if (Date.now() >= nextClaimAt) {
          await claimStale();
          nextClaimAt = Date.now() + claimIntervalMs;
        }
        if (Date.now() >= nextForgetAt) {
          await forgetDeadConsumers();
          nextForgetAt = Date.now() + Math.max(claimIntervalMs, Math.min(forgetConsumerIdleMs / 6, 600_000));
        }
        const entries = await readNew();
        if (entries.length > 0) await writeEntries(entries);
        else lagSeconds.set(0);
        if (trimIntervalMs > 0 && Date.now() >= nextTrimAt) {
          await trim();
          nextTrimAt = Date.now() + trimIntervalMs;
        }
        backoffMs = 200;
      } catch (error) {
        if (closing) break;
        // Redis restarted empty: the stream and its group are gone.
        if (String((error as Error).message).includes('NOGROUP')) needGroup = true;
        logger.warn({ err: error, retry_in_ms: backoffMs }, 'request log read failed');
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
  }

  return {
    consumerName,
    async start() {
      let haveGroup = true;
      try {
        await ensureGroup();
      } catch (error) {
        // Redis away at start: the loop keeps trying.
        logger.warn({ err: error }, 'request log group not created yet');
        haveGroup = false;
      }
      loop = run(!haveGroup);
    },
    async close() {
      closing = true;
      wake?.();
      // Ends a pending XREADGROUP BLOCK at once.
      reader.disconnect();
      await loop;
    },
  };
}
