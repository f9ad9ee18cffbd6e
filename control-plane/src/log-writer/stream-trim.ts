// Removes from the request-event stream what every consumer group is done with, so Redis holds the
// backlog, not past traffic (the gateways' MAXLEN cap alone keeps up to a million events).
//
// An entry may go once it was delivered to a group and acknowledged there: ids below the group's
// oldest pending entry, or, with nothing pending, up to its last delivered id. Those bounds only
// ever rise (acks shrink the pending list, reads move the last delivered id on, a claim moves an
// entry between consumers without acking it), so a bound read a moment ago is still safe when
// XTRIM runs, and several control planes may trim at once. Entries not yet read are never below
// it, nor is anything while a group holds it pending: a crashed writer's entries stay until they
// are claimed and written.
import type { Cluster, Redis } from 'ioredis';

type StreamId = readonly [bigint, bigint];

function parseId(id: string): StreamId | null {
  const match = /^(\d+)-(\d+)$/.exec(id);
  return match ? [BigInt(match[1] as string), BigInt(match[2] as string)] : null;
}

function lower(a: StreamId, b: StreamId): StreamId {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]) ? a : b;
}

function fieldsOf(reply: unknown): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  if (!Array.isArray(reply)) return fields;
  for (let index = 0; index + 1 < reply.length; index += 2) fields.set(String(reply[index]), reply[index + 1]);
  return fields;
}

/** The lowest id some group still needs (entries below it are acknowledged everywhere), or null. */
async function firstNeededId(redis: Redis | Cluster, stream: string): Promise<StreamId | null> {
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[];
  // No group: nothing was ever read, so nothing may go.
  if (groups.length === 0) return null;
  let needed: StreamId | null = null;
  for (const group of groups) {
    const info = fieldsOf(group);
    let bound: StreamId | null;
    if (Number(info.get('pending')) > 0) {
      // XPENDING's summary: [count, lowest id, highest id, consumers].
      const summary = (await redis.xpending(stream, String(info.get('name')))) as unknown[];
      bound = parseId(String(summary[1]));
    } else {
      const last = parseId(String(info.get('last-delivered-id')));
      // Everything up to and including the last delivered entry is acknowledged.
      bound = last && [last[0], last[1] + 1n];
    }
    if (bound === null) return null;
    needed = needed === null ? bound : lower(needed, bound);
  }
  return needed;
}

/** Trims what every group has acknowledged; resolves with the number of entries removed. */
export async function trimAcknowledged(redis: Redis | Cluster, stream: string): Promise<number> {
  let needed: StreamId | null;
  try {
    needed = await firstNeededId(redis, stream);
  } catch (error) {
    // No stream yet (no gateway wrote, or Redis restarted empty): nothing to trim.
    if (String((error as Error).message).includes('no such key')) return 0;
    throw error;
  }
  if (needed === null || (needed[0] === 0n && needed[1] <= 1n)) return 0;
  return Number(await redis.xtrim(stream, 'MINID', `${needed[0]}-${needed[1]}`));
}
