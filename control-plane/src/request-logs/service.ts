// Reading request_log, newest first. The cursor is the keyset position (time, event_id) of the
// last row of the page, so pages neither skip nor repeat rows while the writer inserts new ones.
import { z } from 'zod';
import type { Db } from '../db.js';
import { ValidationError } from '../http/errors.js';
import { DEFAULT_PAGE_SIZE, decodeCursor, encodeCursor } from '../http/pagination.js';
import { storableDateTimeSchema } from '../http/storable.js';
import { countRequestsByBucket, listRequestLogs, type RequestCountBucket, type RequestLogRow } from './repository.js';
import type { RequestLogEntry, RequestLogPage } from './schema.js';

const cursorPosition = z.tuple([storableDateTimeSchema, z.string().min(1).max(200)]);

export interface RequestLogListOptions {
  readonly keyId?: string;
  readonly status?: number;
  readonly route?: string;
  /** ISO 8601, inclusive. */
  readonly from?: string;
  /** ISO 8601, exclusive. */
  readonly to?: string;
  /** true: only requests a limit refused; false: only the others. */
  readonly limited?: boolean;
  /** true: only requests a shadow-mode limit would have refused; false: only the others. */
  readonly shadowLimited?: boolean;
  readonly limit?: number;
  readonly cursor?: string;
}

export interface RequestLogService {
  list(options: RequestLogListOptions): Promise<RequestLogPage>;
  /** Requests and rate-limited requests per UTC hour or day (the admin UI's chart and day list). */
  histogram(options: Omit<RequestLogListOptions, 'limit' | 'cursor'>, unit: 'hour' | 'day'): Promise<RequestCountBucket[]>;
}

export function createRequestLogService(db: Db): RequestLogService {
  return {
    async list(options) {
      const limit = options.limit ?? DEFAULT_PAGE_SIZE;
      const from = options.from === undefined ? undefined : new Date(options.from);
      const to = options.to === undefined ? undefined : new Date(options.to);
      if (from && to && from.getTime() > to.getTime()) {
        throw new ValidationError([{ path: 'from', message: 'must not be after to' }]);
      }
      const before =
        options.cursor === undefined
          ? undefined
          : (([time, eventId]) => ({ time: new Date(time), eventId }))(decodeCursor(options.cursor, cursorPosition));
      // One extra row tells whether another page exists.
      const rows = await listRequestLogs(db, {
        keyId: options.keyId,
        status: options.status,
        route: options.route,
        from,
        to,
        limited: options.limited,
        shadowLimited: options.shadowLimited,
        before,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toEntry),
        next_cursor: rows.length > limit && last ? encodeCursor([last.time.toISOString(), last.event_id]) : null,
      };
    },

    histogram(options, unit) {
      return countRequestsByBucket(
        db,
        {
          keyId: options.keyId,
          status: options.status,
          route: options.route,
          from: options.from === undefined ? undefined : new Date(options.from),
          to: options.to === undefined ? undefined : new Date(options.to),
          limited: options.limited,
          shadowLimited: options.shadowLimited,
        },
        unit,
      );
    },
  };
}

function toEntry(row: RequestLogRow): RequestLogEntry {
  return {
    time: row.time.toISOString(),
    key_id: row.key_id,
    tier: row.tier,
    route: row.route,
    method: row.method,
    status: row.status,
    duration_ms: row.duration_ms,
    limited: row.limited,
    client_ip: row.client_ip,
    limited_by: row.limited_by,
    shadow_limited: row.shadow_limited,
  };
}
