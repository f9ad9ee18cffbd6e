// Stream entries this gateway added that the request-log writers have not read yet. Until a writer
// reads them they exist only in Redis, and a Redis that comes back without its data (restarted
// without its append-only file, a crash losing the last second of it, a failover to an empty
// replica) loses them: the requests they record would never get their rows. So the gateway keeps a
// copy of each entry it added until the writers' group has read past it (checked every second),
// and whenever its connection comes back (a restarted Redis always drops it) it looks each kept
// entry up and adds the missing ones again. A second copy of an entry is harmless: the writer
// inserts each event once (ON CONFLICT on the event's id).
//
// Kept as the entry's encoded fields (about 100 bytes an event); at most `maxEvents` events, beyond
// which the oldest copies are let go (they are still in Redis, only unprotected).
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface UnreadEntriesOptions {
  readonly redis: Redis | Cluster;
  readonly stream: string;
  /** The writers' consumer group (REQUEST_EVENT_GROUP). */
  readonly group: string;
  readonly logger: Logger;
  /** Events kept at most (default 100 000). */
  readonly maxEvents?: number;
  /** How often the group's progress and the stream are checked (default 1000 ms). */
  readonly intervalMs?: number;
}

export interface UnreadEntries {
  /** An entry this gateway added: its id, its fields as sent, its event count and its MAXLEN. */
  keep(id: string, fields: readonly string[], events: number, maxEntries: number): void;
  /** Lets go of the copies of what the writers have read. */
  forgetRead(): Promise<void>;
  /** Adds again the kept entries that are not in the stream. */
  restoreLost(): Promise<void>;
  /** Events kept now. */
  readonly events: number;
  close(): void;
}

interface KeptEntry {
  id: string;
  readonly fields: readonly string[];
  readonly events: number;
  readonly maxEntries: number;
}

/** Stream ids are `<ms>-<seq>`; compared as numbers, part by part. */
/** Kept entries looked up per pipeline. */
const LOOKUP_CHUNK = 1000;

export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs === bMs ? aSeq - bSeq : aMs - bMs;
}

/** `last-delivered-id` of `group` from an XINFO GROUPS reply; null when there is no such group. */
function lastDeliveredId(reply: unknown, group: string): string | null {
  if (!Array.isArray(reply)) return null;
  for (const fields of reply as unknown[][]) {
    const info = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
    if (info.get('name') === group) {
      const id = info.get('last-delivered-id');
      return typeof id === 'string' ? id : null;
    }
  }
  return null;
}

export function watchUnreadEntries(options: UnreadEntriesOptions): UnreadEntries {
  const { redis, stream, group, logger } = options;
  const maxEvents = options.maxEvents ?? 100_000;
  let kept: KeptEntry[] = [];
  let events = 0;
  let checking = false;
  // Lost connections so far. A reply to a command sent before the last one may come from a Redis
  // that restarted meanwhile (ioredis sends unanswered commands again), whose group is another.
  let connection = 0;
  const onClose = (): void => {
    connection += 1;
  };
  redis.on('close', onClose);

  async function readByWriters(): Promise<string | null> {
    try {
      return lastDeliveredId(await redis.xinfo('GROUPS', stream), group);
    } catch (error) {
      // No stream at all: nothing was read from it.
      if (String((error as Error).message).includes('no such key')) return null;
      throw error;
    }
  }

  async function restoreLost(): Promise<void> {
    // Entries kept from now on were added to this Redis.
    const snapshot = kept.slice();
    const asked = connection;
    let lostEntries = 0;
    let lostEvents = 0;
    for (let start = 0; start < snapshot.length; start += LOOKUP_CHUNK) {
      const chunk = snapshot.slice(start, start + LOOKUP_CHUNK);
      const pipeline = redis.pipeline();
      for (const entry of chunk) pipeline.xrange(stream, entry.id, entry.id);
      const replies = (await pipeline.exec()) ?? [];
      // Lost again meanwhile: the next 'ready' looks everything up anew.
      if (asked !== connection) break;
      for (const [index, entry] of chunk.entries()) {
        const [error, found] = replies[index] ?? [null, null];
        if (error !== null || !Array.isArray(found) || found.length > 0) continue;
        const id = await redis.xadd(stream, 'MAXLEN', '~', entry.maxEntries, '*', ...entry.fields);
        if (id !== null) entry.id = id;
        lostEntries += 1;
        lostEvents += entry.events;
      }
    }
    if (lostEntries > 0) logger.warn({ entries: lostEntries, events: lostEvents }, 'request events lost by redis: adding them again');
  }

  async function forgetRead(): Promise<void> {
    const asked = connection;
    const delivered = await readByWriters();
    if (delivered === null || asked !== connection) return;
    // The group reads in id order: everything up to its last-delivered-id has been read. (Entries
    // added again have new ids, so `kept` is not always in id order.)
    kept = kept.filter((entry) => {
      if (compareStreamIds(entry.id, delivered) > 0) return true;
      events -= entry.events;
      return false;
    });
  }

  // One at a time: a lookup and a pruning must not interleave their view of `kept` mid-way.
  let running: Promise<void> = Promise.resolve();
  const serially = (task: () => Promise<void>, what: string): void => {
    running = running.then(task).catch((error: unknown) => logger.debug({ err: error }, what));
  };
  const onReady = (): void => {
    if (kept.length > 0) serially(restoreLost, 'lost request events not looked up');
  };
  redis.on('ready', onReady);

  const timer = setInterval(() => {
    // Commands would only wait in the offline queue while Redis is away.
    if (checking || kept.length === 0 || redis.status !== 'ready') return;
    checking = true;
    serially(
      () =>
        forgetRead().finally(() => {
          checking = false;
        }),
      'request-log progress not read',
    );
  }, options.intervalMs ?? 1000);
  timer.unref();

  return {
    keep(id, fields, count, maxEntries) {
      kept.push({ id, fields, events: count, maxEntries });
      events += count;
      let over = 0;
      while (events > maxEvents && over < kept.length - 1) {
        events -= (kept[over] as KeptEntry).events;
        over += 1;
      }
      if (over > 0) kept = kept.slice(over);
    },
    forgetRead,
    restoreLost,
    get events() {
      return events;
    },
    close() {
      clearInterval(timer);
      redis.off('ready', onReady);
      redis.off('close', onClose);
    },
  };
}
