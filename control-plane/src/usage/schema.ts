// GET /v1/keys/{id}/usage: the key's limits as the gateways see them right now, plus request totals.
import { z } from 'zod';

export const usageParamsSchema = z.strictObject({ id: z.string().max(200).describe('key id (key_…)') });

const totalsSchema = z.strictObject({
  total: z.number().int(),
  by_status: z.record(z.string(), z.number().int()).describe('status code → requests'),
});

export const usageSchema = z
  .strictObject({
    key_id: z.string(),
    tier: z.string(),
    limits: z.array(
      z.strictObject({
        window: z.string(),
        limit: z.number().int(),
        used: z.number().int().describe('units counted in the sliding window now'),
        remaining: z.number().int(),
        reset_seconds: z.number().int().describe("whole seconds until the window's full quota is back"),
      }),
    ),
    totals: z
      .strictObject({ last_hour: totalsSchema, last_day: totalsSchema })
      .describe('requests of this key in request_log (may lag the gateways by a few seconds)'),
  })
  .meta({ id: 'KeyUsage' });

export type Usage = z.infer<typeof usageSchema>;
