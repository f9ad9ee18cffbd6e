// Replies of XREADGROUP and XAUTOCLAIM as plain entries, each a batch of events. An entry whose
// fields are not request events still has an id, so it can be acked instead of being redelivered
// forever.
import { parseRequestEventEntry, type RequestEvent } from '../../../contracts/request-event.js';

export interface StreamEntry {
  readonly streamId: string;
  readonly events: readonly RequestEvent[];
  /** Lines or entries that were not events. */
  readonly invalid: number;
}

type RawEntry = [id: string, fields: string[] | null];

function toEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return (raw as RawEntry[]).map(([streamId, fields]) => ({ streamId, ...parseRequestEventEntry(fields) }));
}

/** `[[stream, [[id, fields]…]]]` or null (BLOCK timed out). */
export function entriesFromReadGroup(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply)) return [];
  const first = reply[0] as [string, unknown] | undefined;
  return toEntries(first?.[1]);
}

/** `[next cursor, [[id, fields]…], [deleted ids]]`. */
export function entriesFromAutoClaim(reply: unknown): { cursor: string; entries: StreamEntry[]; deleted: string[] } {
  const [cursor, entries, deleted] = (Array.isArray(reply) ? reply : []) as [unknown, unknown, unknown];
  return {
    cursor: typeof cursor === 'string' ? cursor : '0-0',
    entries: toEntries(entries),
    deleted: Array.isArray(deleted) ? (deleted as string[]) : [],
  };
}
