// Replies of XREADGROUP and XAUTOCLAIM as plain entries. An entry whose fields are not a request
// event (or that was trimmed from the stream while pending) still has an id, so it can be acked
// instead of being redelivered forever.
import { parseRequestEventFields, type RequestEvent } from '../../../contracts/request-event.js';

export interface StreamEntry {
  readonly streamId: string;
  readonly event: RequestEvent | null;
}

type RawEntry = [id: string, fields: string[] | null];

function toEntries(raw: unknown): StreamEntry[] {
  if (!Array.isArray(raw)) return [];
  return (raw as RawEntry[]).map(([streamId, fields]) => ({ streamId, event: parseRequestEventFields(fields) }));
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
