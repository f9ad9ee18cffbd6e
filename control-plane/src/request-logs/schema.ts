// GET /v1/request-logs: query filters and the page it returns.
import { z } from 'zod';
import { cursorSchema, pageLimitSchema } from '../http/pagination.js';
import { storableDateTimeSchema } from '../http/storable.js';

const isoTime = storableDateTimeSchema;
const booleanText = z
  .enum(['true', 'false'])
  .transform((value) => value === 'true');

export const requestLogListQuerySchema = z.strictObject({
  key_id: z.string().min(1).max(200).optional().describe('only requests made with this key'),
  status: z
    .string()
    .regex(/^[1-5]\d\d$/, 'must be an HTTP status code from 100 to 599')
    .transform(Number)
    .optional()
    .describe('only responses with this status code'),
  route: z.string().min(1).max(200).optional().describe('only requests to this configured route'),
  from: isoTime.optional().describe('ISO 8601; requests at or after this time'),
  to: isoTime.optional().describe('ISO 8601; requests before this time'),
  limited: booleanText.optional().describe('true: only requests a rate limit refused; false: only the others'),
  shadow_limited: booleanText
    .optional()
    .describe('true: only requests a shadow-mode limit would have refused (they were forwarded); false: only the others'),
  limit: pageLimitSchema,
  cursor: cursorSchema,
});

export const requestLogEntrySchema = z
  .strictObject({
    time: z.iso.datetime().describe('when the gateway answered, ISO 8601 UTC'),
    key_id: z.string().nullable().describe('null when the request had no valid key'),
    tier: z.string().nullable(),
    route: z.string().nullable().describe('configured route name; null when none matched'),
    method: z.string(),
    status: z.number().int(),
    duration_ms: z.number().describe('time the gateway took to answer, in milliseconds'),
    limited: z.boolean().describe('true when a rate limit rejected the request'),
    client_ip: z.string().nullable().describe('the client address the gateway derived (X-Forwarded-For only from trusted proxies)'),
    limited_by: z.string().nullable().describe('name of the limit that refused the request, as in its RateLimit items; null when none did'),
    shadow_limited: z.boolean().describe('true when a shadow-mode limit would have refused it (it was forwarded)'),
  })
  .meta({ id: 'RequestLogEntry' });

export const requestLogPageSchema = z
  .strictObject({
    items: z.array(requestLogEntrySchema),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'RequestLogPage' });

export type RequestLogListQuery = z.output<typeof requestLogListQuerySchema>;
export type RequestLogEntry = z.infer<typeof requestLogEntrySchema>;
export type RequestLogPage = z.infer<typeof requestLogPageSchema>;
