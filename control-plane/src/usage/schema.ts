// GET /v1/keys/{id}/usage: the key's limits as the gateways see them right now, plus request totals
// and which limits refused its requests.
import { z } from 'zod';
import { modeSchema } from '../../../contracts/limits.js';

export const usageParamsSchema = z.strictObject({ id: z.string().max(200).describe('key id (key_…)') });

const totalsSchema = z.strictObject({
  total: z.number().int(),
  by_status: z.record(z.string(), z.number().int()).describe('status code → requests'),
  limited_by: z.record(z.string(), z.number().int()).describe('limit name → requests it refused'),
  shadow_limited: z.number().int().describe('requests a shadow-mode limit would have refused (forwarded)'),
});

export const usageSchema = z
  .strictObject({
    key_id: z.string(),
    tier: z.string(),
    mode: modeSchema.describe("the key's mode, or its tier's"),
    limits: z.array(
      z.strictObject({
        name: z.string().describe("the limit's item name in the RateLimit fields: its window, or <route>:<window> for a route's"),
        route: z.string().nullable().describe('the route the limit belongs to (tier route limits), or null for the key’s own'),
        window: z.string(),
        limit: z.number().int(),
        burst: z.number().int().optional().describe('GCRA tiers: units that may go at once'),
        used: z.number().int().describe('units counted in the window (or period) now'),
        remaining: z.number().int(),
        reset_seconds: z.number().int().describe("whole seconds until the limit's full quota is back"),
      }),
    ),
    concurrency: z
      .strictObject({ limit: z.number().int(), in_flight: z.number().int().describe('requests of this key running now, across all gateways') })
      .nullable(),
    last_limited: z
      .strictObject({
        time: z.iso.datetime({ offset: true }),
        limited_by: z.string().describe('the name of the limit that decided'),
        shadow: z.boolean().describe('a shadow-mode limit: the request was forwarded'),
      })
      .nullable()
      .describe('the newest of its requests in the last day that a limit refused (or would have)'),
    totals: z
      .strictObject({ last_hour: totalsSchema, last_day: totalsSchema })
      .describe('requests of this key in request_log (may lag the gateways by a few seconds)'),
  })
  .meta({ id: 'KeyUsage' });

export type Usage = z.infer<typeof usageSchema>;
