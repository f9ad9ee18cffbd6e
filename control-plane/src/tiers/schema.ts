// Tier request and response shapes. The limit shapes come from contracts/limits.ts so the control
// plane validates exactly what gateways enforce.
import { z } from 'zod';
import {
  algorithmSchema,
  concurrencySchema,
  limitSchema,
  limitsSchema,
  modeSchema,
  routeLimitsSchema,
  tierNameSchema,
  tierPolicyIssues,
  timezoneSchema,
} from '../../../contracts/limits.js';

const descriptionSchema = z.string().max(1000).describe('free text for operators');

export const createTierSchema = z
  .strictObject({
    name: tierNameSchema.describe('unique tier name'),
    description: descriptionSchema.nullable().optional(),
    limits: limitsSchema.describe('every limit must admit a request; at most one limit per window'),
    algorithm: algorithmSchema.optional().describe('default sliding_window'),
    timezone: timezoneSchema.optional().describe('default UTC: the time zone of day and month windows (IANA name)'),
    mode: modeSchema.optional().describe('default enforce'),
    concurrency: concurrencySchema.nullable().optional().describe('most requests of one key in flight across all gateways; default none'),
    route_limits: routeLimitsSchema.nullable().optional(),
  })
  .superRefine((tier, ctx) => {
    for (const issue of tierPolicyIssues({ ...tier, algorithm: tier.algorithm ?? 'sliding_window' })) ctx.addIssue({ code: 'custom', ...issue });
  })
  .meta({ id: 'TierCreate' });

export const updateTierSchema = z
  .strictObject({
    description: descriptionSchema.nullable().optional().describe('null clears it'),
    limits: limitsSchema.optional(),
    algorithm: algorithmSchema.optional(),
    timezone: timezoneSchema.optional(),
    mode: modeSchema.optional().describe('shadow → enforce reaches every gateway within a second'),
    concurrency: concurrencySchema.nullable().optional().describe('null removes the cap'),
    route_limits: routeLimitsSchema.nullable().optional().describe('null removes them'),
  })
  .refine((body) => Object.keys(body).length > 0, 'at least one field must be given')
  .meta({ id: 'TierUpdate' });

export const tierParamsSchema = z.strictObject({ name: z.string().max(200).describe('tier name') });

export const tierSchema = z
  .strictObject({
    name: tierNameSchema,
    description: z.string().nullable(),
    limits: z.array(limitSchema),
    algorithm: algorithmSchema,
    timezone: z.string(),
    mode: modeSchema,
    concurrency: z.number().int().nullable(),
    route_limits: z.record(z.string(), z.array(limitSchema)).nullable(),
    created_at: z.iso.datetime({ offset: true }),
    updated_at: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Tier' });

export const tierListSchema = z.strictObject({ items: z.array(tierSchema) }).meta({ id: 'TierList' });

export type CreateTier = z.output<typeof createTierSchema>;
export type UpdateTier = z.output<typeof updateTierSchema>;
export type Tier = z.infer<typeof tierSchema>;
